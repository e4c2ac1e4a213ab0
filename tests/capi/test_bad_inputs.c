/* Bad inputs through the C ABI: each gives DHC_INVALID_ARGUMENT (or the stated code), sets
 * *out_json to NULL, never crashes, never quotes a secret, and leaves the table unchanged. */
#include "test_support.h"

#include <string.h>

#define PREFIX "capi-bad-"
#define SECRET "hunter2-do-not-echo"
#define GOOD_DETAILS "{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"password\":\"" SECRET "\"}"

static char *sentinel(void) { return (char *)"untouched"; }

/* create must fail with `want`, NULL output, and a message without the secret. */
static void create_fails(dhc_store *store, const char *json, dhc_code want) {
  dhc_error *err = NULL;
  char *out = sentinel();
  dhc_code rc = dhc_connection_create(store, json, "tester", &out, &err);
  if (rc != want) {
    fprintf(stderr, "create(%.80s): got %d (%s), want %d\n", json, (int)rc, dhc_error_message(err),
            (int)want);
    dhc_test_failures++;
  }
  CHECK(out == NULL);
  CHECK(dhc_error_code(err) == rc);
  CHECK(strstr(dhc_error_message(err), SECRET) == NULL);
  if (rc == DHC_OK) dhc_string_free(out);
  dhc_error_free(err);
}

static void update_fails(dhc_store *store, int64_t id, const char *json, dhc_code want) {
  dhc_error *err = NULL;
  char *out = sentinel();
  dhc_code rc = dhc_connection_update(store, id, json, "tester", &out, &err);
  if (rc != want) {
    fprintf(stderr, "update(%.80s): got %d (%s), want %d\n", json, (int)rc, dhc_error_message(err),
            (int)want);
    dhc_test_failures++;
  }
  CHECK(out == NULL);
  CHECK(strstr(dhc_error_message(err), SECRET) == NULL);
  dhc_error_free(err);
}

static void list_fails(dhc_store *store, const char *json) {
  dhc_error *err = NULL;
  char *out = sentinel();
  dhc_code rc = dhc_connection_list(store, json, 0, &out, &err);
  if (rc != DHC_INVALID_ARGUMENT) {
    fprintf(stderr, "list(%.80s): got %d (%s)\n", json, (int)rc, dhc_error_message(err));
    dhc_test_failures++;
  }
  CHECK(out == NULL);
  dhc_error_free(err);
}

static void open_fails(const char *config) {
  dhc_error *err = NULL;
  dhc_store *store = (dhc_store *)sentinel();
  dhc_code rc = dhc_store_open(config, &store, &err);
  if (rc != DHC_INVALID_ARGUMENT) {
    fprintf(stderr, "open(%.100s): got %d (%s)\n", config ? config : "NULL", (int)rc,
            dhc_error_message(err));
    dhc_test_failures++;
  }
  CHECK(store == NULL);
  CHECK(strstr(dhc_error_message(err), "MDEyMzQ1") == NULL); /* no key material quoted */
  dhc_error_free(err);
  if (rc == DHC_OK) dhc_store_close(store);
}

static void bad_creates(dhc_store *store) {
  static char deep[200010];
  static char long_name[300];
  size_t i;
  create_fails(store, "", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":", DHC_INVALID_ARGUMENT);
  create_fails(store, "[]", DHC_INVALID_ARGUMENT);
  create_fails(store, "null", DHC_INVALID_ARGUMENT);
  create_fails(store,
               "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":" GOOD_DETAILS
               "} trailing",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               GOOD_DETAILS ",\"bogus\":1}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"name\":\"" PREFIX "y\",\"type\":\"POSTGRESQL\","
               "\"connection_details\":" GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":5,\"type\":\"POSTGRESQL\",\"connection_details\":" GOOD_DETAILS "}",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"connection_details\":" GOOD_DETAILS "}",
               DHC_INVALID_ARGUMENT); /* type missing */
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"MYSQL\",\"connection_details\":"
               GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"tags\":\"prod\","
               "\"connection_details\":" GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"tags\":[1],"
               "\"connection_details\":" GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":[]}",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"port\":5432.5}}",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":{\"a\":1},\"database\":\"d\",\"username\":\"u\"}}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"passwrd\":\"" SECRET "\"}}",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"password\":true}}",
               DHC_INVALID_ARGUMENT);
  /* Invalid UTF-8: a stray byte, an overlong encoding, in the name and in a secret. */
  create_fails(store, "{\"name\":\"" PREFIX "\xff\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "\xc0\xaf\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"db\",\"database\":\"d\",\"username\":\"u\",\"password\":\"\xed\xa0\x80\"}}",
               DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"h\\udc00\",\"database\":\"d\",\"username\":\"u\"}}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               "{\"host\":\"h\\ud800\",\"database\":\"d\",\"username\":\"u\"}}", DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"" PREFIX "\\u0000x\",\"type\":\"POSTGRESQL\",\"connection_details\":"
               GOOD_DETAILS "}", DHC_INVALID_ARGUMENT);
  /* Over-long name (101 characters) and an empty one. */
  memset(long_name, 0, sizeof long_name);
  strcpy(long_name, "{\"name\":\"" PREFIX);
  for (i = strlen(PREFIX); i < 101; i++) strcat(long_name, "n");
  strcat(long_name, "\",\"type\":\"POSTGRESQL\",\"connection_details\":{\"host\":\"db\","
                    "\"database\":\"d\",\"username\":\"u\"}}");
  create_fails(store, long_name, DHC_INVALID_ARGUMENT);
  create_fails(store, "{\"name\":\"\",\"type\":\"POSTGRESQL\",\"connection_details\":" GOOD_DETAILS "}",
               DHC_INVALID_ARGUMENT);
  /* 100000 nested arrays: rejected without recursing. */
  for (i = 0; i < 100000; i++) deep[i] = '[';
  for (i = 100000; i < 200000; i++) deep[i] = ']';
  create_fails(store, deep, DHC_INVALID_ARGUMENT);
}

static void bad_calls(dhc_store *store, int64_t id, const char *updated_at) {
  dhc_error *err = NULL;
  char *out = sentinel();
  char patch[256];
  const char *good = "{\"name\":\"" PREFIX "ok\",\"type\":\"POSTGRESQL\",\"connection_details\":"
                     GOOD_DETAILS "}";
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create(NULL, good, "tester", &out, &err));
  CHECK(out == NULL);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create(store, NULL, "tester", &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create(store, good, NULL, &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create(store, good, "", &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_create(store, good, "tester", NULL, &err));
  /* err may be NULL: only the code comes back. */
  CHECK(dhc_connection_create(store, "{", "tester", &out, NULL) == DHC_INVALID_ARGUMENT);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_get(NULL, id, 0, &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_get(store, id, 0, NULL, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_get(store, id, 0x80u, &out, &err));
  CHECK(out == NULL);
  CHECK_CODE(DHC_NOT_FOUND, dhc_connection_get(store, id + 1000000, 0, &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_find_by_name(store, NULL, 0, &out, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_connection_delete(NULL, id, &err));
  CHECK_CODE(DHC_NOT_FOUND, dhc_connection_delete(store, id + 1000000, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_schema_migrate(NULL, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_schema_status(NULL, NULL, NULL, &err));

  update_fails(store, id, "{\"name\":\"" PREFIX "renamed\"}", DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"name\":\"" PREFIX "r\",\"force\":true,\"expected_updated_at\":\"2024-01-01T00:00:00Z\"}",
               DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"name\":\"" PREFIX "r\",\"force\":\"yes\"}", DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"name\":\"" PREFIX "r\",\"expected_updated_at\":\"yesterday\"}",
               DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"nme\":\"" PREFIX "r\",\"force\":true}", DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"description\":5,\"force\":true}", DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"tags\":null,\"force\":true}", DHC_INVALID_ARGUMENT); /* [] clears */
  update_fails(store, id, "{\"connection_details\":{\"port\":\"x\"},\"force\":true}", DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"connection_details\":{\"password\":[\"" SECRET "\"]},\"force\":true}",
               DHC_INVALID_ARGUMENT);
  /* Removing a field the type does not have (and the row does not hold) changes nothing. */
  update_fails(store, id, "{\"connection_details\":{\"no_such_field\":null},\"force\":true}",
               DHC_INVALID_ARGUMENT);
  /* Impossible times are refused, not normalised into another day that might match. */
  update_fails(store, id, "{\"name\":\"" PREFIX "r\",\"expected_updated_at\":\"2023-02-29T00:00:00.000000Z\"}",
               DHC_INVALID_ARGUMENT);
  update_fails(store, id, "{\"name\":\"" PREFIX "r\",\"expected_updated_at\":\"2024-12-31T23:59:60Z\"}",
               DHC_INVALID_ARGUMENT);
  {
    /* A NUL in an unknown field's name is escaped: the message is not cut short. */
    dhc_code rc = dhc_connection_update(store, id, "{\"x\\u0000y\":1,\"force\":true}", "tester", &out, &err);
    CHECK(rc == DHC_INVALID_ARGUMENT);
    CHECK(strstr(dhc_error_message(err), "\"x\\u0000y\"") != NULL);
    dhc_error_free(err);
    err = NULL;
  }
  update_fails(store, id + 1000000, "{\"name\":\"" PREFIX "r\",\"force\":true}", DHC_NOT_FOUND);
  update_fails(store, id, NULL, DHC_INVALID_ARGUMENT);
  snprintf(patch, sizeof patch,
           "{\"name\":\"" PREFIX "r\",\"expected_updated_at\":\"2001-01-01T00:00:00.000000Z\"}");
  update_fails(store, id, patch, DHC_CONFLICT);
  (void)updated_at;

  list_fails(store, "{\"limit\":\"10\"}");
  list_fails(store, "{\"limit\":10.5}");
  list_fails(store, "{\"limit\":0}");
  list_fails(store, "{\"limit\":100000}");
  list_fails(store, "{\"tags_any\":\"x\"}");
  list_fails(store, "{\"order\":\"name\"}");
  list_fails(store, "{} {}");
  list_fails(store, "{\"name_prefix\":\"\xfe\"}");
}

/* The message names the field as the caller wrote it (the parameter, the JSON member). */
static void names_field(dhc_code rc, dhc_error **err, const char *want) {
  const char *message = dhc_error_message(*err);
  if (rc != DHC_INVALID_ARGUMENT || strncmp(message, want, strlen(want)) != 0) {
    fprintf(stderr, "got %d \"%s\", want a message starting \"%s\"\n", (int)rc, message, want);
    dhc_test_failures++;
  }
  dhc_error_free(*err);
  *err = NULL;
}

static void messages_name_fields(dhc_store *store, int64_t id) {
  dhc_error *err = NULL;
  dhc_store *opened = NULL;
  char *out = NULL;
  const char *good = "{\"name\":\"" PREFIX "ok\",\"type\":\"POSTGRESQL\",\"connection_details\":"
                     GOOD_DETAILS "}";
  names_field(dhc_connection_create(store, good, "", &out, &err), &err, "actor: ");
  names_field(dhc_connection_update(store, id, "{\"force\":true}",
                                    "123456789012345678901234567890123456789012345678901", &out, &err),
              &err, "actor: ");
  names_field(dhc_connection_test(store, id, "{\"timeout_ms\":50}", &out, &err), &err, "timeout_ms: ");
  names_field(dhc_connection_create(store, "{\"name\":\"" PREFIX "x\",\"type\":\"POSTGRESQL\","
                                    "\"connection_details\":{\"host\":\"db\",\"database\":\"d\","
                                    "\"username\":\"u\",\"port\":5432.0}}", "tester", &out, &err),
              &err, "connection_details.port: must be an integer");
  names_field(dhc_connection_update(store, id, "{\"connection_details\":{\"port\":18446744073709551621},"
                                    "\"force\":true}", "tester", &out, &err),
              &err, "connection_details.port: must be an integer");
  /* A raw control character in a string: RapidJSON's own words were "Invalid escape character". */
  names_field(dhc_connection_create(store, "{\"name\":\"" PREFIX "tab\there\"}", "tester", &out, &err), &err,
              "connection_json: invalid JSON at offset 21: Control character in string");
  /* Inside "keys" a member is named by position (it could be key material), with what is allowed. */
  names_field(dhc_store_open("{\"database\":\"x\",\"keys\":{\"provider\":\"env\",\"pth\":\"/x\"}}",
                             &opened, &err),
              &err, "keys: unknown field (member 2); allowed: \"provider\" \"variable\"");
  /* At the top, a typo is quoted, a key pasted one level too high is not. */
  names_field(dhc_store_open("{\"database\":\"x\",\"pool_sise\":1}", &opened, &err),
              &err, "config_json: unknown field \"pool_sise\"; allowed: \"database\"");
  names_field(dhc_store_open("{\"database\":\"x\",\"q2lX0DUdm9FsP9jtLq2mYy9uTn0q1YV8x9AE0hW3B1s=\":1}",
                             &opened, &err),
              &err, "config_json: unknown field (member 2); allowed: \"database\" \"pool_size\"");
  CHECK(opened == NULL && out == NULL);
}

static void bad_configs(void) {
  const char *db = dhc_test_database();
  char config[4096];
  dhc_error *err = NULL;
  dhc_store *store = NULL;
  dhc_key_provider provider;
  open_fails(NULL);
  open_fails("");
  open_fails("{\"database\":\"x\"}"); /* keys missing */
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k\",\"keys\":"
             "{\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}},\"colour\":\"red\"}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k\",\"keys\":"
             "{\"k\":\"MDEyMzQ1\"}}}"); /* 6 bytes: too short */
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k\",\"keys\":"
             "{\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=!\"}}}"); /* not base64 */
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"other\",\"keys\":"
             "{\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}");
  /* Key material where an id belongs (swapped id and key): never quoted. The unpadded
     base64 of 33 bytes even passes the key-id alphabet. */
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k1\",\"keys\":"
             "{\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\":\"k1\"}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k1\",\"keys\":"
             "{\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx\":\"k1\"}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":"
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx\",\"keys\":"
             "{\"k1\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":"
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\",\"keys\":"
             "{\"k1\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k1\",\"keys\":"
             "{\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k1\",\"keys\":"
             "{\"k1\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\","
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\","
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}");
  /* A key pasted as a member of the keys object itself: named by position, not quoted. */
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"static\",\"primary\":\"k1\","
             "\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\":\"k1\",\"keys\":{}}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"env\",\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\":1}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"file\",\"path\":\"/nonexistent\"}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"kms\"}}");
  open_fails("{\"database\":\"x\",\"pool_size\":-1,\"keys\":{\"provider\":\"env\"}}");
  open_fails("{\"database\":\"x\",\"keys\":{\"provider\":\"env\",\"variable\":\"DHC_TEST_UNSET_VARIABLE\"}}");
  snprintf(config, sizeof config, "{\"database\":\"%s\",\"pool_size\":0,\"keys\":{\"provider\":"
           "\"static\",\"primary\":\"k\",\"keys\":{\"k\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"}}}",
           strchr(db, '"') ? "x" : db);
  open_fails(config);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_store_open("{}", NULL, &err));
  /* A provider and "keys" at once is ambiguous; a NULL provider or callback is refused. */
  memset(&provider, 0, sizeof provider);
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_store_open_with_provider("{\"database\":\"x\"}", NULL, &store, &err));
  CHECK_CODE(DHC_INVALID_ARGUMENT, dhc_store_open_with_provider("{\"database\":\"x\"}", &provider, &store, &err));
  CHECK(store == NULL);
  dhc_store_close(NULL);
  dhc_string_free(NULL);
  dhc_error_free(NULL);
  CHECK(dhc_error_code(NULL) == DHC_OK);
  CHECK(strcmp(dhc_error_message(NULL), "") == 0);
}

int main(void) {
  dhc_error *err = NULL;
  dhc_store *store = dhc_test_open(2);
  char *out = NULL, updated_at[64];
  int64_t id;
  long before;
  dhc_test_delete_prefix(PREFIX);
  CHECK_CODE(DHC_OK, dhc_connection_create(store, "{\"name\":\"" PREFIX "target\",\"type\":\"POSTGRESQL\","
             "\"connection_details\":" GOOD_DETAILS "}", "tester", &out, &err));
  if (out == NULL) return 1;
  id = dhc_test_json_int(out, "id");
  CHECK(dhc_test_json_string(out, "updated_at", updated_at, sizeof updated_at));
  dhc_string_free(out);

  before = dhc_test_count_rows();
  bad_creates(store);
  bad_calls(store, id, updated_at);
  bad_configs();
  messages_name_fields(store, id);
  CHECK(dhc_test_count_rows() == before);

  CHECK_CODE(DHC_OK, dhc_connection_get(store, id, 0, &out, &err));
  CHECK(out && strstr(out, "\"name\":\"" PREFIX "target\"") != NULL); /* unchanged */
  dhc_string_free(out);

  /* null for an optional member is "not given", as Go's encoding/json writes a nil slice,
   * and as a client hands back the last page's "next_after_id". */
  CHECK_CODE(DHC_OK, dhc_connection_create(store, "{\"name\":\"" PREFIX "null tags\",\"type\":\"POSTGRESQL\","
             "\"connection_details\":" GOOD_DETAILS ",\"tags\":null}", "tester", &out, &err));
  CHECK(out && strstr(out, "\"tags\":[]") != NULL);
  dhc_string_free(out);
  CHECK_CODE(DHC_OK, dhc_connection_list(store, "{\"name_prefix\":\"" PREFIX "null\",\"tags_all\":null,"
             "\"tags_any\":null,\"type\":null,\"after_id\":null,\"limit\":null}", 0, &out, &err));
  CHECK(out && strstr(out, PREFIX "null tags") != NULL);
  dhc_string_free(out);
  dhc_test_delete_prefix(PREFIX);
  dhc_store_close(store);
  TEST_DONE();
}
