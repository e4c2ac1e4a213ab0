// Reading a password or passphrase without it ever being an argument: a no-echo prompt on
// a terminal, standard input, or a file.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace dhconn {

// A string wiped when it goes away.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { wipe(); }
  const std::string& value() const noexcept { return value_; }

 private:
  void wipe() noexcept;
  std::string value_;
};

// Where a command reads its secret from, as given by its flags.
struct SecretFlags {
  bool from_stdin = false;  // --<what>-stdin
  std::string file;         // --<what>-file PATH
  std::string what;         // "password", "passphrase": set by add_secret_flags, for messages
  bool given() const { return from_stdin || !file.empty(); }
};

// Adds --<what>-stdin and --<what>-file (mutually exclusive) to `sub`.
void add_secret_flags(CLI::App* sub, SecretFlags& flags, const std::string& what);

// Reads from the flags' source; without one, prompts on the terminal (twice with
// `confirm`). Throws UsageError when there is no source and stdin is not a terminal.
// A single trailing newline is dropped from stdin and files.
Secret read_secret(const SecretFlags& flags, const std::string& prompt, bool confirm = false);

bool stdin_is_terminal();

}  // namespace dhconn
