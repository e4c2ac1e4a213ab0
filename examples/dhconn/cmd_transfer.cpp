// dhconn export / import: JSON lines, secrets left out or sealed to a passphrase.
#include "cli_errors.hpp"
#include "commands.hpp"
#include "fd_input.hpp"
#include "secret_input.hpp"

#include <datahub/transfer.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <iostream>
#include <sstream>

namespace dhconn {
namespace {

struct ExportFlags {
  std::string output, kdf = "argon2id", type, name_prefix;
  std::vector<std::string> tags_all, tags_any;
  bool seal = false;
  SecretFlags passphrase;
};

struct ImportFlags {
  std::string input;
  bool dry_run = false;
  SecretFlags passphrase;
};

// The file is created owner-only: even without secrets it maps the infrastructure. An
// existing path must be our own regular file, checked before it is truncated: a symlink
// planted in a shared directory would redirect the export, and a file someone else owns
// stays readable by them whatever mode we ask for.
void write_file(const std::string& path, const std::string& text) {
  // O_NONBLOCK: a FIFO planted there fails at once (no reader) instead of hanging us.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    throw ExitError(kOther, "cannot write " + path + ": " +
                                (error == ELOOP ? std::string("it is a symlink") : std::strerror(error)));
  }
  const auto fail = [&](const std::string& why) {
    ::close(fd);
    throw ExitError(kOther, "cannot write " + path + ": " + why);
  };
  struct stat st {};
  if (fstat(fd, &st) != 0) fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) fail("it must be a regular file of your own");
  if (fchmod(fd, 0600) != 0 || ftruncate(fd, 0) != 0) fail(std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw ExitError(kOther, "cannot write " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw ExitError(kOther, "cannot write " + path);
}

int run_export(const Context& context, const ExportFlags& flags) {
  datahub::ExportOptions options;
  options.kdf = flags.kdf == "scrypt" ? datahub::PassphraseKdf::scrypt : datahub::PassphraseKdf::argon2id;
  if (!flags.type.empty()) options.filter.type = flags.type;
  if (!flags.name_prefix.empty()) options.filter.name_prefix = flags.name_prefix;
  options.filter.tags_all = flags.tags_all;
  options.filter.tags_any = flags.tags_any;
  Secret passphrase;
  if (flags.seal || flags.passphrase.given()) {
    passphrase = read_secret(flags.passphrase, "Passphrase to seal the secrets with", /*confirm=*/true);
    // The library takes an empty passphrase as "leave the secrets out": not what was asked.
    if (passphrase.value().empty()) throw UsageError("the passphrase is empty: nothing would be sealed");
    options.passphrase = passphrase.value();
  }
  auto store = context.open_store();
  std::ostringstream buffer;
  const auto report = datahub::export_connections(*store, buffer, options);
  if (options.passphrase) std::fill(options.passphrase->begin(), options.passphrase->end(), '\0');
  if (flags.output.empty() || flags.output == "-") {
    std::cout << buffer.str();
    check_stdout();  // before the report below says it was exported
  } else {
    write_file(flags.output, buffer.str());
  }
  std::cerr << "exported " << report.records << " connection(s): " << report.sealed << " with sealed secrets, "
            << report.redacted << " with secrets left out\n";
  return kOk;
}

int run_import(const Context& context, const ImportFlags& flags) {
  const bool from_stdin = flags.input == "-";
  if (from_stdin && flags.passphrase.from_stdin) throw UsageError("stdin cannot carry both the file and the passphrase");
  // The file's name is not repeated: a passphrase typed after --passphrase-stdin lands
  // here as FILE, and "cannot read <it>" would echo it (docs/cli.md). The reason is enough.
  const std::string what = from_stdin ? "standard input" : "the import file";
  // A directory opens, then fails at the first read (or reads as empty on stdin).
  struct stat st {};
  if ((from_stdin ? fstat(STDIN_FILENO, &st) : stat(flags.input.c_str(), &st)) == 0 && S_ISDIR(st.st_mode))
    throw UsageError("cannot read " + what + ": it is a directory");
  int fd = STDIN_FILENO;
  if (!from_stdin) {
    fd = ::open(flags.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw UsageError("cannot read " + what + ": " + std::strerror(errno) +
                               " (not repeated here: it may be a secret)");
  }
  struct CloseOnExit {
    int fd;
    ~CloseOnExit() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } close_on_exit{fd};
  FdInputBuffer buffer(fd);
  std::istream in(&buffer);
  datahub::ImportOptions options;
  options.dry_run = flags.dry_run;
  // A passphrase given by a flag is read now, before the import can lock the table; a
  // prompt comes only if a sealed line does (docs/cli.md).
  std::optional<Secret> given;
  if (flags.passphrase.given()) given.emplace(read_secret(flags.passphrase, ""));
  options.passphrase = [&given, &flags, from_stdin] {
    if (given) return given->value();
    if (from_stdin || !stdin_is_terminal())
      throw UsageError("the file has sealed secrets: pass --passphrase-file or --passphrase-stdin");
    return read_secret(flags.passphrase, "Passphrase the secrets were sealed with").value();
  };
  auto store = context.open_store();
  const auto result = datahub::import_connections(*store, in, options);
  if (!result.errors.empty()) {
    bool key_problem = false;
    for (const auto& e : result.errors) {
      std::cerr << "dhconn: line " << e.line << ": " << printable(e.message) << "\n";
      key_problem = key_problem || e.code == datahub::ErrorCode::integrity || e.code == datahub::ErrorCode::key_unavailable;
    }
    return dhconn::report(key_problem ? kKeyProblem : kUsage,
                  "nothing imported: " + std::to_string(result.errors.size()) + " line(s) failed");
  }
  std::cout << (result.written ? "imported " : "checked ") << result.records << " connection(s): " << result.sealed
            << " with sealed secrets, " << result.without_secrets << " without secrets"
            << (result.written ? "" : "; nothing written (dry run)") << "\n";
  return kOk;
}

}  // namespace

void add_export_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ExportFlags>();
  auto* sub = app.add_subcommand("export", "Write connections as JSON lines; secrets left out, or sealed with --seal");
  sub->add_option("--output,-o", flags->output, "file to write (created mode 0600; - or default: stdout)")
      ->check(non_empty());
  sub->add_flag("--seal", flags->seal, "seal the secrets to a passphrase (prompted for, twice)");
  add_secret_flags(sub, flags->passphrase, "passphrase");
  sub->add_option("--kdf", flags->kdf, "passphrase stretching: argon2id or scrypt")
      ->check(CLI::IsMember({"argon2id", "scrypt"}))
      ->capture_default_str();
  sub->add_option("--type", flags->type, "only this type")->check(non_empty());
  sub->add_option("--tag", flags->tags_all, "must have this tag (repeat: all of them)");
  sub->add_option("--any-tag", flags->tags_any, "must have one of these tags (repeatable)");
  sub->add_option("--name-prefix", flags->name_prefix, "name starts with this")->check(non_empty());
  on_run(sub, context, [&context, flags] { return run_export(context, *flags); });
}

void add_import_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ImportFlags>();
  auto* sub = app.add_subcommand(
      "import", "Restore an export (same ids) in one transaction; nothing is written unless every line is good");
  sub->add_option("file", flags->input, "export file, or - for stdin")->required()->check(non_empty());
  add_secret_flags(sub, flags->passphrase, "passphrase");
  sub->add_flag("--dry-run", flags->dry_run, "check every line, write nothing");
  on_run(sub, context, [&context, flags] { return run_import(context, *flags); });
}

}  // namespace dhconn
