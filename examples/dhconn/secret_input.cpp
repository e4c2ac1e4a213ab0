#include "secret_input.hpp"

#include "cli_errors.hpp"

#include <botan/mem_ops.h>

#include <signal.h>
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

// A signal that ends the process at the prompt (^C) skips ~NoEcho: the terminal was left
// without echo. While echo is off, these signals restore it first, then take their previous
// course (so ^C still ends dhconn "killed by SIGINT"). One prompt at a time: plain globals.
termios g_saved_termios;
termios g_quiet_termios;
constexpr int kEndingSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
constexpr std::size_t kSignalCount = sizeof kEndingSignals / sizeof kEndingSignals[0];
struct sigaction g_previous[kSignalCount];
bool g_handled[kSignalCount];  // false where the signal was ignored: left so

// The ending signals, as a set: each one's handler blocks the others (no handler runs
// inside another), and ~NoEcho blocks them while it puts echo and the handlers back.
sigset_t ending_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kEndingSignals) sigaddset(&set, sig);
  return set;
}

// Async-signal-safe only: tcsetattr, sigaction, pthread_sigmask, raise.
extern "C" void restore_terminal_and_reraise(int sig) {
  const int saved_errno = errno;
  // FLUSH, as ~NoEcho does: a half-typed secret is not left for the shell to read.
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  std::size_t i = 0;
  while (kEndingSignals[i] != sig) ++i;
  struct sigaction ours {};
  sigaction(sig, &g_previous[i], &ours);
  sigset_t just_this;
  sigemptyset(&just_this);
  sigaddset(&just_this, sig);
  pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);  // delivered now, inside raise()
  raise(sig);
  // Still here: the previous course was a handler that returned, or a stop (^Z) that was
  // continued. Back to the prompt, echo off again.
  sigaction(sig, &ours, nullptr);
  tcsetattr(STDIN_FILENO, TCSANOW, &g_quiet_termios);
  errno = saved_errno;
}

// Turns terminal echo off for its lifetime.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    g_quiet_termios = g_saved_termios;
    g_quiet_termios.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    g_quiet_termios.c_lflag |= ECHONL;
    struct sigaction handler {};
    handler.sa_handler = restore_terminal_and_reraise;
    handler.sa_mask = ending_signals();
    handler.sa_flags = SA_RESTART;  // a continued ^Z goes back to reading the prompt
    for (std::size_t i = 0; i < kSignalCount; ++i) {
      g_handled[i] = sigaction(kEndingSignals[i], nullptr, &g_previous[i]) == 0 &&
                     g_previous[i].sa_handler != SIG_IGN &&  // (nohup, a background job's ^C)
                     sigaction(kEndingSignals[i], &handler, nullptr) == 0;
    }
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_quiet_termios) == 0;
    if (!active_) restore_handlers();
  }
  ~NoEcho() {
    if (!active_) return;
    // With the signals held: a ^Z between the two steps would stop in our handler and, once
    // continued, turn echo off again for good. Held ones arrive after, to their old course.
    const sigset_t hold = ending_signals();
    sigset_t before;
    pthread_sigmask(SIG_BLOCK, &hold, &before);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
    restore_handlers();
    pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  static void restore_handlers() {
    for (std::size_t i = 0; i < kSignalCount; ++i) {
      if (g_handled[i]) sigaction(kEndingSignals[i], &g_previous[i], nullptr);
    }
  }
  bool active_ = false;
};

Secret prompt_once(const std::string& prompt) {
  NoEcho quiet;  // first: nothing typed once the prompt shows is echoed
  std::cerr << prompt << std::flush;
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
