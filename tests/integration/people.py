"""A browser-like client for the signed-in pages: keeps cookies, reads the
CSRF field of a form, posts forms.  Used by test_people and test_returns."""

import http.client
import re
import urllib.parse


class Client:
    def __init__(self, t, source=None):
        self.t = t
        self.cookies = {}
        self.source = source
        self.last_set_cookie = []

    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    def request(self, method, path, body=None, headers=None):
        h = {"Accept": "text/html"}
        h.update(headers or {})
        if self.cookies:
            h["Cookie"] = self.cookie_header()
        srv = self.t.server
        if srv.tls_context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=30,
                                               context=srv.tls_context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30,
                                              source_address=(self.source, 0) if self.source else None)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            b = resp.read()
            s = resp.status
            pairs = resp.getheaders()
        finally:
            conn.close()
        hdr = {k.lower(): v for k, v in pairs}
        self.last_set_cookie = []
        for k, c in pairs:
            if k.lower() != "set-cookie":
                continue
            self.last_set_cookie.append(c)
            name, _, rest = c.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in c or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return s, hdr, b.decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, csrf=True):
        """Posts fields; csrf=True takes the token from the last form got
        from this path (or the given string)."""
        f = dict(fields)
        if csrf is True:
            f["csrf"] = self.csrf
        elif csrf:
            f["csrf"] = csrf
        body = urllib.parse.urlencode(f)
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def form(self, path):
        s, h, b = self.get(path)
        self.csrf = form_csrf(b, path)
        return s, h, b

    def sign_in(self, email, password):
        self.form("/login")
        return self.post("/login", {"email": email, "password": password})


def form_csrf(html, action=None):
    """The CSRF token of the form posting to action (or of a form without
    an action, which posts to its own page), else of the first form."""
    for m in re.finditer(r'<form\b([^>]*)>(.*?)</form>', html, re.S):
        act = re.search(r'action="([^"]*)"', m.group(1))
        if action is None or (act and act.group(1) == action) or (not act):
            tok = re.search(r'name="csrf" value="([^"]+)"', m.group(2))
            if tok and (action is None or not act or act.group(1) == action):
                return tok.group(1)
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    return m.group(1) if m else None


def make_user(t, email, role, authority=None, password=None):
    args = ["user", "create", "--email", email]
    args += ["--admin"] if role == "admin" else ["--authority", authority, "--role", role]
    r = t.cli(*args)
    t.eq(r.returncode, 0, "user create: " + r.stderr)
    link = r.stdout.strip()
    if password:
        path = urllib.parse.urlparse(link).path
        c = Client(t)
        c.form(path)
        s, h, b = c.post(path, {"password": password, "confirm": password})
        t.eq(s, 303, "set-up: " + b[:300])
    return link
