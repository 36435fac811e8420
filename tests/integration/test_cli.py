"""Every command parses its options from one table (include/cli.h,
server/cli_opts.c; issue 13 point 8): the same spelling (--name VALUE and
--name=VALUE), the same one-line reasons with exit status 2, --db for
every command, --help for every command, and a refused command changes no
row."""

import harness

TEMPLATE = "empty"

COMMANDS = ("serve", "migrate", "forecast", "backtest", "import", "quality", "token", "user",
            "consent")

# (argv, a phrase the one-line reason must contain)
REFUSED = (
    (["token", "create", "--admin", "--bogus"], 'unknown option "--bogus"'),
    (["token", "create", "--admin", "--admin"], "--admin is given twice"),
    (["token", "create", "--label"], "--label needs a value"),
    (["token", "create", "--admin", "--expires-days", "0"], "--expires-days must be a whole number from 1 to 36500"),
    (["token", "create", "--admin", "--expires-days=12x"], "--expires-days must be a whole number"),
    (["token", "create", "--admin", "--label", "x" * 201], "--label is limited to 200 characters"),
    (["token", "create", "--admin=yes"], "--admin takes no value"),
    (["token", "create", "--admin", "stray"], 'unexpected argument "stray"'),
    (["token", "revoke", "1", "2"], 'unexpected argument "2"'),
    (["token", "list", "--all"], 'unknown option "--all"'),
    (["user", "create", "--admin", "--email", "a@b.gov.uk", "--expires-days", "91"],
     "--expires-days must be a whole number from 1 to 90"),
    (["user", "disable", "a@b.gov.uk", "--base-url", "http://x"], 'unknown option "--base-url"'),
    (["consent", "--authority", "E06000059", "--name", "yes", "--name", "no"], "--name is given twice"),
    (["quality", "list", "extra"], 'unexpected argument "extra"'),
    (["quality", "release", "1", "--reason"], "--reason needs a value"),
    (["import", "neighbours", "--release", "r", "f.csv"], 'unknown option "--release"'),
    (["import", "sen2", "--published"], "--published needs a value"),
    (["forecast", "--authority", "E06000059", "--metric", "ehcp_caseload", "--horizon", "9"],
     "--horizon must be a whole number from 1 to 5"),
    (["backtest", "--metric", "ehcp_caseload", "--horizon", "0"], "--horizon must be a whole number"),
    (["migrate", "now"], 'unexpected argument "now"'),
)


def counts(t):
    return t.psql("SELECT (SELECT count(*) FROM tokens), (SELECT count(*) FROM users),"
                  " (SELECT count(*) FROM audit_log)")


def test_refused_arguments(t):
    before = counts(t)
    for argv, phrase in REFUSED:
        r = t.cli(*argv)
        what = " ".join(argv)[:80]
        t.eq(r.returncode, 2, "exit status of %s (stderr %r)" % (what, r.stderr))
        t.true(r.stderr.startswith("sendbench: ") and r.stderr.count("\n") == 1,
               "one line for %s: %r" % (what, r.stderr))
        t.true(phrase in r.stderr, "%s says %r: %r" % (what, phrase, r.stderr))
    t.eq(counts(t), before, "refused commands changed no row")


def test_equals_form_and_db_everywhere(t):
    before = counts(t)
    r = t.cli("token", "create", "--label=spelt with equals", "--expires-days=3", "--admin")
    t.eq(r.returncode, 0, "--name=VALUE accepted: " + r.stderr)
    rows = t.psql("SELECT label, expires_at::date - created_at::date FROM tokens ORDER BY id DESC LIMIT 1")
    t.eq(rows, [["spelt with equals", "3"]], "both options read")
    t.eq(int(counts(t)[0][0]), int(before[0][0]) + 1, "one token more")
    # --db URL and --db=URL name the database for every command, beside
    # the command's own options, without DATABASE_URL.
    url = harness.db_url(t.db)
    for argv in (["token", "list", "--db=" + url], ["token", "list", "--db", url],
                 ["user", "list", "--db", url], ["migrate", "--db=" + url]):
        r = harness.run_cli(None, *argv, env={"DATABASE_URL": ""})
        t.eq(r.returncode, 0, "%s %s: %r" % (argv[0], argv[1], r.stderr))


def test_help_for_every_command(t):
    for c in COMMANDS:
        r = t.cli(c, "--help")
        t.eq(r.returncode, 0, "%s --help exits 0: %r" % (c, r.stderr))
        t.true(r.stdout.startswith("usage: sendbench " + c), "%s --help: %r" % (c, r.stdout[:120]))
    r = t.cli("--help")
    for c in COMMANDS:
        t.true("  sendbench " + c in r.stdout, "sendbench --help lists %s" % c)
    t.true("import all" in r.stdout, "--help lists import all")
    r = t.cli("token", "create", "--help")
    t.eq((r.returncode, r.stdout.startswith("usage: sendbench token")), (0, True),
         "a subcommand's --help too")
