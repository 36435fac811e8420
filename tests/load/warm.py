#!/usr/bin/env python3
"""tests/load/warm.py BASE CODES_FILE: requests every read URL of
tests/load/mix.lua once (4 keep-alive connections), so that the ceiling run
that follows finds every reply in the cache.  Exits 1 when any answer is not
200.  Prints how many URLs and how long they took."""
import http.client
import sys
import threading
import time
import urllib.parse

METRICS = ["ehcp_caseload", "requests_received", "new_plans_issued", "pct_within_20_weeks"]


def urls(codes):
    out = ["/api/v1/tables/%s?period=2021" % m for m in METRICS]
    for a in codes:
        out.append("/api/v1/authorities/%s/profile" % a)
        out.append("/api/v1/forecasts/ehcp_caseload?authority=%s" % a)
        for m in METRICS:
            for g in ("region", "neighbours"):
                out.append("/api/v1/tables/%s?period=2021&group=%s&authority=%s" % (m, g, a))
    return out


def main():
    base = urllib.parse.urlsplit(sys.argv[1])
    codes = [line.strip() for line in open(sys.argv[2]) if line.strip()]
    todo = urls(codes)
    bad = []
    lock = threading.Lock()

    def worker(part):
        conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
        for u in part:
            conn.request("GET", u)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                with lock:
                    bad.append((u, resp.status))
        conn.close()

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(todo[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print("warm-up: %d read URLs in %.1f s" % (len(todo), time.time() - t0))
    for u, s in bad[:10]:
        print("warm-up: %s answered %d" % (u, s))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
