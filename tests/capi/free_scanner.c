/* Preloaded (LD_PRELOAD) into capi_test_freed_memory: every heap block given back through
 * free(), or moved or released by realloc(), is searched for the markers listed in
 * DATAHUB_SCAN_MARKERS (comma-separated) before glibc gets it back. A marker found there
 * is a secret the process let go of without wiping it. The first few hits print a stack
 * trace to stderr; datahub_free_scanner_hits() tells the test how many there were.
 * Only free() and realloc() are wrapped: every C++ `delete` of libstdc++ ends in free(). */
#define _GNU_SOURCE
#include <execinfo.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORTED __attribute__((visibility("default"))) /* the build hides symbols by default */

extern void __libc_free(void *ptr);
extern void *__libc_realloc(void *ptr, size_t size);

#define MAX_MARKERS 4
static char markers[MAX_MARKERS][80];
static size_t marker_lengths[MAX_MARKERS];
static int marker_count;
static atomic_long hits;
static __thread int reporting; /* backtrace() may allocate: do not scan while reporting */

__attribute__((constructor)) static void load_markers(void) {
  const char *list = getenv("DATAHUB_SCAN_MARKERS");
  while (list && *list && marker_count < MAX_MARKERS) {
    const char *end = strchr(list, ',');
    size_t n = end ? (size_t)(end - list) : strlen(list);
    if (n > 0 && n < sizeof markers[0]) {
      memcpy(markers[marker_count], list, n);
      marker_lengths[marker_count++] = n;
    }
    list = end ? end + 1 : NULL;
  }
}

static int holds_marker(void *ptr) {
  size_t size = malloc_usable_size(ptr);
  for (int i = 0; i < marker_count; i++) {
    if (memmem(ptr, size, markers[i], marker_lengths[i])) return 1;
  }
  return 0;
}

static void count_hit(void) {
  long n = atomic_fetch_add(&hits, 1) + 1;
  if (n > 5 || reporting) return;
  reporting = 1;
  static const char message[] = "free_scanner: a block holding a marker was freed unwiped, from:\n";
  void *frames[32];
  int depth = backtrace(frames, 32);
  if (write(2, message, sizeof message - 1) < 0) { /* nothing to do */ }
  backtrace_symbols_fd(frames, depth, 2);
  reporting = 0;
}

EXPORTED void free(void *ptr) {
  if (ptr && !reporting && holds_marker(ptr)) count_hit();
  __libc_free(ptr);
}

EXPORTED void *realloc(void *ptr, size_t size) {
  int held = ptr && !reporting && holds_marker(ptr);
  void *moved = __libc_realloc(ptr, size);
  /* The old block is released when the data moved, or when size 0 freed it. */
  if (held && (size == 0 || (moved && moved != ptr))) count_hit();
  return moved;
}

EXPORTED long datahub_free_scanner_hits(void) { return atomic_load(&hits); }
EXPORTED void datahub_free_scanner_reset(void) { atomic_store(&hits, 0); }
