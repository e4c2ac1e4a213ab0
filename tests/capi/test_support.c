/* Helpers shared by the C ABI tests. */
#include "test_support.h"

#include <libpq-fe.h>

#include <stdint.h>
#include <string.h>

int dhc_test_failures = 0;

const char *dhc_test_database(void) {
  const char *db = getenv("DATAHUB_TEST_DATABASE");
  if (db == NULL || *db == '\0') {
    fprintf(stderr, "FATAL: DATAHUB_TEST_DATABASE is not set (a libpq conninfo of a scratch "
                    "database); tests/run.sh sets it\n");
    exit(2);
  }
  return db;
}

static void base64(const unsigned char *in, size_t n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = t[v >> 18 & 63]; out[o++] = t[v >> 12 & 63];
    out[o++] = t[v >> 6 & 63];  out[o++] = t[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    out[o++] = t[v >> 18 & 63]; out[o++] = t[v >> 12 & 63]; out[o++] = '='; out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    out[o++] = t[v >> 18 & 63]; out[o++] = t[v >> 12 & 63]; out[o++] = t[v >> 6 & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

char *dhc_test_config(int pool_size) {
  unsigned char key[32];
  char b64[64], escaped[2048];
  const char *db = dhc_test_database();
  size_t o = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  char *config;
  if (f == NULL || fread(key, 1, sizeof key, f) != sizeof key) {
    fprintf(stderr, "FATAL: cannot read /dev/urandom\n");
    exit(2);
  }
  fclose(f);
  base64(key, sizeof key, b64);
  for (; *db && o + 2 < sizeof escaped; db++) { /* JSON-escape the conninfo */
    if (*db == '"' || *db == '\\') escaped[o++] = '\\';
    escaped[o++] = *db;
  }
  escaped[o] = '\0';
  config = malloc(4096);
  snprintf(config, 4096,
           "{\"database\": \"%s\", \"pool_size\": %d, \"keys\": {\"provider\": \"static\", "
           "\"primary\": \"test-key\", \"keys\": {\"test-key\": \"%s\"}}}",
           escaped, pool_size, b64);
  return config;
}

dhc_store *dhc_test_open(int pool_size) {
  dhc_store *store = NULL;
  dhc_error *err = NULL;
  char *config = dhc_test_config(pool_size);
  if (dhc_store_open(config, &store, &err) != DHC_OK || dhc_schema_migrate(store, &err) != DHC_OK) {
    fprintf(stderr, "FATAL: cannot open and migrate the test store: %s\n", dhc_error_message(err));
    exit(2);
  }
  free(config);
  return store;
}

static PGresult *run_sql(const char *sql, int nparams, const char *const *params) {
  PGconn *c = PQconnectdb(dhc_test_database());
  PGresult *r;
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "FATAL: libpq: %s\n", PQerrorMessage(c));
    exit(2);
  }
  r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
    fprintf(stderr, "FATAL: %s: %s\n", sql, PQerrorMessage(c));
    exit(2);
  }
  PQfinish(c);
  return r;
}

long dhc_test_count_rows(void) {
  PGresult *r = run_sql("SELECT count(*) FROM database_connections", 0, NULL);
  long n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

long dhc_test_count_prefix(const char *prefix) {
  const char *params[1];
  PGresult *r;
  long n;
  params[0] = prefix;
  r = run_sql("SELECT count(*) FROM database_connections WHERE starts_with(name, $1)", 1, params);
  n = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

void dhc_test_delete_prefix(const char *prefix) {
  const char *params[1];
  params[0] = prefix;
  PQclear(run_sql("DELETE FROM database_connections WHERE starts_with(name, $1)", 1, params));
}

static const char *find_value(const char *json, const char *key) {
  char pattern[128];
  const char *p;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  p = strstr(json, pattern);
  return p ? p + strlen(pattern) : NULL;
}

int dhc_test_json_string(const char *json, const char *key, char *buf, size_t cap) {
  const char *p = find_value(json, key), *end;
  if (p == NULL || *p != '"') return 0;
  end = strchr(p + 1, '"');
  if (end == NULL || (size_t)(end - p - 1) >= cap) return 0;
  memcpy(buf, p + 1, (size_t)(end - p - 1));
  buf[end - p - 1] = '\0';
  return 1;
}

long long dhc_test_json_int(const char *json, const char *key) {
  const char *p = find_value(json, key);
  if (p == NULL || *p == 'n') return -1;
  return atoll(p);
}
