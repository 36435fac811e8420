"""A quarter only awaiting approval is in force nowhere (issue 15/16): a
metric page's period list does not offer it, not even as a name, until
its version is approved."""

import json

TEMPLATE = "history"
Q = "2026-27 Q1"
TOK = {}


def page(t, query=""):
    # Each check asks for a page nobody asked for before: a version awaiting
    # approval sends no change notice, so a cached page would prove nothing.
    s, _, b = t.request("GET", "/metrics/ehcp_caseload" + query)
    t.eq(s, 200, "metric page")
    return b.decode()


def test_pending_quarter_is_not_listed(t):
    for name in ("sender", "approver"):
        r = t.cli("token", "create", "--admin", "--label", name)
        t.eq(r.returncode, 0, "token: " + r.stderr)
        TOK[name] = r.stdout.strip()
    before = page(t)
    t.true(">2025<" in before, "the published census year is offered")
    t.true(Q not in before, "nobody submitted the quarter yet")
    s, _, b = t.request("POST", "/api/v1/submissions",
                        headers={"Authorization": "Bearer " + TOK["sender"]},
                        body={"authority": "E06000059", "period": Q,
                              "figures": {"ehcp_caseload": 4711}})
    t.eq(s, 201, "stored, awaiting approval: %r" % b[:200])
    sid = json.loads(b)["id"]
    t.true(Q not in page(t, "?authority=E06000059"), "a version awaiting approval lists no period")
    s, _, b = t.request("POST", "/api/v1/submissions/%d/reject" % sid,
                        headers={"Authorization": "Bearer " + TOK["approver"]},
                        body={"reason": "figures from the wrong system"})
    t.eq(s, 200, "rejected: %r" % b[:200])
    after = page(t, "?authority=E06000058")
    t.true(Q not in after, "a rejected version lists no period")
    t.true("4711" not in after and "4,711" not in after, "its figure is nowhere")
