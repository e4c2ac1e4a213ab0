// A per-thread block of system RNG output, wiped on fork by the kernel (random_bytes.hpp).
#include "crypto/random_bytes.hpp"

#include <botan/mem_ops.h>
#include <botan/system_rng.h>

#include <sys/mman.h>

#include <cstring>

namespace datahub::crypto {
namespace {

constexpr std::size_t kPageBytes = 4096;
constexpr std::uint32_t kFilled = 0x52414e44;  // any value but 0: a child's wiped page reads 0

// The page: this header, then the random bytes. Both live in the page so that fork()
// wipes them together: a child sees `filled` 0 and never the parent's bytes.
struct Header {
  std::uint32_t filled;
  std::uint32_t next;  // offset of the first byte not handed out yet
};
constexpr std::size_t kFirst = sizeof(Header);

class Block {
 public:
  Block() {
    void* page = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;
    if (madvise(page, kPageBytes, MADV_WIPEONFORK) != 0) {  // no safe block without it
      munmap(page, kPageBytes);
      return;
    }
    madvise(page, kPageBytes, MADV_DONTDUMP);  // best effort, as is mlock
    mlock(page, kPageBytes);
    page_ = static_cast<std::uint8_t*>(page);
  }
  ~Block() {
    if (!page_) return;
    Botan::secure_scrub_memory(page_, kPageBytes);
    munlock(page_, kPageBytes);
    munmap(page_, kPageBytes);
  }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // False when there is no block (the caller draws directly).
  bool take(std::uint8_t* out, std::size_t n) {
    if (!page_ || n > (kPageBytes - kFirst) / 4) return false;
    Header header;
    std::memcpy(&header, page_, sizeof header);
    if (header.filled != kFilled || header.next + n > kPageBytes) {
      Botan::system_rng().randomize(page_ + kFirst, kPageBytes - kFirst);
      header = {kFilled, static_cast<std::uint32_t>(kFirst)};
    }
    std::memcpy(out, page_ + header.next, n);
    Botan::secure_scrub_memory(page_ + header.next, n);
    header.next += static_cast<std::uint32_t>(n);
    std::memcpy(page_, &header, sizeof header);
    return true;
  }

 private:
  std::uint8_t* page_ = nullptr;
};

}  // namespace

void random_bytes(std::uint8_t* out, std::size_t n) {
  thread_local Block block;
  if (!block.take(out, n)) Botan::system_rng().randomize(out, n);
}

}  // namespace datahub::crypto
