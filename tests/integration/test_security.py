"""Rate limits (per address, per token) and TLS."""

import os
import ssl
import subprocess
import tempfile

import harness

SERVER = False


def test_rate_limit_per_address_answers_429_with_retry_after(t):
    srv = harness.Server(t.db, env={"SENDBENCH_RATE_LIMIT": "5"})
    try:
        codes = [srv.request("GET", "/api/v1/metrics")[0] for _ in range(5)]
        t.eq(codes, [200] * 5, "within the limit")
        s, h, b = srv.request("GET", "/api/v1/metrics")
        t.server = srv
        t.json_error(s, b, 429, "rate_limited")
        t.true(int(h.get("retry-after", "0")) >= 1, "Retry-After")
        t.eq(srv.request("GET", "/healthz")[0], 200, "health exempt")
        # Another client address is not affected.
        t.eq(srv.request("GET", "/api/v1/metrics", source="127.0.0.2")[0], 200, "other address")
        # One token from two addresses shares one bucket.
        tok = {"Authorization": "Bearer sbk_sometoken"}
        codes = [srv.request("GET", "/api/v1/metrics", headers=tok, source="127.0.0.3")[0]
                 for _ in range(5)]
        t.eq(codes, [200] * 5, "token within limit")
        s, h, b = srv.request("GET", "/api/v1/metrics", headers=tok, source="127.0.0.4")
        t.json_error(s, b, 429, "rate_limited")
        s, h, b = srv.request("GET", "/metrics")
        t.true(b'sendbench_events_total{event="rate_limited"}' in b, "counted")
    finally:
        t.eq(srv.stop(), 0, "clean exit")
    with open(srv.log_path) as f:
        t.true("sometoken" not in f.read(), "token never logged")


def test_tls_with_self_signed_certificate(t):
    d = tempfile.mkdtemp(prefix="sendbench-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    t.eq(r.returncode, 0, "openssl: " + r.stderr)
    ctx = ssl.create_default_context(cafile=cert)
    srv = harness.Server(t.db, extra_args=["--tls-cert", cert, "--tls-key", key], tls_context=ctx)
    try:
        s, h, b = srv.request("GET", "/healthz", tls_context=ctx)
        t.eq(s, 200, "HTTPS health")
        s, h, b = srv.request("GET", "/nope", tls_context=ctx)
        t.json_error(s, b, 404, "not_found")
        plain_failed = False
        try:
            s, h, b = srv.request("GET", "/healthz", timeout=5)
            plain_failed = s != 200
        except Exception:
            plain_failed = True
        t.true(plain_failed, "plain HTTP is not served on the TLS port")
    finally:
        t.eq(srv.stop(), 0, "clean exit")
    r = harness.run_cli(t.db, "serve", "--port", "0", "--tls-cert", cert)
    t.true(r.returncode == 2 and "go together" in r.stderr, "cert without key refused")
    r = harness.run_cli(t.db, "serve", "--port", "0", "--tls-cert", cert, "--tls-key", cert)
    t.true(r.returncode != 0 and "TLS" in r.stderr, "bad key refused: " + r.stderr)
