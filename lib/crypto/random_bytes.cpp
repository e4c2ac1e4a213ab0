// A per-thread block of system RNG output, wiped on fork (random_bytes.hpp).
#include "crypto/random_bytes.hpp"

#include <botan/mem_ops.h>
#include <botan/system_rng.h>

#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace datahub::crypto {
namespace {

constexpr std::size_t kPageBytes = 4096;
constexpr std::uint32_t kFilled = 0x52414e44;  // any value but 0: a child's wiped page reads 0

// The page: this header, then the random bytes. Both live in the page so that fork()
// wipes them together: a child sees `filled` 0 and never the parent's bytes.
struct Header {
  std::uint32_t filled;
  std::uint32_t next;             // offset of the first byte not handed out yet
  std::uint64_t fork_generation;  // fork_generation() when the bytes were drawn
};
constexpr std::size_t kFirst = sizeof(Header);
constexpr std::size_t kLargest = (kPageBytes - kFirst) / 4;  // larger requests go direct

// A second guard against fork(), for where the kernel's wipe might not happen: glibc's
// fork() runs this handler in the child, and a block drawn in another generation is empty.
std::atomic<std::uint64_t> forks{0};
std::uint64_t fork_generation() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { forks.fetch_add(1); }); });
  return forks.load(std::memory_order_relaxed);
}

// DATAHUB_RANDOM_UNBUFFERED=1: every request to System_RNG (for hosts cloned from VM
// snapshots, see docs/envelope.md#random-bytes).
bool unbuffered() {
  static const bool value = [] {
    const char* v = std::getenv("DATAHUB_RANDOM_UNBUFFERED");
    return v && std::strcmp(v, "1") == 0;
  }();
  return value;
}

// Whether madvise(MADV_WIPEONFORK) can be trusted here: some emulators (qemu-user) accept
// any advice and ignore it, so an advice no kernel knows must be refused first.
bool kernel_wipes_on_fork(void* page) {
#ifdef MADV_WIPEONFORK
  return madvise(page, kPageBytes, -1) != 0 && madvise(page, kPageBytes, MADV_WIPEONFORK) == 0;
#else
  (void)page;
  return false;
#endif
}

class Block {
 public:
  Block() {
    if (unbuffered()) return;
    void* page = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;
    if (!kernel_wipes_on_fork(page)) {  // no safe block without it
      munmap(page, kPageBytes);
      return;
    }
#ifdef MADV_DONTDUMP
    madvise(page, kPageBytes, MADV_DONTDUMP);  // best effort, as is mlock
#endif
    mlock(page, kPageBytes);
    page_ = static_cast<std::uint8_t*>(page);
  }
  ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  bool in_use() const noexcept { return page_ != nullptr; }

  // False when there is no block (the caller draws directly).
  bool take(std::uint8_t* out, std::size_t n) {
    if (!page_ || n > kLargest) return false;
    Header header;
    std::memcpy(&header, page_, sizeof header);
    const std::uint64_t generation = fork_generation();
    if (header.filled != kFilled || header.fork_generation != generation || header.next + n > kPageBytes) {
      Botan::system_rng().randomize(page_ + kFirst, kPageBytes - kFirst);
      header = {kFilled, static_cast<std::uint32_t>(kFirst), generation};
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

// Set when this thread's block is destroyed. Thread-local objects a thread created before
// its first draw are destroyed after the block, and their destructors may still draw: they
// must not touch the unmapped page (a later mmap could hand its address to another
// thread's block). Trivially destructible, so valid to the thread's very end.
thread_local bool block_destroyed = false;

Block::~Block() {
  block_destroyed = true;
  if (!page_) return;
  Botan::secure_scrub_memory(page_, kPageBytes);
  munlock(page_, kPageBytes);
  munmap(page_, kPageBytes);
  page_ = nullptr;
}

Block* this_thread_block() {
  if (block_destroyed) return nullptr;
  thread_local Block block;
  return &block;
}

}  // namespace

void random_bytes(std::uint8_t* out, std::size_t n) {
  Block* block = this_thread_block();
  if (!block || !block->take(out, n)) Botan::system_rng().randomize(out, n);
}

bool random_bytes_buffered() {
  const Block* block = this_thread_block();
  return block && block->in_use();
}

}  // namespace datahub::crypto
