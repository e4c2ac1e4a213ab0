// StaticKeyring::from_file: a JSON keyring that only its owner may read.
#include "crypto/base64.hpp"

#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <rapidjson/document.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace datahub {
namespace {

// The whole file, into wiped memory, NUL-terminated for in-situ parsing.
SecretBytes read_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw InvalidArgument(path, std::string("cannot open keyring file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InvalidArgument(path, "keyring is not a regular file");
  }
  // Checked on the open descriptor, so the file cannot be swapped after the check.
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    ::close(fd);
    throw InvalidArgument(path, "keyring file is accessible by group or others; chmod 600 it");
  }
  if (st.st_size > 1 << 20) {
    ::close(fd);
    throw InvalidArgument(path, "keyring file is larger than 1 MiB");
  }
  SecretBytes content(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t total = 0;
  while (total < static_cast<std::size_t>(st.st_size)) {
    const ssize_t n = ::read(fd, content.data() + total, static_cast<std::size_t>(st.st_size) - total);
    if (n <= 0) break;
    total += static_cast<std::size_t>(n);
  }
  ::close(fd);
  content.resize(total + 1);
  content[total] = 0;
  return content;
}

}  // namespace

std::shared_ptr<StaticKeyring> StaticKeyring::from_file(const std::string& path) {
  SecretBytes content = read_private_file(path);
  rapidjson::Document doc;
  doc.ParseInsitu<rapidjson::kParseIterativeFlag>(reinterpret_cast<char*>(content.data()));
  if (doc.HasParseError() || !doc.IsObject())
    throw InvalidArgument(path, "keyring file is not a JSON object");
  for (const auto& member : doc.GetObject()) {
    const std::string name = member.name.GetString();
    if (name != "primary" && name != "keys")
      throw InvalidArgument(path, "unknown member \"" + name.substr(0, 64) + "\" in keyring file");
  }
  auto primary = doc.FindMember("primary");
  auto keys = doc.FindMember("keys");
  if (primary == doc.MemberEnd() || !primary->value.IsString())
    throw InvalidArgument(path, "keyring file needs \"primary\": a key id");
  if (keys == doc.MemberEnd() || !keys->value.IsObject() || keys->value.MemberCount() == 0)
    throw InvalidArgument(path, "keyring file needs \"keys\": {key id: base64 key, ...}");
  // Entries are named by position, never by id: swapped ids and keys put key material
  // where the id belongs.
  std::vector<Key> entries;
  for (const auto& key : keys->value.GetObject()) {
    const std::string id(key.name.GetString(), key.name.GetStringLength());
    SecretBytes material;
    if (!key.value.IsString() ||
        !crypto::base64_decode_strict({key.value.GetString(), key.value.GetStringLength()}, material))
      throw InvalidArgument(path, "entry " + std::to_string(entries.size() + 1) + ": the key is not valid base64");
    entries.emplace_back(id, std::move(material));
  }
  return std::make_shared<StaticKeyring>(primary->value.GetString(), std::move(entries));
}

}  // namespace datahub
