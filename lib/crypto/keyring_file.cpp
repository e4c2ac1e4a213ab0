// StaticKeyring::from_file: a JSON keyring that only its owner may read.
#include "crypto/base64.hpp"

#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace datahub {
namespace {

constexpr off_t kMaxFileBytes = 1 << 20;

// Strict: valid UTF-8, and (without kParseStopWhenDoneFlag) nothing but whitespace after
// the object. Iterative, so deep nesting cannot overflow the stack.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void throw_cannot_open(const std::string& path) {
  const int error = errno;
  throw InvalidArgument(path, std::string("cannot open keyring file: ") + std::strerror(error));
}

// Anything but a regular file is refused before it is opened: opening a device can do
// something (a watchdog, a tape). No symlink is followed.
FileDescriptor open_keyring(const std::string& path) {
#ifdef O_PATH
  // Linux: an O_PATH descriptor pins the inode without opening it (no driver is called).
  // Once fstat shows a regular file, that very inode is opened through /proc, so the path
  // cannot be swapped between the check and the open.
  const FileDescriptor pinned(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (pinned.get() < 0) throw_cannot_open(path);
  struct stat st {};
  if (::fstat(pinned.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw InvalidArgument(path, "keyring is not a regular file");
  const std::string same_inode = "/proc/self/fd/" + std::to_string(pinned.get());
  const int reopened = ::open(same_inode.c_str(), O_RDONLY | O_CLOEXEC);
  if (reopened >= 0) return FileDescriptor(reopened);
  if (errno != ENOENT) throw_cannot_open(path);
  // No /proc mounted: the check-then-open below.
#endif
  // lstat first, fstat again once open (private_regular_file_size). A device swapped in
  // between the two would be opened once; O_NONBLOCK keeps a FIFO from waiting for a
  // writer. Reads of a regular file ignore the flag.
  struct stat before {};
  if (::lstat(path.c_str(), &before) == 0 && !S_ISREG(before.st_mode))
    throw InvalidArgument(path, "keyring is not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw_cannot_open(path);
  return FileDescriptor(fd);
}

// Checked on the open descriptor, so the file cannot be swapped after the check.
off_t private_regular_file_size(const FileDescriptor& fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw InvalidArgument(path, "keyring is not a regular file");
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    throw InvalidArgument(path, "keyring file is accessible by group or others; chmod 600 it");
  // As ssh does with keys: a file another user owns may hold keys of that user's choosing
  // (new records would be sealed for them), whatever its mode.
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    throw InvalidArgument(path, "keyring file is owned by another user; it must be yours or root's");
  if (st.st_size > kMaxFileBytes) throw InvalidArgument(path, "keyring file is larger than 1 MiB");
  return st.st_size;
}

// The whole file, into wiped memory, NUL-terminated for in-situ parsing: parsed in place,
// the key strings stay in this memory instead of being copied to RapidJSON's allocator.
SecretBytes read_private_file(const std::string& path) {
  const FileDescriptor fd = open_keyring(path);
  const auto size = static_cast<std::size_t>(private_regular_file_size(fd, path));
  SecretBytes content(size + 1);
  std::size_t total = 0;
  while (total < size) {
    const ssize_t n = ::read(fd.get(), content.data() + total, size - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      throw InvalidArgument(path, std::string("cannot read keyring file: ") + std::strerror(error));
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  // In-situ parsing stops at a NUL byte: one inside the file would hide what follows it.
  if (std::memchr(content.data(), 0, total) != nullptr)
    throw InvalidArgument(path, "keyring file contains a NUL byte");
  content.resize(total + 1);
  content[total] = 0;
  return content;
}

// Exactly the members "primary" and "keys", each once: RapidJSON keeps a duplicate member,
// and FindMember would silently take the first. Other names are not quoted: a key pasted
// at the wrong level would be one.
void check_members(const rapidjson::Value& doc, const std::string& path) {
  bool seen_primary = false, seen_keys = false;
  std::size_t position = 0;
  for (const auto& member : doc.GetObject()) {
    ++position;
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name != "primary" && name != "keys")
      throw InvalidArgument(path, "member " + std::to_string(position) +
                                      " of the keyring file is neither \"primary\" nor \"keys\"");
    bool& seen = name == "primary" ? seen_primary : seen_keys;
    if (seen) throw InvalidArgument(path, "\"" + std::string(name) + "\" appears twice in the keyring file");
    seen = true;
  }
  if (!seen_primary) throw InvalidArgument(path, "keyring file needs \"primary\": a key id");
  if (!seen_keys) throw InvalidArgument(path, "keyring file needs \"keys\": {key id: base64 key, ...}");
}

std::string text(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Entries are named by position, never by id: swapped ids and keys put key material
// where the id belongs.
std::vector<StaticKeyring::Key> key_entries(const rapidjson::Value& keys, const std::string& path) {
  if (!keys.IsObject() || keys.MemberCount() == 0)
    throw InvalidArgument(path, "keyring file needs \"keys\": {key id: base64 key, ...}");
  std::vector<StaticKeyring::Key> entries;
  for (const auto& key : keys.GetObject()) {
    SecretBytes material;
    if (!key.value.IsString() ||
        !crypto::base64_decode_strict({key.value.GetString(), key.value.GetStringLength()}, material))
      throw InvalidArgument(path, "entry " + std::to_string(entries.size() + 1) + ": the key is not valid base64");
    entries.emplace_back(text(key.name), std::move(material));
  }
  return entries;
}

}  // namespace

std::shared_ptr<StaticKeyring> StaticKeyring::from_file(const std::string& path) {
  SecretBytes content = read_private_file(path);
  rapidjson::Document doc;
  doc.ParseInsitu<kParseFlags>(reinterpret_cast<char*>(content.data()));
  if (doc.HasParseError())
    throw InvalidArgument(path, std::string("keyring file is not valid JSON: ") +
                                    rapidjson::GetParseError_En(doc.GetParseError()) + " (at byte " +
                                    std::to_string(doc.GetErrorOffset()) + ")");
  if (!doc.IsObject()) throw InvalidArgument(path, "keyring file is not a JSON object");
  check_members(doc, path);
  const rapidjson::Value& primary = doc["primary"];
  if (!primary.IsString()) throw InvalidArgument(path, "keyring file needs \"primary\": a key id");
  std::vector<Key> entries = key_entries(doc["keys"], path);
  // Ids are taken whole (by length: an id cut at a \u0000 would pass) and checked by the
  // constructor against the key-id rule, duplicates and the primary included, naming keys by
  // position. Its reason gets the path in front, as every refusal here names the file.
  try {
    return std::make_shared<StaticKeyring>(text(primary), std::move(entries));
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(path, e.what());
  }
}

}  // namespace datahub
