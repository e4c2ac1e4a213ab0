/* Helpers shared by the C ABI tests: the test database, a fresh random key, checks. */
#ifndef DHC_TEST_SUPPORT_H
#define DHC_TEST_SUPPORT_H

#include <datahub/connections.h>

#include <stdio.h>
#include <stdlib.h>

/* The libpq conninfo in DATAHUB_TEST_DATABASE; exits loudly when it is unset. */
const char *dhc_test_database(void);

/* A malloc'ed config_json for dhc_store_open: the test database, `pool_size` sessions and
 * a static keyring holding one random 32-byte key "test-key" generated now. */
char *dhc_test_config(int pool_size);

/* Opens a store on dhc_test_config() and migrates it; exits on failure. */
dhc_store *dhc_test_open(int pool_size);

/* Rows in database_connections, and deleting those whose name starts with `prefix`
 * (through libpq, so that the ABI under test is not used to check itself). */
long dhc_test_count_rows(void);
long dhc_test_count_prefix(const char *prefix);
void dhc_test_delete_prefix(const char *prefix);

/* Naive field extraction from the library's compact JSON output (tests only). Copies the
 * string value of "key" into buf, or returns 0 when absent. */
int dhc_test_json_string(const char *json, const char *key, char *buf, size_t cap);
long long dhc_test_json_int(const char *json, const char *key); /* -1 when absent/null */

extern int dhc_test_failures;

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      dhc_test_failures++;                                                    \
    }                                                                         \
  } while (0)

/* Checks that `call` returns `want`; prints the error message when it does not. `err` must
 * be a dhc_error* variable in scope; it is freed. */
#define CHECK_CODE(want, call)                                                          \
  do {                                                                                  \
    dhc_code got_ = (call);                                                             \
    if (got_ != (want)) {                                                               \
      fprintf(stderr, "%s:%d: %s: got %d (%s), want %d\n", __FILE__, __LINE__, #call,   \
              (int)got_, dhc_error_message(err), (int)(want));                          \
      dhc_test_failures++;                                                              \
    }                                                                                   \
    dhc_error_free(err);                                                                \
    err = NULL;                                                                         \
  } while (0)

#define TEST_DONE()                                                    \
  do {                                                                 \
    if (dhc_test_failures) fprintf(stderr, "%d check(s) failed\n", dhc_test_failures); \
    return dhc_test_failures ? 1 : 0;                                  \
  } while (0)

#endif
