// crypto::random_bytes: every byte handed out once, across blocks, threads and fork().
#include "crypto/random_bytes.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Draw = std::array<std::uint8_t, 32>;

Draw draw() {
  Draw d{};
  datahub::crypto::random_bytes(d.data(), d.size());
  return d;
}

bool all_zero(const Draw& d) {
  return std::all_of(d.begin(), d.end(), [](std::uint8_t b) { return b == 0; });
}

// A thread-local object whose destructor draws: made before the thread's first draw, it is
// destroyed after the thread's block.
struct DrawsAtThreadExit {
  Draw* into = nullptr;
  ~DrawsAtThreadExit() {
    if (into) *into = draw();
  }
};

}  // namespace

TEST_CASE("random_bytes never hands out the same bytes twice, across blocks") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {  // 12 kB: the block is drawn again about three times
    std::array<std::uint8_t, 12> nonce{};
    datahub::crypto::random_bytes(nonce.data(), nonce.size());
    CHECK(seen.emplace(nonce.begin(), nonce.end()).second);
  }
  std::array<std::uint8_t, 3000> large{};  // beyond what the block serves: drawn directly
  datahub::crypto::random_bytes(large.data(), large.size());
  CHECK(std::count(large.begin(), large.end(), 0) < 100);
}

TEST_CASE("threads drawing at once get bytes of their own") {  // a shared block: the TSan stage
  std::array<std::vector<Draw>, 3> draws;
  std::vector<std::thread> threads;
  for (auto& mine : draws) {
    threads.emplace_back([&mine] {
      for (int i = 0; i < 300; ++i) mine.push_back(draw());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& mine : draws) {
    for (const Draw& d : mine) CHECK(seen.emplace(d.begin(), d.end()).second);
  }
}

TEST_CASE("a draw after the thread's block is gone goes to the system RNG") {
  Draw late{};
  std::thread([&] {
    thread_local DrawsAtThreadExit at_exit;
    at_exit.into = &late;
    draw();  // creates the block, after at_exit: the block is destroyed first
  }).join();
  CHECK_FALSE(all_zero(late));
}

TEST_CASE("a child process does not draw the bytes its parent draws next") {
  // Five draws of 1000 bytes make at least one refill of the 4080-byte block, after which
  // it holds 80 + k * 1000 bytes: the next 32-byte draw, in parent and child alike, comes
  // from bytes the parent held at fork(), not from a refill that would hide a shared block.
  std::array<std::uint8_t, 1000> chunk{};
  for (int i = 0; i < 5; ++i) datahub::crypto::random_bytes(chunk.data(), chunk.size());
  if (!datahub::crypto::random_bytes_buffered()) {
    MESSAGE("no MADV_WIPEONFORK here: every draw goes to the system RNG, nothing to test");
    return;
  }
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    try {
      const Draw d = draw();
      _exit(write(pipe_fds[1], d.data(), d.size()) == static_cast<ssize_t>(d.size()) ? 0 : 1);
    } catch (...) {
      _exit(2);  // never back into the test runner
    }
  }
  close(pipe_fds[1]);
  Draw from_child{};
  const ssize_t got = read(pipe_fds[0], from_child.data(), from_child.size());
  close(pipe_fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(got == static_cast<ssize_t>(from_child.size()));
  REQUIRE(WIFEXITED(status));
  const Draw from_parent = draw();
  CHECK_FALSE(all_zero(from_child));  // not the wiped page itself
  CHECK(from_child != from_parent);
}
