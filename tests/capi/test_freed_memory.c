/* Secrets are wiped before their memory is freed (docs/security.md). Run with the free()
 * scanner preloaded (free_scanner.c; ctest sets LD_PRELOAD and DATAHUB_SCAN_MARKERS): a
 * store is opened with a known key, records holding marked passwords go through every C
 * ABI call that carries them in or out, and no heap block freed meanwhile may hold a
 * marker. The scanner is checked first on a block freed unwiped on purpose. */
#include "test_support.h"

#include <dlfcn.h>
#include <string.h>

#define PREFIX "capi-freed-"
/* All hold the scanner's marker "canary-", not at their start: a moved-from short
 * std::string keeps its bytes but its first. One is too long for std::string's in-object
 * buffer, one short enough to live inside the string object itself. */
#define LONG_SECRET "dhc-canary-long-password-0123456789"
#define SHORT_SECRET "dhc-canary-1"
#define NEW_SECRET "dhc-canary-2-replaced-password"
/* The key's 32 bytes ("dhc-canary-key-material-32bytes!") hold the marker too; its base64
 * is the second marker. Key ids are not secret and must not hold a marker. */
#define KEY_BASE64 "ZGhjLWNhbmFyeS1rZXktbWF0ZXJpYWwtMzJieXRlcyE="

static long (*scanner_hits)(void);
static void (*scanner_reset)(void);
static char *volatile escaped_block; /* keeps the compiler from eliding the self-check */

static void free_string(char *s) { dhc_string_free(s); }

static int64_t create(dhc_store *store, const char *name, const char *password) {
  char json[512];
  char *out = NULL;
  dhc_error *err = NULL;
  snprintf(json, sizeof json,
           "{\"name\":\"" PREFIX "%s\",\"type\":\"POSTGRESQL\",\"tags\":[\"freed\"],\"connection_details\":"
           "{\"password\":\"%s\",\"host\":\"db.example\",\"port\":5432,\"database\":\"d\",\"username\":\"u\"}}",
           name, password);
  CHECK_CODE(DHC_OK, dhc_connection_create(store, json, "tester", &out, &err));
  memset(json, 0, sizeof json);
  int64_t id = out ? dhc_test_json_int(out, "id") : -1;
  free_string(out);
  return id;
}

static int count_records(void *user_data, const char *record_json) {
  (void)record_json;
  ++*(int *)user_data;
  return 0;
}

static void exercise(dhc_store *store) {
  dhc_error *err = NULL;
  char *out = NULL;
  const int64_t long_id = create(store, "long", LONG_SECRET);
  const int64_t short_id = create(store, "short", SHORT_SECRET);
  CHECK(long_id > 0 && short_id > 0);

  const uint32_t modes[] = {0, DHC_REVEAL_SECRETS};
  for (int m = 0; m < 2; m++) {
    const uint32_t flags = modes[m];
    CHECK_CODE(DHC_OK, dhc_connection_get(store, long_id, flags, &out, &err));
    if (flags) CHECK(out && strstr(out, LONG_SECRET) != NULL);  /* the scan would see this string */
    free_string(out);
    CHECK_CODE(DHC_OK, dhc_connection_get(store, short_id, flags, &out, &err));
    free_string(out);
    CHECK_CODE(DHC_OK, dhc_connection_find_by_name(store, PREFIX "long", flags, &out, &err));
    free_string(out);
    CHECK_CODE(DHC_OK, dhc_connection_list(store, "{\"tags_all\":[\"freed\"]}", flags, &out, &err));
    free_string(out);
    int seen = 0;
    CHECK_CODE(DHC_OK, dhc_connection_for_each(store, "{\"tags_all\":[\"freed\"],\"limit\":1}", flags,
                                               count_records, &seen, &err));
    CHECK(seen == 2);
    CHECK_CODE(DHC_OK, dhc_connection_conninfo(store, long_id, flags, &out, &err));
    free_string(out);
    CHECK_CODE(DHC_OK, dhc_connection_uri(store, short_id, flags, &out, &err));
    free_string(out);
  }
  CHECK_CODE(DHC_OK, dhc_connection_update(store, long_id,
                                           "{\"force\":true,\"connection_details\":{\"password\":\"" NEW_SECRET "\"}}",
                                           "tester", &out, &err));
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_connection_get(store, long_id, DHC_REVEAL_SECRETS, &out, &err));
  CHECK(out && strstr(out, NEW_SECRET) != NULL);
  free_string(out);
  /* A field removed before the password: the fields after it move down. */
  CHECK_CODE(DHC_OK, dhc_connection_create(store,
      "{\"name\":\"" PREFIX "tail\",\"type\":\"POSTGRESQL\",\"connection_details\":{\"host\":\"h\","
      "\"port\":5432,\"database\":\"d\",\"username\":\"u\",\"password\":\"" SHORT_SECRET "\"}}",
      "tester", &out, &err));
  const int64_t tail_id = out ? dhc_test_json_int(out, "id") : -1;
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_connection_update(store, tail_id, "{\"force\":true,\"connection_details\":{\"port\":null}}",
                                           "tester", &out, &err));
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_connection_create_many(store,
      "[{\"name\":\"" PREFIX "bulk1\",\"type\":\"POSTGRESQL\",\"connection_details\":"
      "{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"password\":\"" SHORT_SECRET "\"}},"
      "{\"name\":\"" PREFIX "bulk2\",\"type\":\"POSTGRESQL\",\"connection_details\":"
      "{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\",\"password\":\"" LONG_SECRET "\"}}]",
      "tester", &out, &err));
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_keys_verify(store, &out, &err));
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_keys_rotate(store, "{\"reencrypt\":true}", &out, &err));
  free_string(out);
  CHECK_CODE(DHC_OK, dhc_connection_delete(store, long_id, &err));
  CHECK_CODE(DHC_OK, dhc_connection_delete(store, short_id, &err));
  dhc_test_delete_prefix(PREFIX);
}

int main(void) {
  /* POSIX's way to store dlsym()'s result in a function pointer (ISO C has none). */
  *(void **)&scanner_hits = dlsym(RTLD_DEFAULT, "datahub_free_scanner_hits");
  *(void **)&scanner_reset = dlsym(RTLD_DEFAULT, "datahub_free_scanner_reset");
  if (!scanner_hits || !scanner_reset) {
    fprintf(stderr, "FATAL: run with free_scanner preloaded (LD_PRELOAD) and DATAHUB_SCAN_MARKERS set\n");
    return 2;
  }
  /* The scanner sees a marked block freed unwiped: this test can fail. */
  escaped_block = malloc(64);
  strcpy(escaped_block, "self-check canary-on-purpose");
  free(escaped_block);
  CHECK(scanner_hits() == 1);
  scanner_reset();

  char db[2048], config[4096];
  const char *conninfo = dhc_test_database();
  size_t o = 0;
  for (; *conninfo && o + 2 < sizeof db; conninfo++) { /* JSON-escape the conninfo */
    if (*conninfo == '"' || *conninfo == '\\') db[o++] = '\\';
    db[o++] = *conninfo;
  }
  db[o] = '\0';
  snprintf(config, sizeof config,
           "{\"database\": \"%s\", \"pool_size\": 2, \"keys\": {\"provider\": \"static\", "
           "\"primary\": \"freed-test-key\", \"keys\": {\"freed-test-key\": \"" KEY_BASE64 "\"}}}",
           db);
  dhc_store *store = NULL;
  dhc_error *err = NULL;
  CHECK_CODE(DHC_OK, dhc_store_open(config, &store, &err));
  memset(config, 0, sizeof config);
  if (!store) TEST_DONE();
  CHECK_CODE(DHC_OK, dhc_schema_migrate(store, &err));
  dhc_test_delete_prefix(PREFIX);
  exercise(store);
  dhc_store_close(store);

  const long hits = scanner_hits();
  if (hits) fprintf(stderr, "%ld freed block(s) held a secret (stack traces above)\n", hits);
  CHECK(hits == 0);
  TEST_DONE();
}
