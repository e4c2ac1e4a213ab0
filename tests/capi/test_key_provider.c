/* A key provider given as C callbacks: the buffer protocol (retry with a larger buffer),
 * errors becoming DHC_KEY_UNAVAILABLE / DHC_INTEGRITY (the latter from unwrap only), a
 * malformed primary key id refused, a list page surviving a row that cannot be opened,
 * destroy being called exactly once, only after a successful open, and a provider calling
 * its own store with pool_size 1 waiting no longer than the config's acquire_timeout.
 *
 * The "wrapping" here is a toy (XOR and a checksum) to test the plumbing: not encryption. */
#include "test_support.h"

#include <string.h>
#include <time.h>

#define PREFIX "capi-provider-"
#define WRAPPED_SIZE 300 /* more than the library's first buffer, to force a second call */
#define NEW_B                                                                                 \
  "{\"name\":\"" PREFIX "b\",\"type\":\"POSTGRESQL\",\"connection_details\":{\"host\":\"h\"," \
  "\"database\":\"d\",\"username\":\"u\"}}"

typedef struct {
  int destroyed, wrap_calls, fail_unwrap;
  int wrap_error;  /* returned by wrap when not DHC_OK */
  int bad_primary; /* the primary key id holds a NUL byte */
  dhc_store *reenter; /* when set, wrap first calls this store (its own) */
  int reenter_code;   /* and keeps what that call returned */
} toy_state;

static int toy_primary(void *ud, char *out, size_t cap, size_t *len) {
  toy_state *st = ud;
  *len = 7;
  if (cap >= 7) memcpy(out, st->bad_primary ? "toy\0kek" : "toy-kek", 7);
  return DHC_OK;
}

static uint32_t checksum(const uint8_t *p, size_t n) {
  uint32_t s = 2166136261u;
  while (n--) s = (s ^ *p++) * 16777619u;
  return s;
}

static int toy_wrap(void *ud, const char *kid, const uint8_t *dek, size_t dek_len,
                    const uint8_t *aad, size_t aad_len, uint8_t *out, size_t cap, size_t *len) {
  toy_state *st = ud;
  uint32_t sum = checksum(aad, aad_len);
  size_t i;
  __atomic_add_fetch(&st->wrap_calls, 1, __ATOMIC_SEQ_CST);
  if (st->reenter) {
    char *got = NULL;
    dhc_error *e = NULL;
    st->reenter_code = dhc_connection_get(st->reenter, 1, 0, &got, &e);
    dhc_string_free(got);
    dhc_error_free(e);
  }
  if (st->wrap_error != DHC_OK) return st->wrap_error;
  if (strcmp(kid, "toy-kek") != 0 || dek_len > 64) return DHC_KEY_UNAVAILABLE;
  *len = WRAPPED_SIZE;
  if (cap < WRAPPED_SIZE) return DHC_OK;
  memset(out, 0, WRAPPED_SIZE);
  out[0] = (uint8_t)dek_len;
  for (i = 0; i < dek_len; i++) out[1 + i] = dek[i] ^ 0x5A;
  memcpy(out + 1 + 64, &sum, sizeof sum);
  return DHC_OK;
}

static int toy_unwrap(void *ud, const char *kid, const uint8_t *edk, size_t edk_len,
                      const uint8_t *aad, size_t aad_len, uint8_t *out, size_t cap, size_t *len) {
  toy_state *st = ud;
  uint32_t sum = checksum(aad, aad_len), stored;
  size_t i, n;
  if (st->fail_unwrap || strcmp(kid, "toy-kek") != 0) return DHC_KEY_UNAVAILABLE;
  if (edk_len != WRAPPED_SIZE) return DHC_INTEGRITY;
  memcpy(&stored, edk + 1 + 64, sizeof stored);
  if (stored != sum) return DHC_INTEGRITY;
  n = edk[0];
  *len = n;
  if (cap < n) return DHC_OK;
  for (i = 0; i < n; i++) out[i] = edk[1 + i] ^ 0x5A;
  return DHC_OK;
}

static void toy_destroy(void *ud) { ((toy_state *)ud)->destroyed++; }

static dhc_key_provider toy(toy_state *st) {
  dhc_key_provider p;
  memset(&p, 0, sizeof p);
  p.version = DHC_KEY_PROVIDER_VERSION;
  p.user_data = st;
  p.primary_key_id = toy_primary;
  p.wrap = toy_wrap;
  p.unwrap = toy_unwrap;
  p.destroy = toy_destroy;
  return p;
}

/* The test database's config with `members` added (",\"name\":value..."). */
static char *config_with(const char *members) {
  static char buf[2048];
  const char *db = dhc_test_database();
  if (strchr(db, '"') || strchr(db, '\\')) {
    fprintf(stderr, "FATAL: this test needs a conninfo without quotes or backslashes\n");
    exit(2);
  }
  snprintf(buf, sizeof buf, "{\"database\":\"%s\"%s}", db, members);
  return buf;
}

static char *config(void) { return config_with(",\"pool_size\":2"); }

/* pool_size 1: create holds the only session while the provider wraps, so the provider's
 * own call waits for a free session: acquire_timeout (1 s here, 30 s by default), then
 * DHC_UNAVAILABLE; the create goes on. Out-of-range timeouts are refused. */
static void provider_calling_its_store(void) {
  toy_state st;
  dhc_key_provider p = toy(&st);
  dhc_store *store = NULL, *none = NULL;
  dhc_error *err = NULL;
  char *out = NULL;
  time_t started;
  memset(&st, 0, sizeof st);
  CHECK_CODE(DHC_INVALID_ARGUMENT,
             dhc_store_open_with_provider(config_with(",\"acquire_timeout\":0"), &p, &none, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT,
             dhc_store_open_with_provider(config_with(",\"acquire_timeout\":3601"), &p, &none, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT,
             dhc_store_open_with_provider(config_with(",\"acquire_timeout\":\"5\""), &p, &none, &err));
  CHECK(none == NULL && st.destroyed == 0);
  CHECK_CODE(DHC_OK, dhc_store_open_with_provider(config_with(",\"pool_size\":1,\"acquire_timeout\":1"), &p,
                                                  &store, &err));
  if (store == NULL) return;
  st.reenter = store;
  started = time(NULL);
  CHECK_CODE(DHC_OK, dhc_connection_create(store, NEW_B, "tester", &out, &err));
  CHECK(st.reenter_code == DHC_UNAVAILABLE);
  CHECK(time(NULL) - started <= 8); /* two wrap calls (the buffer retry), 1 s each */
  st.reenter = NULL;
  if (out) CHECK_CODE(DHC_OK, dhc_connection_delete(store, dhc_test_json_int(out, "id"), &err));
  dhc_string_free(out);
  dhc_store_close(store);
  CHECK(st.destroyed == 1);
}

int main(void) {
  toy_state st, failed;
  dhc_key_provider p = toy(&st), q = toy(&failed);
  dhc_store *store = NULL, *none = NULL;
  dhc_error *err = NULL;
  char *out = NULL, query[128];
  int64_t id;
  long before;
  memset(&st, 0, sizeof st);
  memset(&failed, 0, sizeof failed);

  /* Failed opens leave user_data with the caller: destroy is not called. */
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_store_open_with_provider(
      "{\"database\":\"x\",\"keys\":{\"provider\":\"env\"}}", &q, &none, &err));
  CHECK_CODE(DHC_UNAVAILABLE, dhc_store_open_with_provider(
      "{\"database\":\"host=/nonexistent-dir port=1 dbname=x\",\"connect_timeout\":2}", &q, &none, &err));
  CHECK(none == NULL && failed.destroyed == 0);

  CHECK_CODE(DHC_OK, dhc_store_open_with_provider(config(), &p, &store, &err));
  if (store == NULL) return 1;
  CHECK_CODE(DHC_OK, dhc_schema_migrate(store, &err));
  dhc_test_delete_prefix(PREFIX);
  CHECK_CODE(DHC_OK, dhc_connection_create(store, "{\"name\":\"" PREFIX "a\",\"type\":\"POSTGRESQL\","
      "\"connection_details\":{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"password\":\"pw-toy\"}}",
      "tester", &out, &err));
  if (out == NULL) return 1;
  id = dhc_test_json_int(out, "id");
  CHECK(strstr(out, "\"key_id\":\"toy-kek\"") != NULL);
  dhc_string_free(out);
  CHECK(st.wrap_calls >= 2); /* 256 bytes were too few; a second call fitted */

  CHECK_CODE(DHC_OK, dhc_connection_get(store, id, DHC_REVEAL_SECRETS, &out, &err));
  CHECK(out && strstr(out, "\"password\":\"pw-toy\"") != NULL);
  dhc_string_free(out);

  /* The provider refuses to wrap: nothing is written. DHC_INTEGRITY means "altered" only
   * from unwrap; from wrap it is a failure like any other. */
  before = dhc_test_count_rows();
  st.wrap_error = DHC_KEY_UNAVAILABLE;
  CHECK_CODE(DHC_KEY_UNAVAILABLE, dhc_connection_create(store, NEW_B, "tester", &out, &err));
  st.wrap_error = DHC_INTEGRITY;
  CHECK_CODE(DHC_KEY_UNAVAILABLE, dhc_connection_create(store, NEW_B, "tester", &out, &err));
  CHECK(out == NULL && dhc_test_count_rows() == before);
  st.wrap_error = DHC_OK;

  /* A primary key id that breaks the key-id rule: refused, not sealed or reported. */
  st.bad_primary = 1;
  CHECK_CODE(DHC_KEY_UNAVAILABLE, dhc_connection_create(store, NEW_B, "tester", &out, &err));
  CHECK_CODE(DHC_KEY_UNAVAILABLE, dhc_keys_census(store, &out, &err));
  CHECK(out == NULL && dhc_test_count_rows() == before);
  st.bad_primary = 0;

  /* The provider refuses to unwrap: get fails, a list page carries the row's error. */
  st.fail_unwrap = 1;
  CHECK_CODE(DHC_KEY_UNAVAILABLE, dhc_connection_get(store, id, 0, &out, &err));
  snprintf(query, sizeof query, "{\"name_prefix\":\"" PREFIX "\"}");
  CHECK_CODE(DHC_OK, dhc_connection_list(store, query, 0, &out, &err));
  CHECK(out && strstr(out, "\"connection_details\":null") != NULL);
  CHECK(out && strstr(out, "\"error\":{\"code\":5,") != NULL);
  dhc_string_free(out);
  st.fail_unwrap = 0;

  CHECK_CODE(DHC_OK, dhc_connection_delete(store, id, &err));
  CHECK(st.destroyed == 0);
  dhc_store_close(store);
  CHECK(st.destroyed == 1);
  CHECK(failed.destroyed == 0);
  provider_calling_its_store();
  TEST_DONE();
}
