"""People: accounts made with `sendbench user create`, the one-time set-up
link, Argon2id passwords, sign-in with its throttle, sessions in PostgreSQL
(cookie flags, new id at sign-in, idle and absolute time-outs, sign-out,
disabled accounts), CSRF on every form, and the audit of all of it."""

import os
import re
import ssl
import subprocess
import tempfile
import urllib.parse

import harness
from people import Client, make_user

DORSET, BCP = "E06000059", "E06000058"
PW = "correct horse battery"
LINK = {}


def test_setup_authorities(t):
    t.psql("""INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name) VALUES
              ('E06000059', '838', 'Dorset', 'E12000009', 'South West'),
              ('E06000058', '839', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West')""")


def test_user_create_prints_a_one_time_link(t):
    r = t.cli("user", "create", "--authority", "838", "--email", "Ann@Dorset.example", "--role",
              "submitter")
    t.eq(r.returncode, 0, "user create: " + r.stderr)
    link = r.stdout.strip()
    t.true(re.fullmatch(r"http://127\.0\.0\.1:8080/setup/[A-Za-z0-9_-]{43}", link), link)
    LINK["ann"] = urllib.parse.urlparse(link).path
    t.eq(t.psql("SELECT email, role, authority, password_hash IS NULL FROM users"),
         [["ann@dorset.example", "submitter", DORSET, "t"]], "account stored, DfE number resolved")
    secret = LINK["ann"].rsplit("/", 1)[1]
    t.eq(t.value("SELECT count(*) FROM user_setup_links WHERE hash = sha256(convert_to(:'p1', 'UTF8'))",
                 secret), "1", "only the link's SHA-256 is stored")
    t.eq(t.value("SELECT action FROM audit_log WHERE action = 'user.create'"), "user.create", "audited")
    for args, why in ((["user", "create", "--email", "x@y.example"], "no role"),
                      (["user", "create", "--authority", DORSET, "--email", "bad", "--role", "viewer"], "email"),
                      (["user", "create", "--authority", DORSET, "--email", "b@y.example", "--role", "boss"], "role"),
                      (["user", "create", "--admin", "--role", "viewer", "--email", "c@y.example"], "admin+role"),
                      (["user", "create", "--authority", "E06009999", "--email", "d@y.example", "--role", "viewer"], "authority"),
                      (["user", "create", "--authority", DORSET, "--email", "ANN@dorset.example", "--role", "viewer"], "taken"),
                      (["user", "frobnicate"], "subcommand")):
        r = t.cli(*args)
        t.eq(r.returncode, 2, "%s refused: %s" % (why, r.stderr))
        t.true(r.stderr.startswith("sendbench: ") and r.stderr.count("\n") == 1, r.stderr)
    t.eq(t.value("SELECT count(*) FROM users"), "1", "nothing stored by refused commands")


def test_setup_link_sets_an_argon2id_password_once(t):
    c = Client(t)
    s, h, b = c.form(LINK["ann"])
    t.eq(s, 200, "set-up page")
    t.true('<label for="password">New password</label>' in b and "ann@dorset.example" in b, b[:500])
    t.eq(h.get("cache-control"), "no-store", "never cached")
    # Without the CSRF field, or with a wrong one: 403 and nothing changes.
    s, _, _ = c.post(LINK["ann"], {"password": PW, "confirm": PW}, csrf=False)
    t.eq(s, 403, "no CSRF token")
    s, _, _ = c.post(LINK["ann"], {"password": PW, "confirm": PW}, csrf="A" * 43)
    t.eq(s, 403, "wrong CSRF token")
    t.eq(t.value("SELECT password_hash IS NULL FROM users"), "t", "nothing stored")
    c.form(LINK["ann"])
    s, _, b = c.post(LINK["ann"], {"password": "short", "confirm": "short"})
    t.eq(s, 400, "too short")
    t.true("at least 10 characters" in b and 'href="#password"' in b, "error links to the field")
    c.form(LINK["ann"])
    s, _, b = c.post(LINK["ann"], {"password": PW, "confirm": PW + "x"})
    t.eq(s, 400, "mismatch")
    c.form(LINK["ann"])
    s, h, b = c.post(LINK["ann"], {"password": PW, "confirm": PW})
    t.eq(s, 303, "set: " + b[:200])
    t.eq(h.get("location"), "/login?setup=done", "on to sign in")
    stored = t.value("SELECT password_hash FROM users")
    t.true(stored.startswith("$argon2id$v=19$m=65536,t=2,p=1$"), "libsodium Argon2id: " + stored[:40])
    t.true(PW not in stored, "hash, not the password")
    s, _, _ = c.get(LINK["ann"])
    t.eq(s, 404, "the link works once")
    t.eq(t.value("SELECT count(*) FROM audit_log WHERE action = 'user.password_set'"), "1", "audited")


def cookie_attrs(c, name):
    for sc in c.last_set_cookie:
        if sc.startswith(name + "="):
            return [a.strip() for a in sc.split(";")]
    return None


def test_sign_in_page_and_cookie_flags(t):
    c = Client(t)
    s, h, b = c.form("/login")
    t.eq(s, 200, "login page")
    for needle in ('<label for="email">Email</label>', '<label for="password">Password</label>',
                   '<button type="submit">Sign in</button>', 'name="csrf"'):
        t.true(needle in b, "login page has " + needle)
    # A session id planted before sign-in is never promoted.
    planted = "P" * 43
    c.cookies["sb_session"] = planted
    s, h, b = c.post("/login", {"email": "ann@dorset.example", "password": PW})
    t.eq(s, 303, "signed in: " + b[:300])
    t.eq(h.get("location"), "/returns", "to the returns")
    attrs = cookie_attrs(c, "sb_session")
    t.true(attrs is not None, "session cookie set")
    t.true("HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs, attrs)
    t.true("Secure" not in attrs, "no Secure over plain HTTP (the browser would drop it)")
    sid = c.cookies["sb_session"]
    t.true(sid != planted and re.fullmatch(r"[A-Za-z0-9_-]{43}", sid), "new session id")
    t.eq(t.value("SELECT count(*) FROM sessions WHERE hash = sha256(convert_to(:'p1', 'UTF8'))"
                 " AND ended_at IS NULL", sid), "1", "session stored as a hash")
    s, _, b = c.get("/login")
    t.true('id="signed-in"' in b and "ann@dorset.example" in b, "the page knows who is signed in")
    # Signing in again gives another id and ends the first session.
    c.form("/login")
    s, _, _ = c.post("/login", {"email": "ann@dorset.example", "password": PW})
    t.eq(s, 303, "again")
    t.true(c.cookies["sb_session"] != sid, "session id changes at each sign-in")
    t.eq(t.value("SELECT end_reason FROM sessions WHERE hash = sha256(convert_to(:'p1', 'UTF8'))",
                 sid), "signed_in_again", "old session ended")
    t.eq(t.value("SELECT count(*) FROM audit_log WHERE action = 'login.success'"), "2", "audited")


def test_sign_in_refusals(t):
    c = Client(t)
    before = t.value("SELECT count(*) FROM login_attempts")
    c.form("/login")
    s, _, _ = c.post("/login", {"email": "ann@dorset.example", "password": PW}, csrf=False)
    t.eq(s, 403, "no CSRF token on the sign-in form")
    s, _, _ = c.post("/login", {"email": "ann@dorset.example", "password": PW}, csrf="B" * 43)
    t.eq(s, 403, "wrong CSRF token")
    t.eq(t.value("SELECT count(*) FROM login_attempts"), before, "nothing recorded")
    t.true("sb_session" not in c.cookies, "no session")
    c.form("/login")
    s, _, b = c.post("/login", {"email": "ann@dorset.example", "password": "wrong password!"})
    t.eq(s, 401, "wrong password")
    t.true("email or password is not right" in b and 'href="#email"' in b, b[:400])
    t.true("sb_session" not in c.cookies, "no session")
    c.form("/login")
    s, _, _ = c.post("/login", {"email": "nobody@dorset.example", "password": PW})
    t.eq(s, 401, "unknown account answers the same")
    t.eq(t.value("SELECT count(*) FROM audit_log WHERE action = 'login.failure'"), "2", "audited")
    # An account whose set-up link is unused has no password to match.
    make_user(t, "new@dorset.example", "viewer", DORSET)
    c.form("/login")
    s, _, _ = c.post("/login", {"email": "new@dorset.example", "password": ""})
    t.eq(s, 400, "empty password")


def test_wrong_passwords_are_throttled_per_account(t):
    make_user(t, "bob@dorset.example", "approver", DORSET, password=PW)
    c = Client(t)
    for i in range(5):
        c.form("/login")
        s, _, _ = c.post("/login", {"email": "bob@dorset.example", "password": "guess %d!!!!" % i})
        t.eq(s, 401, "guess %d" % i)
    c.form("/login")
    s, h, b = c.post("/login", {"email": "bob@dorset.example", "password": PW})
    t.eq(s, 429, "throttled, even with the right password")
    t.eq(h.get("retry-after"), "900", "Retry-After: the window")
    t.true("sb_session" not in c.cookies, "no session")
    t.eq(t.value("SELECT count(*) FROM audit_log WHERE action = 'login.throttled'"), "1", "audited")
    # Another account from the same address is not locked by this one.
    c2 = Client(t)
    s, _, _ = c2.sign_in("ann@dorset.example", PW)
    t.eq(s, 303, "another account still signs in")
    # The window passes: the account signs in again.
    t.psql("UPDATE login_attempts SET at = at - interval '16 minutes'")
    s, _, _ = c.sign_in("bob@dorset.example", PW)
    t.eq(s, 303, "after the window")


def test_wrong_passwords_are_throttled_per_address(t):
    srv = harness.Server(t.db, env={"SENDBENCH_LOGIN_MAX_FAILURES_ADDRESS": "3"})
    try:
        t2 = harness.Ctx(t.db, srv)
        c = Client(t2, source="127.0.0.2")
        for i in range(3):
            c.form("/login")
            s, _, _ = c.post("/login", {"email": "spray%d@dorset.example" % i, "password": "x" * 12})
            t.eq(s, 401, "spray %d" % i)
        s, _, _ = c.sign_in("ann@dorset.example", PW)
        t.eq(s, 429, "the address is throttled, whichever account")
        s, _, _ = Client(t2, source="127.0.0.3").sign_in("ann@dorset.example", PW)
        t.eq(s, 303, "another address is not")
    finally:
        srv.stop()


def test_sign_out_needs_the_csrf_token(t):
    c = Client(t)
    c.sign_in("ann@dorset.example", PW)
    sid = c.cookies["sb_session"]
    s, _, b = c.get("/login")
    csrf = re.search(r'action="/logout".*?name="csrf" value="([^"]+)"', b).group(1)
    s, _, _ = c.post("/logout", {}, csrf=False)
    t.eq(s, 403, "no token")
    s, _, _ = c.post("/logout", {}, csrf="C" * 43)
    t.eq(s, 403, "wrong token")
    t.eq(t.value("SELECT ended_at IS NULL FROM sessions WHERE hash = sha256(convert_to(:'p1', 'UTF8'))",
                 sid), "t", "still signed in")
    s, h, _ = c.post("/logout", {}, csrf=csrf)
    t.eq(s, 303, "signed out")
    t.true("sb_session" not in c.cookies, "cookie cleared")
    t.eq(t.value("SELECT end_reason FROM sessions WHERE hash = sha256(convert_to(:'p1', 'UTF8'))",
                 sid), "signed_out", "session ended")
    c.cookies["sb_session"] = sid
    s, _, b = c.get("/login")
    t.true('id="signed-in"' not in b, "the old cookie no longer works")


def test_idle_and_absolute_time_outs(t):
    c = Client(t)
    c.sign_in("ann@dorset.example", PW)
    sid = c.cookies["sb_session"]

    def signed_in():
        return 'id="signed-in"' in c.get("/login")[2]
    t.true(signed_in(), "signed in")
    t.psql("UPDATE sessions SET last_seen_at = now() - interval '29 minutes'"
           " WHERE hash = sha256(convert_to(:'p1', 'UTF8'))", sid)
    t.true(signed_in(), "29 idle minutes: still signed in (and the use is recorded)")
    t.psql("UPDATE sessions SET last_seen_at = now() - interval '31 minutes'"
           " WHERE hash = sha256(convert_to(:'p1', 'UTF8'))", sid)
    t.true(not signed_in(), "31 idle minutes: signed out")
    c.sign_in("ann@dorset.example", PW)
    sid = c.cookies["sb_session"]
    t.psql("UPDATE sessions SET created_at = now() - interval '12 hours 1 minute'"
           " WHERE hash = sha256(convert_to(:'p1', 'UTF8'))", sid)
    t.true(not signed_in(), "after 12 hours, however busy: signed out")


def test_sessions_survive_a_restart(t):
    c = Client(t)
    c.sign_in("ann@dorset.example", PW)
    t.server.stop()
    t.server.__init__(t.db)
    t.true('id="signed-in"' in c.get("/login")[2], "kept in PostgreSQL")


def test_disabled_account_loses_its_sessions(t):
    c = Client(t)
    s, _, _ = c.sign_in("bob@dorset.example", PW)
    t.eq(s, 303, "bob in")
    r = t.cli("user", "disable", "bob@dorset.example")
    t.eq(r.returncode, 0, "disable: " + r.stderr)
    t.true('id="signed-in"' not in c.get("/login")[2], "session ended")
    s, _, _ = c.sign_in("bob@dorset.example", PW)
    t.eq(s, 401, "a disabled account cannot sign in")
    r = t.cli("user", "list")
    t.true("bob@dorset.example\tapprover\tE06000059\tdisabled" in r.stdout, r.stdout)
    t.true("$argon2id" not in r.stdout, "no hashes listed")
    r = t.cli("user", "link", "new@dorset.example")
    t.eq(r.returncode, 0, "new link: " + r.stderr)
    t.true("/setup/" in r.stdout, r.stdout)
    t.eq(t.value("SELECT count(*) FROM user_setup_links l JOIN users u ON u.id = l.user_id"
                 " WHERE u.email = 'new@dorset.example' AND l.expires_at > now()"), "1",
         "the earlier link stopped working")


def test_secure_cookie_under_tls(t):
    d = tempfile.mkdtemp(prefix="sendbench-tls-")
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False
    srv = harness.Server(t.db, extra_args=["--tls-cert", cert, "--tls-key", key], tls_context=ctx)
    try:
        s, h, _ = srv.request("GET", "/login", tls_context=ctx)
        t.eq(s, 200, "login over TLS")
        t.true("Secure" in h.get("set-cookie", ""), "Secure under TLS: " + h.get("set-cookie", ""))
    finally:
        srv.stop()
