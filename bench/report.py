#!/usr/bin/env python3
"""bench/report.py RESULTS.tsv OUT.md OUT.json: the tables of `make bench`.

RESULTS.tsv is written by bench/run.sh, one measurement a line:
section, item, key, value.  Ratios are computed here, each against the limit
measured in the same run, with the issue's target beside it."""
import json
import sys
from collections import OrderedDict


def load(path):
    res = OrderedDict()
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            sec, item, key, val = parts
            try:
                v = float(val) if key not in ("path", "note", "error", "cpu", "date", "kernel",
                                               "postgres", "wrk", "commit", "load_before",
                                               "load_after", "forecast_pkg", "huge_pages") else val
            except ValueError:
                v = val
            res.setdefault(sec, OrderedDict()).setdefault(item, OrderedDict())[key] = v
    return res


def g(res, sec, item, key):
    return res.get(sec, {}).get(item, {}).get(key)


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:,.{nd}f}"


def verdict(ratio, target, higher_is_better=True):
    if ratio is None:
        return "not measured"
    ok = ratio >= target if higher_is_better else ratio <= target
    return "meets" if ok else "MISSES"


def main():
    res = load(sys.argv[1])
    m = res.get("machine", {}).get("-", {})
    out = {"machine": m, "results": res, "summary": []}
    md = ["# sendbench benchmark (make bench)", ""]
    md.append(f"- date: {m.get('date')}, commit {m.get('commit')}")
    md.append(f"- machine: {int(m.get('cores', 0))} cores, {m.get('cpu')}, kernel {m.get('kernel')},"
              f" PostgreSQL {m.get('postgres')}")
    md.append(f"- wrk: {m.get('wrk')} for every run; load average before {m.get('load_before')},"
              f" after {m.get('load_after')} (the machine is shared)")
    if m.get("huge_pages"):
        md.append(f"- huge pages: {m.get('huge_pages')} (PostgreSQL's shared memory; both sides"
                  " of every comparison use the one cluster)")
    md.append("- server run with `--log-level warn --rate-limit 0` (no access-log line per request,"
              " no 429)")
    md.append("")

    summary = []

    # 1. reads
    md += ["## 1. HTTP reads (wrk on loopback; limit = bench/limit_server, same bytes, TCP_NODELAY)", "",
           "| endpoint | bytes | req/s | p50 ms | p99 ms | limit req/s | limit p50 | limit p99 | ratio | target |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for item, label, target in (("table", "cached table (neighbours)", 0.8),
                                ("table_england", "cached table (England)", 0.8),
                                ("profile", "authority profile", None),
                                ("forecast", "forecast", None)):
        s = res.get("reads", {}).get(item)
        lim = res.get("reads", {}).get(item + ".limit")
        if not s:
            continue
        if "error" in s or not lim or "error" in (lim or {}):
            md.append(f"| {label} | | {s.get('error', '')} {lim.get('error', '') if lim else ''} | | | | | | | |")
            continue
        ratio = s["req_s"] / lim["req_s"] if lim.get("req_s") else None
        tgt = f">= {target} ({verdict(ratio, target)})" if target else "-"
        md.append(f"| {label} `{s.get('path')}` | {int(s.get('bytes', 0)):,} | {fmt(s['req_s'])} |"
                  f" {fmt(s['p50_ms'], 3)} | {fmt(s['p99_ms'], 3)} | {fmt(lim['req_s'])} |"
                  f" {fmt(lim['p50_ms'], 3)} | {fmt(lim['p99_ms'], 3)} | {fmt(ratio, 2)} | {tgt} |")
        if target:
            summary.append({"what": f"reads: {label}", "value": s["req_s"], "limit": lim["req_s"],
                            "ratio": ratio, "target": target})
    rss = g(res, "reads", "server", "rss_kb")
    if rss:
        md += ["", f"Server resident memory after the read runs: {rss / 1024:.1f} MB."]
    md.append("")

    # 1a. uncached replies (bench/uncached.py): medians against bounds
    u = res.get("uncached", {})
    if u:
        md += ["## 1a. Uncached replies (computed, one at a time; bench/uncached.py)", "",
               "The first request of each URL, for different authorities, over one keep-alive"
               " connection: every one a cache miss (the database queries sent meanwhile are"
               " counted beside).", "",
               "| endpoint | requests | median ms | p90 ms | max ms | db queries | bound (median) | |",
               "|---|---|---|---|---|---|---|---|"]
        for item, label, bound in (("profile", "authority profile", 15.0),
                                   ("table", "table, neighbours (new plans issued)", 5.0),
                                   ("table_derived", "table, neighbours (20-week %, derived)", 5.0),
                                   ("evidence", "evidence pack", 50.0)):
            s = u.get(item)
            if not s:
                continue
            med = s.get("median_ms")
            ok = isinstance(med, float) and med == med and med <= bound and not s.get("errors")
            md.append(f"| {label} | {fmt(s.get('n'), 0)} | {fmt(med, 2)} | {fmt(s.get('p90_ms'), 2)} |"
                      f" {fmt(s.get('max_ms'), 2)} | {fmt(s.get('queries'), 0)} | <= {bound:g} ms |"
                      f" {'meets' if ok else 'MISSES'}{' (%d errors)' % s['errors'] if s.get('errors') else ''} |")
            summary.append({"what": f"uncached: {label} (median ms)", "value": med, "limit": bound,
                            "ratio": (med / bound) if isinstance(med, float) and bound else None,
                            "target": 1.0, "lower": True})
        md.append("")

    # 2. writes
    md += ["## 2. Writes (submissions/s; limit = pgbench, one transaction per submission)", ""]
    w = res.get("writes", {})
    if "api" in w and "error" in w["api"]:
        md.append(f"Not measured: {w['api']['error']}.")
    elif w:
        md += ["| side | clients | per second | p50 ms | p99 ms | notes |", "|---|---|---|---|---|---|"]
        api, pg = w.get("api", {}), w.get("pgbench", {})
        md.append(f"| API (wrk + bench/wrk_submit.lua) | {fmt(api.get('clients'), 0)} | {fmt(api.get('req_s'))} |"
                  f" {fmt(api.get('p50_ms'), 2)} | {fmt(api.get('p99_ms'), 2)} |"
                  f" non-2xx {fmt(api.get('non2xx'), 0)}, errors {fmt(api.get('errors'), 0)} |")
        md.append(f"| pgbench (bench/pgbench_submit.sql) | {fmt(pg.get('clients'), 0)} | {fmt(pg.get('tps'))} |"
                  f" | {fmt(pg.get('latency_ms'), 2)} (mean) | {pg.get('note', '')} |")
        ratio = api["req_s"] / pg["tps"] if api.get("req_s") and pg.get("tps") else None
        md += ["", f"Ratio {fmt(ratio, 2)} (target >= 0.5: {verdict(ratio, 0.5)})."]
        if api.get("note"):
            md.append(api["note"])
        summary.append({"what": "writes: submissions/s", "value": api.get("req_s"),
                        "limit": pg.get("tps"), "ratio": ratio, "target": 0.5})
    md.append("")

    # 3. import
    imp = res.get("import", {})
    md += ["## 3. Import of the shipped history (hyperfine -N, 20 runs after 2 warm-ups,"
           " fresh database each; the ratio uses medians)", ""]
    if imp.get("sendbench"):
        h = imp["history"]
        s, c = imp["sendbench"], imp["copy"]
        ratio = c["seconds"] / s["seconds"]
        def mean_sd(x):
            return (f"{x['mean']:.3f} ± {x['stddev']:.3f}" if "mean" in x
                    else f"{x['seconds']:.3f} ± {x['stddev']:.3f}")
        md += ["| side | seconds (median) | mean ± sd | observations/s | CSV rows/s |",
               "|---|---|---|---|---|",
               f"| `sendbench import all data/dfe` (what scripts/load_history.sh runs) |"
               f" {s['seconds']:.3f} | {mean_sd(s)} |"
               f" {h['observations'] / s['seconds']:,.0f} | {h['csv_rows'] / s['seconds']:,.0f} |",
               f"| limit: `psql \\copy` of the same rows into plain tables in a new database |"
               f" {c['seconds']:.3f} | {mean_sd(c)} | {h['observations'] / c['seconds']:,.0f} | |"]
        if imp.get("copy_reused"):
            r = imp["copy_reused"]
            md += [f"| (for reference) the same copy into the same tables reused and truncated |"
                   f" {r['seconds']:.3f} | {mean_sd(r)} | {h['observations'] / r['seconds']:,.0f} | |"]
        md += [
               "", f"{int(h['csv_rows']):,} CSV rows read, {int(h['observations']):,} observations and"
               f" {int(h['neighbour_links']):,} neighbour links written. Ratio (copy time / import time)"
               f" {ratio:.2f} (target >= 0.5: {verdict(ratio, 0.5)})."
               + (f" Against the copy into reused tables: {imp['copy_reused']['seconds'] / s['seconds']:.2f}."
                  if imp.get("copy_reused") else "")
               + (f" Ratio of the means: {c['mean'] / s['mean']:.2f}." if "mean" in s and "mean" in c
                  else "")]
        summary.append({"what": "import: shipped history", "value": s["seconds"], "limit": c["seconds"],
                        "ratio": ratio, "target": 0.5})
    md.append("")

    # 4. forecasts
    fc = res.get("forecast", {})
    md += ["## 4. Forecasts: fit + choose for every authority and metric (CPU)", ""]
    sb, r = fc.get("sendbench", {}), fc.get("r", {})
    if sb:
        per = [(k[7:], v) for k, v in fc.items() if k.startswith("metric:")]
        md += ["| metric | series | years | sendbench CPU s |", "|---|---|---|---|"]
        for name, v in per:
            md.append(f"| {name} | {fmt(v.get('series'), 0)} | {fmt(v.get('years'), 0)} | {fmt(v.get('cpu_s'), 3)} |")
        n_exp = sb.get("exported")
        md += ["", f"sendbench (`bench_forecast`: rolling-origin calibration of 11 models, automatic choice,"
               f" calibrated intervals, England and regions reconciled, JSON documents): "
               f"{fmt(sb.get('cpu_s'), 3)} CPU s for {fmt(sb.get('metrics'), 0)} metrics,"
               f" {fmt(n_exp, 0)} authority series."]
        if r and "cpu_s" in r and n_exp:
            ours = sb["cpu_s"] / n_exp * 1000
            ratio = r["cpu_per_series_ms"] / ours if ours > 0 else None
            md += ["", f"R forecast {r.get('forecast_pkg')} (bench/forecast_r.R: the same rolling-origin"
                   f" choice among naive, rwf drift, ets, holt damped, thetaf, auto.arima):"
                   f" {int(r['series_done'])} of {int(r['series_total'])} series in {r['cpu_s']:.1f} CPU s"
                   f" (budget-limited), {r['cpu_per_series_ms']:.1f} ms per series; all series would take"
                   f" ~{r['cpu_per_series_ms'] * r['series_total'] / 1000:.0f} CPU s.",
                   "", f"sendbench: {ours:.3f} ms per series. R / sendbench CPU per series: {fmt(ratio, 0)}x"
                   f" (target >= 50x: {verdict(ratio, 50)})."]
            summary.append({"what": "forecast: CPU per series (R / sendbench)", "value": ours,
                            "limit": r["cpu_per_series_ms"], "ratio": ratio, "target": 50})
        elif r.get("error"):
            md.append(f"R: {r['error']}")
    md.append("")

    # 6. high needs (before the scale table: it runs on the shipped history)
    hn = res.get("high_needs", {})
    if hn:
        pr = hn.get("projection", {})
        md += ["## 6. High Needs: unmitigated trajectory of every authority, back-cast of 2021-22", ""]
        if "error" in pr:
            md.append(f"bench_high_needs: {pr['error']}")
        elif pr:
            ms = pr.get("median_cpu_ms")
            md += [f"{fmt(pr.get('projected'), 0)} authorities projected to 2029-30"
                   f" ({fmt(pr.get('skipped'), 0)} without HNBT placements), median of"
                   f" {fmt(pr.get('repeat'), 0)} passes: {fmt(ms, 3)} ms CPU for all"
                   f" ({fmt(pr.get('per_authority_us'), 1)} us each); target < 100 ms:"
                   f" {verdict(ms, 100, higher_is_better=False)}.", ""]
            summary.append({"what": "high needs: CPU ms for every authority / 100 ms", "value": ms,
                            "limit": 100, "ratio": (ms / 100) if ms is not None else None,
                            "target": 1, "lower": True})
        bc = [(k[9:], v) for k, v in hn.items() if k.startswith("backcast:")]
        if bc:
            md += ["| back-cast of 2021-22 spend vs HNBT budget | authorities | mean abs % error |"
                   " median | bias % | within 5% | within 10% | 90th pct |", "|---|---|---|---|---|---|---|---|"]
            for name, v in bc:
                md.append(f"| {name} | {fmt(v.get('n'), 0)} | {fmt(v.get('mape'), 2)} |"
                          f" {fmt(v.get('median_ape'), 2)} | {fmt(v.get('bias'), 2)} |"
                          f" {fmt(v.get('within5'), 1)} | {fmt(v.get('within10'), 1)} | {fmt(v.get('p90_ape'), 2)} |")
        md.append("")

    # 5. scale
    scales = [k for k in res if k.startswith("scale:")]
    if scales:
        md += ["## 5. Scale: synthetic authorities, 40 quarters x 20 metrics (+10 census years)", "",
               "| authorities | observations | load s | DB MB | uncached table ms (median) |"
               " cached table req/s | cached p50 ms | cached p99 ms | table bytes | server RSS MB | forecast (ehcp_caseload) |",
               "|---|---|---|---|---|---|---|---|---|---|---|"]
        for k in scales:
            s = res[k]
            n = k.split(":")[1]
            tc = s.get("table_cached", {})
            f = s.get("forecast", {})
            fc_txt = (f"FAILS: {f['error']}" if "error" in f else
                      f"{f.get('cpu_s', 0):.2f} CPU s, {int(f.get('series', 0))} series")
            md.append(f"| {int(n):,} | {int(s['load']['observations']):,} | {s['load']['seconds']:.1f} |"
                      f" {int(s['load']['db_mb'])} | {fmt(s.get('table_uncached', {}).get('median_ms'))} |"
                      f" {fmt(tc.get('req_s'))} | {fmt(tc.get('p50_ms'), 3)} | {fmt(tc.get('p99_ms'), 3)} |"
                      f" {int(tc.get('bytes', 0)):,} | {s.get('server', {}).get('rss_kb', 0) / 1024:.1f} | {fc_txt} |")
            if s["load"].get("note"):
                md.append(f"|  | note: {s['load']['note']} | | | | | | | | | |")
        md.append("")

    md += ["## Summary", "", "| measurement | ratio to the limit | target | verdict |", "|---|---|---|---|"]
    for s in summary:
        lower = s.get("lower", False)
        md.append(f"| {s['what']} | {fmt(s['ratio'], 2)} | {'<=' if lower else '>='} {s['target']} |"
                  f" {verdict(s['ratio'], s['target'], higher_is_better=not lower)} |")
    md.append("")
    out["summary"] = summary
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
