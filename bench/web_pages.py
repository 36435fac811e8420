#!/usr/bin/env python3
"""Server-side time of the web pages, from the server's own info log line
per request ("GET /path 200 12.3ms").

  bench/web_pages.py BASE_URL SERVER_LOG DATABASE_URL [N]

For each page: N cold requests (the tables cache emptied before each one
with NOTIFY sendbench_data, as any data change does) and N warm ones
(answered from the cache).  Prints the median and max of each."""

import re
import statistics
import subprocess
import sys
import time
import urllib.request

PAGES = [
    "/authorities/E06000059",
    "/metrics/ehcp_caseload?authority=E06000059",
    "/metrics/pct_within_20_weeks?period=2021&authority=E06000059",
    "/api/v1/authorities/E06000059/evidence",
    "/api/v1/authorities/E06000059/evidence?format=csv",
    "/api/v1/authorities/E06000059/profile",
    "/api/v1/tables/ehcp_caseload?authority=E06000059",
]


def server_ms(log, start):
    with open(log) as f:
        f.seek(start)
        lines = f.read().splitlines()
    got = [float(m.group(1)) for m in (re.search(r" GET \S+ \d+ ([\d.]+)ms", l) for l in lines) if m]
    return got[-1]


def main():
    base, log, db = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 9
    print("%-64s %9s %9s %9s %9s" % ("page", "cold med", "cold max", "warm med", "warm max"))
    for p in PAGES:
        res = {}
        for mode in ("cold", "warm"):
            times = []
            for _ in range(n):
                if mode == "cold":
                    subprocess.run(["psql", "-X", "-q", db, "-c", "NOTIFY sendbench_data"], check=True)
                    time.sleep(0.05)
                import os
                start = os.path.getsize(log)
                with urllib.request.urlopen(base + p.replace(" ", "%20")) as r:
                    r.read()
                time.sleep(0.02)
                times.append(server_ms(log, start))
            res[mode] = times
        print("%-64s %9.1f %9.1f %9.2f %9.2f" % (p, statistics.median(res["cold"]), max(res["cold"]),
                                                statistics.median(res["warm"]), max(res["warm"])))


main()
