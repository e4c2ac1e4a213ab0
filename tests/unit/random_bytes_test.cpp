// crypto::random_bytes: every byte handed out once, also across fork().
#include "crypto/random_bytes.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>

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

}  // namespace

TEST_CASE("random_bytes never hands out the same bytes twice, across blocks") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {  // about 8 blocks of 4 KiB
    std::array<std::uint8_t, 12> nonce{};
    datahub::crypto::random_bytes(nonce.data(), nonce.size());
    CHECK(seen.emplace(nonce.begin(), nonce.end()).second);
  }
  std::array<std::uint8_t, 3000> large{};  // beyond what the block serves: drawn directly
  datahub::crypto::random_bytes(large.data(), large.size());
  CHECK(std::count(large.begin(), large.end(), 0) < 100);
}

TEST_CASE("a child process does not draw the bytes its parent draws next") {
  draw();  // the parent's block is filled now; a child must not hand out what is left of it
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const Draw d = draw();
    const bool sent = write(pipe_fds[1], d.data(), d.size()) == static_cast<ssize_t>(d.size());
    _exit(sent ? 0 : 1);
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
