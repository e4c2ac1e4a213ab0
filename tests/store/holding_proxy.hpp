// A TCP proxy to the test server that holds open the window between a backend's goodbye
// and its EOF: when the server closes a connection, the bytes it sent last (a FATAL
// message) are passed on, but the client's side stays open until the client writes to it.
// Real backends close right after the goodbye, so without the proxy that window is too
// short to test.
#pragma once

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace test {

class HoldingProxy {
 public:
  explicit HoldingProxy(int server_port) : server_port_(server_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 8) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("holding proxy: cannot listen");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  HoldingProxy(const HoldingProxy&) = delete;
  HoldingProxy& operator=(const HoldingProxy&) = delete;
  ~HoldingProxy() {
    stop_ = true;
    thread_.join();
    for (const Pair& pair : pairs_) {
      if (pair.client >= 0) ::close(pair.client);
      if (pair.server >= 0) ::close(pair.server);
    }
    ::close(listener_);
  }

  int port() const { return port_; }
  // Connections the server has closed, their last bytes passed on to the client.
  int server_closes() const { return server_closes_; }

 private:
  struct Pair {
    int client, server;  // -1 once closed
  };

  static sockaddr_in loopback(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  // Copies what `from` has to `to`; false when `from` is at EOF or failed.
  static bool pass_on(int from, int to) {
    char buffer[16384];
    const ssize_t got = ::read(from, buffer, sizeof buffer);
    if (got <= 0) return false;
    for (ssize_t sent = 0; sent < got;) {
      const ssize_t n = to >= 0 ? ::write(to, buffer + sent, static_cast<std::size_t>(got - sent)) : got;
      if (n <= 0) return false;
      sent += n;
    }
    return true;
  }

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const Pair& pair : pairs_) {
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.server, POLLIN, 0});  // a negative fd is ignored by poll
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      const std::size_t polled = pairs_.size();
      if (fds[0].revents & POLLIN) accept_one();
      for (std::size_t i = 0; i < polled; ++i) {
        Pair& pair = pairs_[i];
        if (pair.server >= 0 && fds[2 + 2 * i].revents && !pass_on(pair.server, pair.client)) {
          ::close(pair.server);  // the client keeps its side: the window stays open
          pair.server = -1;
          wait_until_delivered(pair.client);
          ++server_closes_;
        }
        if (pair.client >= 0 && fds[1 + 2 * i].revents && (pair.server < 0 || !pass_on(pair.client, pair.server))) {
          ::close(pair.client);  // the client wrote after the server left: now it sees the EOF
          pair.client = -1;
        }
      }
    }
  }

  // Even over loopback the kernel may hand written bytes to the peer a little later: waits
  // (at most 5 s) until the client's end has acknowledged all of them, so they are there
  // for it to read.
  static void wait_until_delivered(int fd) {
    int unacknowledged = 0;
    for (int tries = 0; tries < 5000 && ::ioctl(fd, SIOCOUTQ, &unacknowledged) == 0 && unacknowledged > 0; ++tries)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void accept_one() {
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in address = loopback(server_port_);
    if (server < 0 || ::connect(server, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(client);
      if (server >= 0) ::close(server);
      return;
    }
    pairs_.push_back({client, server});
  }

  int server_port_;
  int listener_ = -1;
  int port_ = 0;
  std::vector<Pair> pairs_;  // the proxy thread's own
  std::atomic<bool> stop_{false};
  std::atomic<int> server_closes_{0};
  std::thread thread_;
};

}  // namespace test
