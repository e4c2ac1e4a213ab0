// Random bytes for message ids, nonces and data keys.
#pragma once

#include <cstddef>
#include <cstdint>

namespace datahub::crypto {

// Fills out[0, n) with bytes from the system RNG (Botan::System_RNG). Small requests are
// served from a per-thread block of 4 KiB drawn in one call: on the VMs we measured, a
// system call costs 1-1.5 µs, a seal needs three draws, and a re-wrap one.
//
// The block is safe across fork(): it lives in a page marked MADV_WIPEONFORK, so a child
// finds it zeroed, sees it as empty and draws its own; parent and child never hand out
// the same bytes. Bytes are wiped from the block as they are handed out, and the page is
// kept out of core dumps. Where the kernel lacks MADV_WIPEONFORK (before Linux 4.14),
// every request goes to the system RNG. Thread-safe.
void random_bytes(std::uint8_t* out, std::size_t n);

}  // namespace datahub::crypto
