/* Uses the installed SDK through the C ABI: open, migrate, create, get, delete. */
#include <datahub/connections.h>
#include <datahub/version.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, dhc_error *err) {
  fprintf(stderr, "consumer_c: %s: %s\n", what, err ? dhc_error_message(err) : "?");
  dhc_error_free(err);
  return 1;
}

int main(void) {
  const char *database = getenv("DATAHUB_TEST_DATABASE");
  dhc_store *store = NULL;
  dhc_error *err = NULL;
  char config[4096], *created = NULL, *got = NULL;
  long long id;
  if (!database) return 2;
  if (strcmp(dhc_version(), DATAHUB_CONNECTIONS_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer_c: dhc_version() %s != header %s\n", dhc_version(),
            DATAHUB_CONNECTIONS_VERSION_STRING);
    return 1;
  }
  /* The keys come from DATAHUB_CONNECTIONS_KEYS. The conninfo has no quotes or backslashes
     in the test setup, so it can be pasted into JSON as it is. */
  snprintf(config, sizeof config, "{\"database\": \"%s\", \"keys\": {\"provider\": \"env\"}}", database);
  if (dhc_store_open(config, &store, &err) != DHC_OK) return fail("open", err);
  if (dhc_schema_migrate(store, &err) != DHC_OK) return fail("migrate", err);
  if (dhc_connection_create(store,
                            "{\"name\": \"consumer (C)\", \"type\": \"POSTGRESQL\", \"connection_details\":"
                            " {\"host\": \"h\", \"database\": \"d\", \"username\": \"u\", \"password\": \"p\"}}",
                            "consumer", &created, &err) != DHC_OK)
    return fail("create", err);
  id = strtoll(strstr(created, "\"id\":") + 5, NULL, 10);
  if (dhc_connection_get(store, id, DHC_REVEAL_SECRETS, &got, &err) != DHC_OK) return fail("get", err);
  if (!strstr(got, "\"password\":\"p\"")) {
    fprintf(stderr, "consumer_c: password not revealed\n");
    return 1;
  }
  if (dhc_connection_delete(store, id, &err) != DHC_OK) return fail("delete", err);
  dhc_string_free(created);
  dhc_string_free(got);
  dhc_store_close(store);
  printf("consumer_c ok: version %s\n", dhc_version());
  return 0;
}
