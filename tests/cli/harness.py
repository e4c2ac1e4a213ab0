"""Running dhconn and talking to the test database, for test_dhconn.py."""
import base64
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

# Spaces, both quotes, a backslash, '@', ':' and '/': breaks naive conninfo strings and URIs.
HOSTILE_PASSWORD = 's3 cr\'et "pw" \\ me@host:5432/db'
ROLE = "dh_cli_test_role"


def fail_loudly(message):
    print("test_dhconn: " + message, file=sys.stderr)
    sys.exit(1)


DATABASE = os.environ.get("DATAHUB_TEST_DATABASE") or fail_loudly(
    "DATAHUB_TEST_DATABASE is not set; run tests/run.sh")
PSQL = shutil.which("psql") or fail_loudly("psql not found")


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def conninfo_value(keyword, default=""):
    match = re.search(r"(?:^|\s)" + keyword + r"=(\S+)", DATABASE)
    return match.group(1) if match else default


def sql(statement):
    """Runs SQL as the cluster's superuser (via stdin: nothing in argv); returns stdout."""
    done = subprocess.run([PSQL, DATABASE, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"],
                          input="SET log_statement = 'none';\n" + statement + "\n",
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError("psql failed: " + done.stderr)
    return done.stdout.strip()


def literal(text):
    """A standard SQL string literal (standard_conforming_strings is on since 9.1)."""
    return "'" + text.replace("'", "''") + "'"


class Result:
    def __init__(self, args, code, out, err, seconds):
        self.args, self.code, self.out, self.err, self.seconds = args, code, out, err, seconds

    def __repr__(self):
        return "dhconn %s -> %d\nstdout: %s\nstderr: %s" % (self.args, self.code, self.out, self.err)


class Dhconn:
    """Runs the binary with a given environment and keeps every output for the leak check."""

    def __init__(self, binary, keys):
        self.binary = binary
        self.env = dict(os.environ)
        self.env.update({"DATAHUB_DATABASE": DATABASE, "DATAHUB_CONNECTIONS_KEYS": keys,
                         "DATAHUB_ACTOR": "cli-test"})
        self.env.pop("DATAHUB_TEST_DATABASE", None)
        self.outputs = []  # (args, text) of runs without --reveal

    def run(self, *args, stdin="", env=None, expect=None):
        started = time.monotonic()
        done = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=120)
        result = Result(list(args), done.returncode, done.stdout or "", done.stderr or "",
                        time.monotonic() - started)
        if "--reveal" not in args:
            self.outputs.append((args, result.out + result.err))
        if expect is not None and result.code != expect:
            raise AssertionError("expected exit %d: %r" % (expect, result))
        return result


def run_suite(cli, tests, secrets, after=None):
    """Runs each test from an empty table, reports every failure (not only the first), then
    checks that no output held one of `secrets`. `after` runs last, whatever happened.
    Returns the exit status."""
    failed = 0
    try:
        for test in tests:
            sql("DELETE FROM database_connections")  # each test starts from an empty table
            try:
                test(cli)
                print("ok   " + test.__name__)
            except Exception:
                failed += 1
                print("FAIL " + test.__name__)
                traceback.print_exc()
        leaks = [args for args, text in cli.outputs if any(secret in text for secret in secrets)]
        if leaks:
            failed += 1
            print("FAIL a secret appeared in: %r" % leaks)
        else:
            print("ok   no secret in %d outputs" % len(cli.outputs))
    finally:
        sql("DELETE FROM database_connections")
        if after:
            after()
    print("%d of %d failed" % (failed, len(tests) + 1))
    return 1 if failed else 0
