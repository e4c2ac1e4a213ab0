// StaticKeyring::from_file: owner-only, strict JSON, regular files only, and no key id
// (which may be key material pasted in the wrong place) in any message.
#include "store/support.hpp"

#include <botan/base64.h>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace {

std::string keyring_path() { return "/tmp/datahub-keyring-test-" + std::to_string(::getpid()) + ".json"; }

void write_keyring(const std::string& path, const std::string& text, mode_t mode = 0600) {
  ::unlink(path.c_str());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

// The InvalidArgument that from_file(path) throws; fails the test if it accepts the file.
datahub::InvalidArgument refusal_of(const std::string& path) {
  try {
    datahub::StaticKeyring::from_file(path);
  } catch (const datahub::InvalidArgument& e) {
    return e;
  }
  FAIL("keyring file accepted");
  return datahub::InvalidArgument("", "");
}

}  // namespace

TEST_CASE("keyring file: owner-only, validated") {
  const std::string path = keyring_path();
  const std::string k1 = Botan::base64_encode(test::key_material("k1"));
  const std::string k2 = Botan::base64_encode(test::key_material("k2"));
  auto write = [&](const std::string& text, mode_t mode) { write_keyring(path, text, mode); };
  write("{\"primary\": \"k2\", \"keys\": {\"k1\": \"" + k1 + "\", \"k2\": \"" + k2 + "\"}}", 0600);
  const auto ring = datahub::StaticKeyring::from_file(path);
  CHECK(ring->primary_key_id() == "k2");
  CHECK(ring->key_ids() == std::vector<std::string>{"k1", "k2"});

  ::chmod(path.c_str(), 0640);
  CHECK_THROWS_AS(datahub::StaticKeyring::from_file(path), datahub::InvalidArgument);
  ::chmod(path.c_str(), 0604);
  CHECK_THROWS_AS(datahub::StaticKeyring::from_file(path), datahub::InvalidArgument);
  // Mode 0600 but another user's: it may hold keys of that user's choosing. (chown needs
  // root, as the tests run in CI.)
  ::chmod(path.c_str(), 0600);
  if (::geteuid() == 0 && ::chown(path.c_str(), 65534, 65534) == 0) {
    CHECK(std::string(refusal_of(path).what()).find("owned by another user") != std::string::npos);
  } else {
    MESSAGE("not root: the owner check is not exercised");
  }
  write("{\"primary\": \"k1\", \"keys\": {\"k1\": \"c2hvcnQ=\"}}", 0600);  // 5 bytes
  try {
    datahub::StaticKeyring::from_file(path);
    FAIL("short key accepted");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(std::string(e.what()).find("c2hvcnQ") == std::string::npos);
  }
  write("{\"primary\": \"k3\", \"keys\": {\"k1\": \"" + k1 + "\"}}", 0600);
  CHECK_THROWS_AS(datahub::StaticKeyring::from_file(path), datahub::InvalidArgument);
  write("not json", 0600);
  CHECK_THROWS_AS(datahub::StaticKeyring::from_file(path), datahub::InvalidArgument);
  ::unlink(path.c_str());
  CHECK_THROWS_AS(datahub::StaticKeyring::from_file(path), datahub::InvalidArgument);
}

// Swapped ids and keys put key material where an id belongs; unpadded base64 of 33 bytes
// with no '+' even passes the key-id alphabet. Messages name entries by position.
TEST_CASE("keyring file: messages never echo a key id") {
  const std::string path = keyring_path();
  const std::string key = Botan::base64_encode(test::key_material("k1"));
  const std::string unpadded = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx";
  const auto keys_of = [](const std::string& members) { return "\"keys\": {" + members + "}}"; };
  const std::vector<std::string> files{
      "{\"primary\": \"k1\", " + keys_of("\"" + key + "\": \"k1\""),
      "{\"primary\": \"k1\", " + keys_of("\"" + unpadded + "\": \"k1\""),
      "{\"primary\": \"" + key + "\", " + keys_of("\"k1\": \"" + key + "\""),
      "{\"primary\": \"" + unpadded + "\", " + keys_of("\"k1\": \"" + key + "\""),
      "{\"primary\": \"k1\", " + keys_of("\"k1\": \"" + key + "\", \"" + unpadded + "\": \"" + key +
                                         "\", \"" + unpadded + "\": \"" + key + "\""),
  };
  for (const auto& text : files) {
    CAPTURE(text);
    write_keyring(path, text);
    const datahub::InvalidArgument e = refusal_of(path);
    CHECK(e.field() == path);
    CHECK(std::string(e.what()).find(key) == std::string::npos);
    CHECK(std::string(e.what()).find(unpadded) == std::string::npos);
  }
  ::unlink(path.c_str());
}

TEST_CASE("keyring file: the whole file is one strict JSON object") {
  const std::string path = keyring_path();
  const std::string key = Botan::base64_encode(test::key_material("k1"));
  const std::string keys = "\"keys\": {\"k1\": \"" + key + "\", \"k2\": \"" + key + "\"}";
  const std::string valid = "{\"primary\": \"k1\", " + keys + "}";
  write_keyring(path, valid + "\n");
  CHECK(datahub::StaticKeyring::from_file(path)->primary_key_id() == "k1");
  const std::vector<std::pair<std::string, std::string>> refused{
      {"a duplicate primary", "{\"primary\": \"k1\", \"primary\": \"k2\", " + keys + "}"},
      {"a duplicate keys", "{\"primary\": \"k1\", " + keys + ", " + keys + "}"},
      {"a NUL byte, then garbage", valid + std::string("\0", 1) + "{\"primary\": \"k2\"}garbage"},
      {"a NUL byte at the end", valid + std::string("\0", 1)},
      {"text after the object", valid + " garbage"},
      {"a second object", valid + valid},
      {"\\u0000 in the primary", "{\"primary\": \"k1\\u0000k2\", " + keys + "}"},
      {"\\u0000 in a key id", "{\"primary\": \"k1\", \"keys\": {\"k1\\u0000\": \"" + key + "\"}}"},
      {"invalid UTF-8 in the primary", "{\"primary\": \"k1\xff\xfe\", " + keys + "}"},
      {"invalid UTF-8 in a key id", "{\"primary\": \"k1\", \"keys\": {\"k1\xc3\": \"" + key + "\"}}"},
      {"a lone surrogate in the primary", "{\"primary\": \"k1\\udc00\", " + keys + "}"},
      {"a primary outside the key-id rule", "{\"primary\": \"k 1\", " + keys + "}"},
      {"an unknown member, not quoted", "{\"primary\": \"k1\", " + keys + ", \"" + key + "\": \"k1\"}"},
  };
  for (const auto& [what, text] : refused) {
    CAPTURE(what);
    write_keyring(path, text);
    const datahub::InvalidArgument e = refusal_of(path);
    CHECK(e.field() == path);
    const std::string message = e.what();
    CHECK(message.find(key) == std::string::npos);
    CHECK(message.find('\xff') == std::string::npos);
    CHECK(message.find("k1\xc3") == std::string::npos);
  }
  ::unlink(path.c_str());
}

TEST_CASE("keyring file: a FIFO, a device or a symlink is refused at once") {
  const std::string path = keyring_path();
  ::unlink(path.c_str());
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  // Should from_file wait in open() for a writer, this watchdog becomes that writer after a
  // few seconds: the test then fails instead of hanging.
  std::atomic<bool> returned{false}, rescued{false};
  std::thread watchdog([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!returned) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (std::chrono::steady_clock::now() < deadline) continue;
      const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) {
        rescued = true;
        ::close(fd);
      }
    }
  });
  const datahub::InvalidArgument fifo = refusal_of(path);
  returned = true;
  watchdog.join();
  CHECK_FALSE(rescued);
  CHECK(fifo.field() == path);
  ::unlink(path.c_str());

  CHECK(refusal_of("/dev/null").field() == "/dev/null");

  // Symlinks are not followed (docs/key-management.md), even to a valid keyring.
  const std::string target = path + ".target";
  write_keyring(target, "{\"primary\": \"k1\", \"keys\": {\"k1\": \"" +
                            Botan::base64_encode(test::key_material("k1")) + "\"}}");
  REQUIRE(::symlink(target.c_str(), path.c_str()) == 0);
  CHECK(refusal_of(path).field() == path);
  CHECK(datahub::StaticKeyring::from_file(target)->primary_key_id() == "k1");
  ::unlink(path.c_str());
  ::unlink(target.c_str());
}
