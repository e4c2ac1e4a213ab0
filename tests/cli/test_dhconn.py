#!/usr/bin/env python3
"""dhconn against a real PostgreSQL: every command, its exit codes, and no leaked secret.

Usage: test_dhconn.py PATH/TO/dhconn   (needs DATAHUB_TEST_DATABASE; see tests/run.sh)
"""
import json
import os
import pty
import socket
import subprocess
import sys
import tempfile

import harness
from harness import HOSTILE_PASSWORD, ROLE, sql

OK, OTHER, USAGE, NOT_FOUND, CONFLICT, KEY, UNAVAILABLE = 0, 1, 2, 3, 4, 5, 6
KEY1 = harness.new_key()
PASSPHRASE = "correct horse battery staple"


def add(cli, name, password=HOSTILE_PASSWORD, *extra, host="db.example.com", dbname="main_db",
        username="app_user"):
    result = cli.run("add", "--name", name, "--host", host, "--dbname", dbname, "--username", username,
                     "--password-stdin", "--json", *extra, stdin=password + "\n", expect=OK)
    return json.loads(result.out)


def get_json(cli, ident, *extra):
    return json.loads(cli.run("get", str(ident), "--json", *extra, expect=OK).out)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_clear_line(result):
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dhconn: "), result


def test_help_everywhere(cli):
    top = cli.run("--help", expect=OK)
    assert "Exit codes" in top.out and "6 database unavailable" in top.out
    for command in (["migrate"], ["add"], ["get"], ["list"], ["update"], ["delete"], ["test"], ["keys"],
                    ["keys", "census"], ["keys", "rotate"], ["keys", "verify"], ["export"], ["import"]):
        result = cli.run(*command, "--help", expect=OK)
        assert "Exit codes" in result.out, result


def test_usage_errors(cli):
    for args in ([], ["frobnicate"], ["get", "abc"], ["get"], ["add", "--host", "h"], ["list", "--bogus"],
                 ["add", "--name", "n", "--host", "h", "--dbname", "d", "--username", "u", "--password", "x"],
                 ["migrate", "up", "--drop-table"], ["update", "1", "--name", "x"]):
        one_clear_line(cli.run(*args, expect=USAGE))
    # A password typed into argv is refused by name and not echoed back.
    for args in (["--password", "hunter2"], ["--password=hunter2"]):
        result = cli.run("add", "--name", "n", "--host", "h", "--dbname", "d", "--username", "u", *args, expect=USAGE)
        one_clear_line(result)
        assert "hunter2" not in result.err and "--password-stdin" in result.err, result
    # No password source and no terminal: refused rather than guessed.
    result = cli.run("add", "--name", "n", "--host", "h", "--dbname", "d", "--username", "u", expect=USAGE)
    assert "--password-stdin" in result.err
    for value in ("nan", "-nan", "inf", "0.05"):  # NaN passed the range check into a float-to-int cast
        result = cli.run("test", "1", "--timeout", value, expect=USAGE)
        assert result.err.startswith("dhconn: --timeout"), result
    result = cli.run("list", env={"DATAHUB_DATABASE": ""}, expect=USAGE)
    assert "DATAHUB_DATABASE" in result.err


def test_migrate(cli):
    assert "4 of 4" in cli.run("migrate", "status", expect=OK).out
    cli.run("migrate", "down", expect=OK)
    assert sql("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'idx_database_connections_%'") == "0"
    assert sql("SELECT count(*) FROM database_connections") == "0"  # the table stays
    assert "1 of 4" in cli.run("migrate", "status", expect=OK).out
    cli.run("migrate", expect=OK)
    assert sql("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'idx_database_connections_%'") == "2"  # the seed's two
    cli.run("migrate", "down", "--drop-table", expect=OK)
    assert sql("SELECT to_regclass('database_connections') IS NULL") == "t"
    assert "0 of 4" in cli.run("migrate", "status", expect=OK).out
    cli.run("migrate", "up", expect=OK)


def test_add_get_delete(cli):
    created = add(cli, "Production DB", HOSTILE_PASSWORD, "--tag", "production", "--description", "Main")
    assert created["redacted"] == ["password"] and "password" not in created["connection_details"]
    shown = cli.run("get", str(created["id"]), expect=OK)
    assert "(redacted" in shown.out and "Production DB" in shown.out
    revealed = get_json(cli, created["id"], "--reveal")
    assert revealed["connection_details"]["password"] == HOSTILE_PASSWORD
    conninfo = cli.run("get", str(created["id"]), "--conninfo", "--reveal", expect=OK).out
    assert "password='s3 cr\\'et \"pw\" \\\\ me@host:5432/db'" in conninfo, conninfo
    assert "password" not in cli.run("get", str(created["id"]), "--uri", expect=OK).out
    with tempfile.NamedTemporaryFile("w", suffix=".pw") as f:
        f.write("from-a-file\n")
        f.flush()
        second = cli.run("add", "--name", "From file", "--host", "h2", "--dbname", "d", "--username", "u",
                         "--password-file", f.name, "--json", expect=OK)
    assert get_json(cli, json.loads(second.out)["id"], "--reveal")["connection_details"]["password"] == "from-a-file"
    third = json.loads(cli.run("add", "--name", "Peer auth", "--host", "/run/postgresql", "--dbname", "d",
                               "--username", "u", "--no-password", "--json", expect=OK).out)
    assert third["redacted"] == []
    one_clear_line(cli.run("add", "--name", "x" * 101, "--host", "h", "--dbname", "d", "--username", "u",
                           "--no-password", expect=USAGE))
    cli.run("delete", str(third["id"]), expect=OK)
    one_clear_line(cli.run("delete", str(third["id"]), expect=NOT_FOUND))
    one_clear_line(cli.run("get", "999999", expect=NOT_FOUND))


def test_list(cli):
    for i, tags in enumerate([["a", "b"], ["a"], ["b"], []]):
        add(cli, "svc-%d" % i, "pw", *sum((["--tag", t] for t in tags), []))
    add(cli, "other", "pw")
    table = cli.run("list", expect=OK).out.splitlines()
    assert table[0].split()[:3] == ["ID", "NAME", "TYPE"] and len(table) == 6
    names = lambda *args: [c["name"] for c in json.loads(cli.run("list", "--json", *args, expect=OK).out)]
    assert names("--page-size", "1") == ["svc-0", "svc-1", "svc-2", "svc-3", "other"]
    assert names("--tag", "a", "--tag", "b") == ["svc-0"]
    assert names("--any-tag", "a", "--any-tag", "b") == ["svc-0", "svc-1", "svc-2"]
    assert names("--name-prefix", "svc-", "--tag", "b") == ["svc-0", "svc-2"]
    assert names("--type", "POSTGRESQL") == names()
    one_clear_line(cli.run("list", "--type", "NOPE", expect=USAGE))


def test_update(cli):
    c = add(cli, "To change", "old-password")
    ident = str(c["id"])
    one_clear_line(cli.run("update", ident, "--host", "db2", expect=USAGE))  # no version check chosen
    stale = "2001-01-01T00:00:00Z"
    one_clear_line(cli.run("update", ident, "--host", "db2", "--expected-updated-at", stale, expect=CONFLICT))
    updated = json.loads(cli.run("update", ident, "--host", "db2", "--tag", "t1", "--expected-updated-at",
                                 c["updated_at"], "--json", expect=OK).out)
    assert updated["connection_details"]["host"] == "db2" and updated["tags"] == ["t1"]
    # The version we read is now old: the same check fails.
    cli.run("update", ident, "--name", "again", "--expected-updated-at", c["updated_at"], expect=CONFLICT)
    cli.run("update", ident, "--password-stdin", "--force", stdin="new-password\n", expect=OK)
    assert get_json(cli, ident, "--reveal")["connection_details"]["password"] == "new-password"
    cli.run("update", ident, "--remove-password", "--clear-tags", "--force", expect=OK)
    after = get_json(cli, ident)
    assert after["redacted"] == [] and after["tags"] == [] and after["connection_details"]["host"] == "db2"
    one_clear_line(cli.run("update", ident, "--force", expect=USAGE))  # nothing to change
    one_clear_line(cli.run("update", "999999", "--name", "x", "--force", expect=NOT_FOUND))


def test_test_command(cli):
    port = harness.conninfo_value("port", "5432")
    dbname = harness.conninfo_value("dbname")
    host = os.environ.get("DATAHUB_TEST_PG_HOST_TCP", "127.0.0.1")
    sql("DROP ROLE IF EXISTS %s; CREATE ROLE %s LOGIN PASSWORD %s" % (ROLE, ROLE, harness.literal(HOSTILE_PASSWORD)))
    try:
        good = add(cli, "Live", HOSTILE_PASSWORD, "--port", port, "--sslmode", "disable",
                   host=host, dbname=dbname, username=ROLE)
        result = cli.run("test", str(good["id"]), expect=OK)
        assert result.out.startswith("ok: ") and "PostgreSQL" in result.out, result
        outcome = json.loads(cli.run("test", str(good["id"]), "--json", expect=OK).out)
        assert outcome["ok"] and outcome["server_version"] and outcome["failure"] is None
        cases = [("authentication_failed", dict(password="wrong " + HOSTILE_PASSWORD, port=port, dbname=dbname)),
                 ("unreachable", dict(password=HOSTILE_PASSWORD, port=str(closed_port()), dbname=dbname)),
                 ("database_missing", dict(password=HOSTILE_PASSWORD, port=port, dbname="no_such_db"))]
        for failure, c in cases:
            bad = add(cli, failure, c["password"], "--port", c["port"], "--sslmode", "disable",
                      host=host, dbname=c["dbname"], username=ROLE)
            outcome = json.loads(cli.run("test", str(bad["id"]), "--json", "--timeout", "5", expect=OTHER).out)
            assert outcome["ok"] is False and outcome["failure"] == failure, outcome
            assert failure in cli.run("test", str(bad["id"]), expect=OTHER).out
        one_clear_line(cli.run("test", "999999", expect=NOT_FOUND))
    finally:
        sql("DROP ROLE IF EXISTS %s" % ROLE)


def test_wrong_key_and_down_database(cli):
    c = add(cli, "Sealed", HOSTILE_PASSWORD)
    same_id_other_key = {"DATAHUB_CONNECTIONS_KEYS": "cli-k1:" + harness.new_key()}
    result = cli.run("get", str(c["id"]), "--reveal", env=same_id_other_key, expect=KEY)
    one_clear_line(result)
    assert HOSTILE_PASSWORD not in result.out + result.err
    result = cli.run("get", str(c["id"]), "--reveal", env={"DATAHUB_CONNECTIONS_KEYS": "other:" + harness.new_key()},
                     expect=KEY)
    one_clear_line(result)
    one_clear_line(cli.run("list", env={"DATAHUB_CONNECTIONS_KEYS": "k:not base64!"}, expect=KEY))
    one_clear_line(cli.run("list", env={"DATAHUB_CONNECTIONS_KEYS": ""}, expect=USAGE))
    down = {"DATAHUB_DATABASE": "host=127.0.0.1 port=%d dbname=x user=datahub" % closed_port()}
    for args in (["list"], ["get", "1"], ["migrate", "status"]):
        result = cli.run(*args, env=down, expect=UNAVAILABLE)
        one_clear_line(result)
        assert "unavailable" in result.err and result.seconds < 5, result


def test_keys(cli):
    sql("DELETE FROM database_connections")
    for i in range(3):
        add(cli, "k-%d" % i, "pw-%d" % i)
    census = json.loads(cli.run("keys", "census", "--json", expect=OK).out)
    assert census["primary"] == "cli-k1" and census["keys"][0]["rows"] == 3
    key2 = harness.new_key()
    both = {"DATAHUB_CONNECTIONS_KEYS": "cli-k2:%s,cli-k1:%s" % (key2, KEY1)}
    dry = cli.run("keys", "rotate", "--dry-run", env=both, expect=OK)
    assert "would rewrite 3" in dry.out, dry
    assert json.loads(cli.run("keys", "census", "--json", env=both, expect=OK).out)["keys"][0]["kid"] == "cli-k1"
    rotated = cli.run("keys", "rotate", "--batch-size", "1", "--workers", "2", env=both, expect=OK)
    assert "rotate: " in rotated.err and "\r" not in rotated.err, rotated  # plain lines off a terminal
    census = json.loads(cli.run("keys", "census", "--json", env=both, expect=OK).out)
    assert [(k["kid"], k["rows"]) for k in census["keys"]] == [("cli-k2", 3)]
    assert "all open" in cli.run("keys", "verify", env=both, expect=OK).out
    report = json.loads(cli.run("keys", "verify", "--json", expect=KEY).out)  # only the old key
    assert report["checked"] == 3 and len(report["failed"]) == 3
    # On a terminal, rotate draws a bar in place.
    add(cli, "k-new", "pw")
    master, slave = pty.openpty()
    subprocess.run([cli.binary, "keys", "rotate"], env={**cli.env, **both}, stdout=subprocess.PIPE,
                   stderr=slave, timeout=60, check=True)
    os.close(slave)
    drawn = os.read(master, 4096).decode()
    os.close(master)
    assert "\r[" in drawn and "#" in drawn, drawn


def test_export_import(cli):
    sql("DELETE FROM database_connections")
    add(cli, "Production DB", HOSTILE_PASSWORD, "--tag", "production")
    add(cli, "Reporting", "pw-reporting")
    before = json.loads(cli.run("list", "--json", expect=OK).out)
    plain = cli.run("export", expect=OK)
    assert plain.out.count("\n") == 2 and '"redacted":["password"]' in plain.out
    with tempfile.TemporaryDirectory() as tmp:
        sealed_path, pass_path, bad_path = (os.path.join(tmp, n) for n in ("sealed.jsonl", "pass", "bad.jsonl"))
        cli.run("export", "--output", sealed_path, "--passphrase-stdin", "--kdf", "scrypt", stdin=PASSPHRASE, expect=OK)
        assert os.stat(sealed_path).st_mode & 0o777 == 0o600
        sealed = open(sealed_path).read()
        cli.outputs.append((["export file"], sealed))
        assert '"sealed_secrets"' in sealed and "pw-reporting" not in sealed
        with open(pass_path, "w") as f:
            f.write(PASSPHRASE + "\n")
        one_clear_line(cli.run("import", sealed_path, "--passphrase-file", pass_path, expect=CONFLICT))
        sql("DELETE FROM database_connections")
        with open(os.path.join(tmp, "wrong"), "w") as f:
            f.write("not the passphrase\n")
        wrong = cli.run("import", sealed_path, "--passphrase-file", os.path.join(tmp, "wrong"), expect=KEY)
        assert "line 1:" in wrong.err and "wrong passphrase" in wrong.err, wrong
        cli.run("import", sealed_path, expect=USAGE)  # sealed, no passphrase, no terminal
        assert sql("SELECT count(*) FROM database_connections") == "0"
        cli.run("import", sealed_path, "--passphrase-file", pass_path, "--dry-run", expect=OK)
        assert sql("SELECT count(*) FROM database_connections") == "0"
        imported = cli.run("import", sealed_path, "--passphrase-file", pass_path, expect=OK)
        assert "imported 2" in imported.out, imported
        assert json.loads(cli.run("list", "--json", expect=OK).out) == before
        assert get_json(cli, before[0]["id"], "--reveal")["connection_details"]["password"] == HOSTILE_PASSWORD
        # A file with bad lines: reported by number, nothing imported.
        sql("DELETE FROM database_connections")
        lines = plain.out.splitlines()
        with open(bad_path, "w") as f:
            f.write(lines[0] + "\n{oops\n" + lines[1].replace('"Reporting"', '""') + "\n")
        bad = cli.run("import", bad_path, expect=USAGE)
        assert "line 2:" in bad.err and "line 3: name:" in bad.err and "nothing imported" in bad.err, bad
        assert sql("SELECT count(*) FROM database_connections") == "0"
        cli.run("import", "-", stdin=plain.out, expect=OK)
        assert get_json(cli, before[0]["id"])["redacted"] == []  # imported without its password


def run_with_stdout(cli, stdout, *args, stdin="", preexec_fn=None):
    done = subprocess.run([cli.binary, *args], input=stdin, stdout=stdout, stderr=subprocess.PIPE, text=True,
                          env=cli.env, timeout=120, preexec_fn=preexec_fn)
    cli.outputs.append((list(args), done.stderr))
    return done


def test_output_failures(cli):
    ident = str(add(cli, "Production DB")["id"])
    # A full disk or a closed stdout: the export (or anything else) must not look written.
    with open("/dev/full", "w") as full:
        for args in (["export"], ["list"], ["get", ident, "--uri"]):
            done = run_with_stdout(cli, full, *args)
            assert done.returncode == OTHER and "cannot write to standard output" in done.stderr, (args, done)
            assert "exported" not in done.stderr, done
    # A closed stdout: the first descriptor opened (the database socket) must not take its place.
    for args in (["export"], ["get", ident, "--uri", "--reveal"]):
        done = run_with_stdout(cli, None, *args, preexec_fn=lambda: os.close(1))
        assert done.returncode == OTHER and "cannot write to standard output" in done.stderr, (args, done)


def test_export_file_is_never_redirected(cli):
    add(cli, "Production DB")
    with tempfile.TemporaryDirectory() as tmp:
        # A symlink planted where the export will go (a shared directory): refused, target untouched.
        victim, link = os.path.join(tmp, "victim"), os.path.join(tmp, "export.jsonl")
        with open(victim, "w") as f:
            f.write("keep me\n")
        os.chmod(victim, 0o644)
        os.symlink(victim, link)
        result = cli.run("export", "--output", link, expect=OTHER)
        one_clear_line(result)
        assert open(victim).read() == "keep me\n" and os.stat(victim).st_mode & 0o777 == 0o644
        # A FIFO planted there: refused at once, not waited on (the harness would time out).
        fifo = os.path.join(tmp, "fifo.jsonl")
        os.mkfifo(fifo, 0o600)
        one_clear_line(cli.run("export", "--output", fifo, expect=OTHER))
        # A directory that does not exist: the reason, not a word about symlinks.
        result = cli.run("export", "--output", os.path.join(tmp, "no", "such.jsonl"), expect=OTHER)
        assert "No such file or directory" in result.err, result
        # A file of one's own is replaced, owner-only.
        mine = os.path.join(tmp, "mine.jsonl")
        with open(mine, "w") as f:
            f.write("x" * 100000)
        os.chmod(mine, 0o644)
        cli.run("export", "--output", mine, expect=OK)
        assert open(mine).read().count("\n") == 1 and os.stat(mine).st_mode & 0o777 == 0o600


def test_empty_secrets(cli):
    ident = str(add(cli, "Production DB")["id"])
    # An empty passphrase would seal nothing; an empty password from stdin is not a choice.
    for stdin in ("", "\n"):
        result = cli.run("export", "--passphrase-stdin", stdin=stdin, expect=USAGE)
        assert result.out == "" and "empty" in result.err, result
        result = cli.run("add", "--name", "n", "--host", "h", "--dbname", "d", "--username", "u", "--password-stdin",
                         stdin=stdin, expect=USAGE)
        assert "--no-password" in result.err, result
        cli.run("update", ident, "--password-stdin", "--force", stdin=stdin, expect=USAGE)
    assert sql("SELECT count(*) FROM database_connections") == "1"
    assert get_json(cli, ident, "--reveal")["connection_details"]["password"] == HOSTILE_PASSWORD


def test_control_characters_never_reach_the_terminal(cli):
    # Names, descriptions and details are anyone's who can add a record, and an import file is
    # anyone's: an escape sequence or a newline in them must not reach the operator's terminal.
    hostile = "x\x1b]0;owned\x07\x1b[2J\nfake line\u009b1m"
    ident = str(add(cli, hostile, "pw", "--description", hostile, "--tag", hostile,
                    host="h" + hostile, username="u\x1b[31m")["id"])
    outputs = [cli.run("get", ident, expect=OK).out, cli.run("list", expect=OK).out]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hostile.jsonl")
        line = json.loads(cli.run("export", expect=OK).out.splitlines()[0])
        line["id"] += 1000
        line["connection_details"][hostile] = 1  # a member name the error message names
        with open(path, "w") as f:
            f.write(json.dumps(line) + "\n")
        result = cli.run("import", path, expect=USAGE)
        assert len(result.err.splitlines()) == 2, result
        outputs.append(result.err)
    for text in outputs:
        assert "\x1b" not in text and "\x07" not in text and "\u009b" not in text and "fake line\n" not in text, text
    # JSON keeps every value exactly.
    assert get_json(cli, ident)["name"] == hostile


def test_keys_output_shows_control_characters(cli):
    # Key ids and cipher names are read from the rows, and another client of the table may
    # have written them: `keys census` printed them raw. (`test` quotes the record's host in
    # libpq's message: checked here too.)
    hostile = "\x1b]0;owned\x07\x1b[2J\nfake line\u009b1m"
    add(cli, "sealed", "pw")
    sql("INSERT INTO database_connections (name, type, connection_details, created_by, updated_by) VALUES "
        "('foreign', 'POSTGRESQL', jsonb_build_object('kid', %s::text, 'alg', %s::text), 'o', 'o')"
        % (harness.literal(hostile), harness.literal("A" + hostile)))
    # A row with no key id at all (another client's, in clear) is counted too, and named so.
    sql("INSERT INTO database_connections (name, type, connection_details, created_by, updated_by) VALUES "
        "('plain', 'POSTGRESQL', '{\"host\": \"h\"}', 'o', 'o')")
    census = cli.run("keys", "census", expect=OK)
    assert census.out.count("\n") == 5 and "?]0;owned??[2J?fake line?1m" in census.out, census
    assert "\n(no key id) " in census.out, census
    assert hostile in [k["kid"] for k in json.loads(cli.run("keys", "census", "--json", expect=OK).out)["keys"]]
    outputs = [census.out, cli.run("keys", "verify", expect=KEY).out,
               cli.run("keys", "rotate", "--dry-run", expect=KEY).out]
    tested = str(add(cli, "socket", "pw", host="/nonexistent" + hostile)["id"])
    result = cli.run("test", tested, expect=OTHER)
    assert "/nonexistent?]0;owned" in result.out, result
    outputs.append(result.out)
    for text in outputs:
        assert "\x1b" not in text and "\x07" not in text and "\u009b" not in text and "fake line\n" not in text, text


def main():
    if len(sys.argv) != 2:
        harness.fail_loudly("usage: test_dhconn.py PATH/TO/dhconn")
    cli = harness.Dhconn(sys.argv[1], "cli-k1:" + KEY1)
    cli.run("migrate", expect=OK)
    tests = [test_help_everywhere, test_usage_errors, test_migrate, test_add_get_delete, test_list, test_update,
             test_test_command, test_wrong_key_and_down_database, test_keys, test_export_import,
             test_output_failures, test_export_file_is_never_redirected, test_empty_secrets, test_control_characters_never_reach_the_terminal,
             test_keys_output_shows_control_characters]
    # The schema is left complete for the other suites.
    return harness.run_suite(cli, tests, [HOSTILE_PASSWORD, "s3 cr'et"], after=lambda: cli.run("migrate"))


if __name__ == "__main__":
    sys.exit(main())
