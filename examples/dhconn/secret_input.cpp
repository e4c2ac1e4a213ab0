#include "secret_input.hpp"

#include "cli_errors.hpp"

#include <botan/mem_ops.h>

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace dhconn {
namespace {

// A password is at most 1024 characters, and a passphrase is typed: anything longer is
// the wrong file (or /dev/zero), and is not read to its end.
constexpr std::size_t kMaxSecretBytes = 64 * 1024;

void drop_trailing_newline(std::string& s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
}

// Turns terminal echo off for its lifetime.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~NoEcho() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

Secret prompt_once(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  NoEcho quiet;
  std::string line;
  if (!std::getline(std::cin, line)) throw UsageError("no input at the prompt");
  return Secret(std::move(line));
}

}  // namespace

Secret& Secret::operator=(Secret&& other) noexcept {
  wipe();
  value_ = std::move(other.value_);
  other.wipe();
  return *this;
}

void Secret::wipe() noexcept {
  if (!value_.empty()) Botan::secure_scrub_memory(&value_[0], value_.size());
  value_.clear();
}

bool stdin_is_terminal() { return isatty(STDIN_FILENO) == 1; }

namespace {

// CLI::ExistingFile repeats the path ("File does not exist: hunter2"), and the secret itself
// typed where its file was meant (`--password-file hunter2`) would be echoed: say why only.
const CLI::Validator& existing_secret_file() {
  static const CLI::Validator validator(
      [](std::string& path) -> std::string {
        if (path.empty()) return "must not be empty";
        struct stat st {};
        if (stat(path.c_str(), &st) != 0)
          return std::string(std::strerror(errno)) + " (the path is not repeated here: it may be a secret)";
        return S_ISDIR(st.st_mode) ? "is a directory, not a file" : "";
      },
      "", "FILE");
  return validator;
}

// Reads at most kMaxSecretBytes (and a line end) into one buffer sized up front: it never
// grows, so no copy of the secret is freed unwiped.
Secret read_bounded(std::istream& in, const std::string& source) {
  std::string buffer(kMaxSecretBytes + 3, '\0');  // + "\r\n" + one byte to tell "longer"
  in.read(&buffer[0], static_cast<std::streamsize>(buffer.size()));
  const bool filled = static_cast<std::size_t>(in.gcount()) == buffer.size();
  buffer.resize(static_cast<std::size_t>(in.gcount()));
  drop_trailing_newline(buffer);
  Secret secret(std::move(buffer));  // wiped from here on, also when refused below
  if (filled || secret.value().size() > kMaxSecretBytes)
    throw UsageError("what was read from " + source + " is longer than " + std::to_string(kMaxSecretBytes) +
                     " bytes: not a password or passphrase");
  return secret;
}

}  // namespace

void add_secret_flags(CLI::App* sub, SecretFlags& flags, const std::string& what) {
  flags.what = what;
  auto* in = sub->add_flag("--" + what + "-stdin", flags.from_stdin, "read the " + what + " from standard input");
  auto* file = sub->add_option("--" + what + "-file", flags.file, "read the " + what + " from this file")
                   ->check(existing_secret_file());
  in->excludes(file);
}

Secret read_secret(const SecretFlags& flags, const std::string& prompt, bool confirm) {
  if (flags.from_stdin) return read_bounded(std::cin, "standard input");
  if (!flags.file.empty()) {
    // Named by its flag, not its path (see existing_secret_file).
    const std::string source = "the " + flags.what + " file";
    errno = 0;
    std::ifstream in(flags.file, std::ios::binary);
    if (!in) throw UsageError("cannot read " + source + (errno ? std::string(": ") + std::strerror(errno) : ""));
    return read_bounded(in, source);
  }
  if (!stdin_is_terminal()) throw UsageError("no terminal to prompt on: use the -stdin or -file flag");
  Secret first = prompt_once(prompt + ": ");
  if (confirm) {
    Secret again = prompt_once("Again: ");
    if (again.value() != first.value()) throw UsageError("the two entries differ");
  }
  return first;
}

}  // namespace dhconn
