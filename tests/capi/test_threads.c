/* Eight threads drive one store at once through the C ABI: create, get (redacted and
 * revealed), list, update (checked and forced), delete. The pool is smaller than the
 * number of threads, so calls also wait for sessions. */
#include "test_support.h"

#include <pthread.h>
#include <string.h>

#define PREFIX "capi-threads-"
#define THREADS 8
#define ROUNDS 6

static dhc_store *store;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(int thread, const char *what, dhc_error *err) {
  pthread_mutex_lock(&lock);
  fprintf(stderr, "thread %d: %s: %d %s\n", thread, what, (int)dhc_error_code(err),
          dhc_error_message(err));
  dhc_test_failures++;
  pthread_mutex_unlock(&lock);
}

#define STEP(what, call)                   \
  if ((call) != DHC_OK) {                  \
    fail(t, what, err);                    \
    dhc_error_free(err);                   \
    return;                                \
  }

static void round_trip(int t, int r) {
  dhc_error *err = NULL;
  char json[512], name[64], updated_at[64], secret[64], *out = NULL;
  int64_t id;
  snprintf(name, sizeof name, PREFIX "%d-%d", t, r);
  snprintf(secret, sizeof secret, "pw-%d-%d", t, r);
  snprintf(json, sizeof json,
           "{\"name\":\"%s\",\"type\":\"POSTGRESQL\",\"tags\":[\"t%d\",\"threads\"],"
           "\"connection_details\":{\"host\":\"h%d\",\"database\":\"d\",\"username\":\"u\","
           "\"password\":\"%s\"}}", name, t, t, secret);
  STEP("create", dhc_connection_create(store, json, "thread", &out, &err));
  id = dhc_test_json_int(out, "id");
  if (strstr(out, secret) != NULL) fail(t, "create returned the secret", NULL);
  dhc_string_free(out);

  STEP("get", dhc_connection_get(store, id, DHC_REVEAL_SECRETS, &out, &err));
  if (strstr(out, secret) == NULL || strstr(out, "\"port\":5432") == NULL) fail(t, "get", NULL);
  if (!dhc_test_json_string(out, "updated_at", updated_at, sizeof updated_at)) fail(t, "updated_at", NULL);
  dhc_string_free(out);

  snprintf(json, sizeof json, "{\"name_prefix\":\"%s\",\"tags_all\":[\"t%d\"],\"limit\":10}", name, t);
  STEP("list", dhc_connection_list(store, json, 0, &out, &err));
  if (dhc_test_json_int(out, "id") != id || strstr(out, "\"redacted\":[\"password\"]") == NULL) {
    fail(t, "list content", NULL);
  }
  dhc_string_free(out);

  snprintf(json, sizeof json,
           "{\"description\":\"round %d\",\"connection_details\":{\"port\":6543},"
           "\"expected_updated_at\":\"%s\"}", r, updated_at);
  STEP("update", dhc_connection_update(store, id, json, "thread", &out, &err));
  dhc_string_free(out);
  /* The same expected_updated_at again is now stale. */
  if (dhc_connection_update(store, id, json, "thread", &out, &err) != DHC_CONFLICT) {
    fail(t, "second update should conflict", err);
    dhc_string_free(out);
  }
  dhc_error_free(err);
  err = NULL;
  STEP("force update", dhc_connection_update(store, id, "{\"tags\":[],\"force\":true}", "thread",
                                             &out, &err));
  dhc_string_free(out);

  STEP("get after update", dhc_connection_get(store, id, DHC_REVEAL_SECRETS, &out, &err));
  if (strstr(out, "\"port\":6543") == NULL || strstr(out, secret) == NULL ||
      strstr(out, "\"tags\":[]") == NULL) {
    fail(t, "merged details", NULL);
  }
  dhc_string_free(out);

  STEP("delete", dhc_connection_delete(store, id, &err));
  if (dhc_connection_get(store, id, 0, &out, &err) != DHC_NOT_FOUND) fail(t, "get after delete", err);
  dhc_error_free(err);
}

static void *worker(void *arg) {
  int t = (int)(size_t)arg, r;
  for (r = 0; r < ROUNDS; r++) round_trip(t, r);
  return NULL;
}

int main(void) {
  pthread_t threads[THREADS];
  size_t i;
  store = dhc_test_open(4);
  dhc_test_delete_prefix(PREFIX);
  for (i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
  for (i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  CHECK(dhc_test_count_prefix(PREFIX) == 0); /* every thread deleted what it made */
  dhc_test_delete_prefix(PREFIX);
  dhc_store_close(store);
  TEST_DONE();
}
