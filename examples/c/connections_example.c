/* The DataHub Connections C ABI in one page: open a store, create a connection, read it
 * redacted and revealed, list, update, delete.
 *
 *   export DATAHUB_DATABASE="host=/run/postgresql dbname=datahub"
 *   export DATAHUB_CONNECTIONS_KEYS="local-1:$(head -c 32 /dev/urandom | base64)"
 *   ./connections_example_c
 */
#include <datahub/connections.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the error, frees it and everything, and exits. */
static void die(const char *what, dhc_error *err) {
  fprintf(stderr, "%s failed: code %d: %s\n", what, (int)dhc_error_code(err), dhc_error_message(err));
  dhc_error_free(err);
  exit(1);
}

/* Pulls a field out of the library's compact JSON; a real program uses a JSON parser. */
static int field(const char *json, const char *key, char *buf, size_t cap) {
  char pattern[64];
  const char *p, *end;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  if ((p = strstr(json, pattern)) == NULL) return 0;
  p += strlen(pattern);
  if (*p == '"') p++;
  end = p + strcspn(p, "\",}");
  if ((size_t)(end - p) >= cap) return 0;
  memcpy(buf, p, (size_t)(end - p));
  buf[end - p] = '\0';
  return 1;
}

int main(void) {
  const char *database = getenv("DATAHUB_DATABASE");
  char config[2048], id_text[32], updated_at[64], patch[256];
  dhc_store *store = NULL;
  dhc_error *err = NULL;
  char *json = NULL;
  long long id;

  if (database == NULL || getenv("DATAHUB_CONNECTIONS_KEYS") == NULL) {
    fprintf(stderr, "set DATAHUB_DATABASE (a libpq conninfo) and DATAHUB_CONNECTIONS_KEYS\n");
    return 2;
  }
  if (strpbrk(database, "\"\\") != NULL) { /* keep the example's JSON building simple */
    fprintf(stderr, "DATAHUB_DATABASE must not contain quotes or backslashes here\n");
    return 2;
  }
  printf("libdatahub_connections %s\n", dhc_version());

  /* Keys come from DATAHUB_CONNECTIONS_KEYS ("kid:base64,..."; the first is the primary). */
  snprintf(config, sizeof config,
           "{\"database\": \"%s\", \"pool_size\": 2, \"keys\": {\"provider\": \"env\"}}", database);
  if (dhc_store_open(config, &store, &err) != DHC_OK) die("dhc_store_open", err);
  if (dhc_schema_migrate(store, &err) != DHC_OK) die("dhc_schema_migrate", err);

  if (dhc_connection_create(store,
                            "{\"name\": \"Example DB (C)\", \"type\": \"POSTGRESQL\","
                            " \"description\": \"made by connections_example.c\","
                            " \"connection_details\": {\"host\": \"db.example.com\","
                            " \"database\": \"main_db\", \"username\": \"app_user\","
                            " \"password\": \"s3cret\"}, \"tags\": [\"example\"]}",
                            "example-c", &json, &err) != DHC_OK) {
    die("dhc_connection_create", err);
  }
  printf("created:  %s\n", json); /* the password is redacted */
  field(json, "id", id_text, sizeof id_text);
  id = atoll(id_text);
  dhc_string_free(json);

  /* Only code that connects to the target database should ask for the secrets. */
  if (dhc_connection_get(store, id, DHC_REVEAL_SECRETS, &json, &err) != DHC_OK) {
    die("dhc_connection_get", err);
  }
  printf("revealed: password present: %s\n", strstr(json, "s3cret") ? "yes" : "no");
  field(json, "updated_at", updated_at, sizeof updated_at);
  dhc_string_free(json); /* wipes the password before freeing */

  /* Optimistic update: pass back the updated_at you read; only the port changes. */
  snprintf(patch, sizeof patch,
           "{\"connection_details\": {\"port\": 6432}, \"expected_updated_at\": \"%s\"}",
           updated_at);
  if (dhc_connection_update(store, id, patch, "example-c", &json, &err) != DHC_OK) {
    die("dhc_connection_update", err);
  }
  printf("updated:  %s\n", json);
  dhc_string_free(json);

  if (dhc_connection_list(store, "{\"tags_all\": [\"example\"], \"limit\": 10}", 0, &json,
                          &err) != DHC_OK) {
    die("dhc_connection_list", err);
  }
  printf("listed:   %.120s...\n", json);
  dhc_string_free(json);

  if (dhc_connection_delete(store, id, &err) != DHC_OK) die("dhc_connection_delete", err);
  if (dhc_connection_get(store, id, 0, &json, &err) == DHC_NOT_FOUND) {
    printf("deleted:  get now says: %s\n", dhc_error_message(err));
  }
  dhc_error_free(err);
  dhc_store_close(store);
  return 0;
}
