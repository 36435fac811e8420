#!/usr/bin/env python3
"""bench/uncached.py BASE CODES_FILE [N]: the time of replies the server
must compute (nothing cached for them yet), one request at a time over one
keep-alive connection, for N authorities (default 60) per endpoint:

  profile         GET /api/v1/authorities/{code}/profile
  table           GET /api/v1/tables/new_plans_issued?period=2021&group=neighbours&authority={code}
  table_derived   GET /api/v1/tables/pct_within_20_weeks?period=2021&group=neighbours&authority={code}
  evidence        GET /api/v1/authorities/{code}/evidence

Each URL is requested once, so each is a cache miss; the database queries
the server sent meanwhile (/metrics) are printed beside, as the check that
every request was computed.  A URL that does not answer 200 is left out
of the times and counted.  Prints one line per endpoint:
  UNCACHED item=profile n=60 median_ms=... p90_ms=... max_ms=... queries=... errors=..."""
import http.client
import statistics
import sys
import time
import urllib.parse

PATHS = [
    ("profile", "/api/v1/authorities/%s/profile"),
    ("table", "/api/v1/tables/new_plans_issued?period=2021&group=neighbours&authority=%s"),
    ("table_derived", "/api/v1/tables/pct_within_20_weeks?period=2021&group=neighbours&authority=%s"),
    ("evidence", "/api/v1/authorities/%s/evidence"),
]


def queries(conn):
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    for line in body.splitlines():
        if line.startswith("sendbench_db_queries_total "):
            return int(float(line.split()[1]))
    return 0


def main():
    base = urllib.parse.urlsplit(sys.argv[1])
    codes = [c.strip() for c in open(sys.argv[2]) if c.strip()]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    codes = codes[:n]
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    failed = 0
    for item, pattern in PATHS:
        q0 = queries(conn)
        times, errors = [], 0
        for code in codes:
            t0 = time.perf_counter()
            conn.request("GET", pattern % code)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                print("uncached: %s answered %d" % (pattern % code, resp.status), file=sys.stderr)
                errors += 1
                continue
            times.append((time.perf_counter() - t0) * 1000)
        q1 = queries(conn)
        times.sort() if times else times.append(float("nan"))
        print("UNCACHED item=%s n=%d median_ms=%.2f p90_ms=%.2f max_ms=%.2f queries=%d errors=%d"
              % (item, len(times), statistics.median(times), times[int(0.9 * (len(times) - 1))],
                 times[-1], q1 - q0, errors))
        failed += errors
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
