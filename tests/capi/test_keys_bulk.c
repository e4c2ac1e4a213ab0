/* The C ABI's bulk and key calls: create_many (all or nothing), for_each (streaming,
 * stopping early), census, rotate (with progress and stopping), verify. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */

#include "test_support.h"

#include <string.h>
#include <time.h>

#define PREFIX "capi-bulk-"

static int seen;
static int count_records(void *user_data, const char *record_json) {
  (void)user_data;
  if (strstr(record_json, "\"name\":\"" PREFIX) != NULL) seen++;
  return 0;
}
static int stop_at_three(void *user_data, const char *record_json) {
  (void)record_json;
  return ++*(int *)user_data >= 3;
}
static int batches;
static int stop_after_one(void *user_data, const char *report_json) {
  (void)user_data;
  CHECK(strstr(report_json, "\"rewritten\":") != NULL);
  return ++batches >= 1;
}

/* Sleeps, so that the other worker writes batches meanwhile, then stops. */
static int progress_calls;
static int stop_slowly(void *user_data, const char *report_json) {
  struct timespec pause = {0, 50 * 1000 * 1000};
  (void)user_data;
  (void)report_json;
  progress_calls++;
  nanosleep(&pause, NULL);
  return 1;
}

/* The test config with a keyring of k1 and k2 instead of its random key. */
static char *two_key_config(const char *primary) {
  char *config = dhc_test_config(4);
  char *keys = strstr(config, ", \"keys\": {\"provider\"");
  if (keys == NULL) return config;
  snprintf(keys, 4096 - (size_t)(keys - config),
           ", \"keys\": {\"provider\": \"static\", \"primary\": \"%s\", \"keys\": {"
           "\"k1\": \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\", "
           "\"k2\": \"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\"}}}",
           primary);
  return config;
}

static char *many(int n, const char *bad_port);

/* Stopped by its progress callback, a rotation with two workers still reports every
   batch written: the other worker's too, finished after the stop. */
static void stop_with_workers(void) {
  dhc_store *store = NULL;
  dhc_error *err = NULL;
  char *config = two_key_config("k1"), *out = NULL, *json = many(100, NULL);
  const char *k1;
  long long rewritten, left_under_k1;
  dhc_test_delete_prefix("");
  CHECK_CODE(DHC_OK, dhc_store_open(config, &store, &err));
  free(config);
  CHECK_CODE(DHC_OK, dhc_connection_create_many(store, json, "tester", &out, &err));
  free(json);
  dhc_string_free(out);
  dhc_store_close(store);
  store = NULL;

  config = two_key_config("k2");
  CHECK_CODE(DHC_OK, dhc_store_open(config, &store, &err));
  free(config);
  if (store == NULL) return;
  CHECK_CODE(DHC_OK, dhc_keys_rotate_with_progress(store, "{\"batch_size\":1,\"workers\":2}",
                                                    stop_slowly, NULL, &out, &err));
  CHECK(progress_calls == 1); /* not called again after it asked to stop */
  rewritten = out ? dhc_test_json_int(out, "rewritten") : -1;
  dhc_string_free(out);
  CHECK(rewritten > 1); /* the other worker wrote batches while the callback slept */
  CHECK_CODE(DHC_OK, dhc_keys_census(store, &out, &err));
  k1 = out ? strstr(out, "\"kid\":\"k1\"") : NULL;
  left_under_k1 = k1 ? dhc_test_json_int(k1, "rows") : 0;
  CHECK(rewritten == 100 - left_under_k1); /* every batch written is counted */
  dhc_string_free(out);
  dhc_test_delete_prefix(PREFIX);
  dhc_store_close(store);
}

static char *many(int n, const char *bad_port) {
  size_t cap = (size_t)n * 256 + 64, len = 1;
  char *json = malloc(cap);
  int i;
  strcpy(json, "[");
  for (i = 0; i < n; i++) {
    len += (size_t)snprintf(json + len, cap - len,
                            "%s{\"name\":\"" PREFIX "%d\",\"type\":\"POSTGRESQL\",\"tags\":[\"bulk\"],"
                            "\"connection_details\":{\"host\":\"h\",\"port\":%s,\"database\":\"d\","
                            "\"username\":\"u\",\"password\":\"p%d\"}}",
                            i ? "," : "", i, (bad_port && i == n - 1) ? bad_port : "5432", i);
  }
  strcpy(json + len, "]");
  return json;
}

int main(void) {
  dhc_store *store = dhc_test_open(2);
  dhc_error *err = NULL;
  char *out = NULL, *json;
  int stopped = 0;
  long before;
  dhc_test_delete_prefix(""); /* an empty table: census and rotate see only our rows */

  /* All or nothing: the last record has a bad port. */
  before = dhc_test_count_rows();
  json = many(20, "0");
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create_many(store, json, "tester", &out, &err));
  CHECK(out == NULL);
  CHECK(dhc_test_count_rows() == before);
  free(json);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create_many(store, "{\"not\": \"an array\"}", "tester", &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create_many(store, NULL, "tester", &out, &err));
  /* A bad member inside a record's details names the record too: it was named as if the
     batch held one record ("connection_details.host"). */
  {
    static const char *const bad_details[][2] = {
        {"{\"host\":\"h\\u0000x\"}", "connections[1].connection_details.host:"},
        {"7", "connections[1].connection_details:"},
        {"{\"host\":\"h\",\"host\":\"i\"}", "connections[1].connection_details"},
    };
    size_t i;
    for (i = 0; i < sizeof bad_details / sizeof bad_details[0]; ++i) {
      char batch[512];
      snprintf(batch, sizeof batch,
               "[{\"name\":\"" PREFIX "ok\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"h\",\"database\":\"d\",\"username\":\"u\"}},"
               "{\"name\":\"" PREFIX "bad\",\"type\":\"POSTGRESQL\",\"connection_details\":%s}]",
               bad_details[i][0]);
      CHECK(dhc_connection_create_many(store, batch, "tester", &out, &err) == DHC_INVALID_ARGUMENT);
      CHECK(err != NULL && strstr(dhc_error_message(err), bad_details[i][1]) != NULL);
      dhc_error_free(err);
      err = NULL;
      CHECK(dhc_test_count_rows() == before);
    }
  }

  json = many(25, NULL);
  CHECK_CODE(DHC_OK, dhc_connection_create_many(store, json, "tester", &out, &err));
  CHECK(out != NULL && strstr(out, "\"name\":\"" PREFIX "24\"") != NULL);
  CHECK(out != NULL && strstr(out, "\"p24\"") == NULL); /* redacted */
  dhc_string_free(out);
  free(json);
  CHECK(dhc_test_count_prefix(PREFIX) == 25);

  seen = 0;
  CHECK_CODE(DHC_OK, dhc_connection_for_each(store, "{\"tags_all\":[\"bulk\"],\"limit\":7}", 0,
                                              count_records, NULL, &err));
  CHECK(seen == 25);
  CHECK_CODE(DHC_OK, dhc_connection_for_each(store, NULL, 0, stop_at_three, &stopped, &err));
  CHECK(stopped == 3);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_for_each(store, NULL, 0, NULL, NULL, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_for_each(store, "{\"limit\":\"x\"}", 0, count_records, NULL, &err));

  CHECK_CODE(DHC_OK, dhc_keys_census(store, &out, &err));
  CHECK(out != NULL && strstr(out, "\"primary\":\"test-key\"") != NULL);
  CHECK(out != NULL && strstr(out, "\"kid\":\"test-key\"") != NULL);
  dhc_string_free(out);

  /* Everything is under the primary already: nothing to rotate. */
  CHECK_CODE(DHC_OK, dhc_keys_rotate(store, "{\"batch_size\":10,\"dry_run\":true}", &out, &err));
  CHECK(out != NULL && dhc_test_json_int(out, "scanned") == 0);
  dhc_string_free(out);
  /* Re-encrypting to another cipher is work: stop after the first batch, then finish. */
  dhc_store_close(store);
  {
    char *config = dhc_test_config(2);
    char *swapped = malloc(strlen(config) + 64);
    /* Same keyring, other cipher: the test config is {"database": ..., ...}; add "cipher". */
    snprintf(swapped, strlen(config) + 64, "{\"cipher\":\"XC20P\",%s", config + 1);
    CHECK_CODE(DHC_OK, dhc_store_open(swapped, &store, &err));
    free(swapped);
    free(config);
  }
  if (store == NULL) TEST_DONE();
  /* The key id is the same but its material is fresh: the rows do not open, and verify
     names each with DHC_INTEGRITY (the wrapped data key fails authentication). */
  CHECK_CODE(DHC_OK, dhc_keys_verify(store, &out, &err));
  CHECK(out != NULL && dhc_test_json_int(out, "checked") == 25);
  CHECK(out != NULL && strstr(out, "\"code\":4") != NULL);
  dhc_string_free(out);
  CHECK_CODE(DHC_OK, dhc_keys_rotate_with_progress(store, "{\"batch_size\":5,\"reencrypt\":true}",
                                                    stop_after_one, NULL, &out, &err));
  CHECK(batches == 1);
  CHECK(out != NULL && dhc_test_json_int(out, "scanned") <= 5);
  dhc_string_free(out);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_keys_rotate(store, "{\"batch_size\":0}", &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_keys_rotate(store, "{\"bogus\":1}", &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_keys_census(NULL, &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_keys_verify(store, NULL, &err));

  /* Testing a stored connection: a closed port is a result (ok false), not an error. */
  CHECK_CODE(DHC_OK, dhc_connection_create(store,
      "{\"name\":\"" PREFIX "target\",\"type\":\"POSTGRESQL\",\"connection_details\":"
      "{\"host\":\"127.0.0.1\",\"port\":1,\"database\":\"d\",\"username\":\"u\","
      "\"password\":\"never-shown\"}}", "tester", &out, &err));
  if (out != NULL) {
    long long id = dhc_test_json_int(out, "id");
    char *result = NULL;
    dhc_string_free(out);
    out = NULL;
    CHECK_CODE(DHC_OK, dhc_connection_test(store, id, "{\"timeout_ms\":3000}", &result, &err));
    CHECK(result != NULL && strstr(result, "\"ok\":false") != NULL);
    CHECK(result != NULL && strstr(result, "\"failure\":\"unreachable\"") != NULL);
    CHECK(result != NULL && strstr(result, "never-shown") == NULL);
    dhc_string_free(result);
    CHECK_CODE(DHC_NOT_FOUND, dhc_connection_test(store, 2000000000, NULL, &result, &err));
    CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_test(store, id, "{\"timeout\":1}", &result, &err));

    /* ... and as a conninfo or URI: the password only when revealed. */
    CHECK_CODE(DHC_OK, dhc_connection_conninfo(store, id, 0, &result, &err));
    CHECK(result != NULL && strstr(result, "host='127.0.0.1'") != NULL);
    CHECK(result != NULL && strstr(result, "never-shown") == NULL);
    dhc_string_free(result);
    CHECK_CODE(DHC_OK, dhc_connection_conninfo(store, id, DHC_REVEAL_SECRETS, &result, &err));
    CHECK(result != NULL && strstr(result, "password='never-shown'") != NULL);
    dhc_string_free(result);
    CHECK_CODE(DHC_OK, dhc_connection_uri(store, id, DHC_REVEAL_SECRETS, &result, &err));
    CHECK(result != NULL && strcmp(result, "postgresql://u:never-shown@127.0.0.1:1/d") == 0);
    dhc_string_free(result);
    CHECK_CODE(DHC_OK, dhc_connection_uri(store, id, 0, &result, &err));
    CHECK(result != NULL && strcmp(result, "postgresql://u@127.0.0.1:1/d") == 0);
    dhc_string_free(result);
    CHECK_CODE(DHC_NOT_FOUND, dhc_connection_uri(store, 2000000000, 0, &result, &err));
    CHECK(result == NULL);
    CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_conninfo(store, id, 4u, &result, &err));
    CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_conninfo(store, id, 0, NULL, &err));
  }

  dhc_test_delete_prefix(PREFIX);
  dhc_store_close(store);
  stop_with_workers();
  TEST_DONE();
}
