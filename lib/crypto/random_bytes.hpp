// Random bytes for message ids, nonces and data keys.
#pragma once

#include <cstddef>
#include <cstdint>

namespace datahub::crypto {

// Fills out[0, n) with bytes from the system RNG (Botan::System_RNG). Requests of up to
// 1020 bytes are served from a per-thread block of 4 KiB drawn in one call: on the VMs we
// measured, a System_RNG call costs 1.4-1.8 µs, and a seal needs three draws.
//
// The block is safe across fork(): it lives in a page marked MADV_WIPEONFORK (trusted only
// where the kernel refuses advice it does not know), so a child finds it zeroed and draws
// its own; a pthread_atfork counter guards it a second time. Bytes are wiped from the
// block as they are handed out; the page is kept out of core dumps and locked in memory
// where allowed. Without MADV_WIPEONFORK, after the thread's block is destroyed, or with
// DATAHUB_RANDOM_UNBUFFERED=1 in the environment, every request goes to the system RNG.
// docs/envelope.md#random-bytes says what the block does not cover (VM snapshots).
//
// Thread-safe (nothing is shared between threads); not async-signal-safe.
void random_bytes(std::uint8_t* out, std::size_t n);

// Whether this thread's requests are served from a block (for tests and diagnostics).
bool random_bytes_buffered();

}  // namespace datahub::crypto
