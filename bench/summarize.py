#!/usr/bin/env python3
"""bench/summarize.py — side-by-side table for scripts/bench.sh (stdlib only).

  summarize.py OUTDIR [--mapserver-status S] [--ours-status S] [--floor-status S] [--quick 0|1] [--elapsed N]

Reads what the shared kit wrote under OUTDIR:
  mapserver/, ours/   run-workloads.sh output: meta.json, results.jsonl (one line per wrk run or
                      W6 download), checks.jsonl (pre-flight check per workload)
  floor/              run-floor.sh output: hf-Fn.json (hyperfine), insession-Fn.txt (seconds per
                      warm in-session run), floor-sizes.tsv
  pg-settings.txt     settings of the anchor cluster
and writes OUTDIR/summary.md (also printed) and OUTDIR/summary.json.
"""
import argparse
import json
import os
import statistics
import subprocess

FLOOR_OF = {"W1": "F1", "W2": "F2", "W3": "F3", "O1": "F1", "W4": "F4", "W5": "F5", "W6": "F6a"}
TITLE = {
    "W1": "W1 WFS GeoJSON, 2 km bbox, COUNT=5000",
    "W2": "W2 WFS GML 3.2, same",
    "W3": "W3 WFS GeoJSON, SRSNAME=4326",
    "O1": "O1 OGC API items, W1's bbox, limit=5000 (ours only)",
    "W4": "W4 WMS PNG 2 km",
    "W5": "W5 WMS PNG 50 km",
    "T1": "T1 WMTS tile, cached (ours only)",
    "T2": "T2 vector tile, level 9 (~50 km), drawn (ours only)",
    "W1T": "W1T = W1 as a territorial user (ours only)",
    "O1T": "O1T = O1 as a territorial user (ours only)",
}
ORDER = ["W1", "W2", "W3", "O1", "W4", "W5", "T1", "T2"]
# Issue 9's aims: ours ÷ MapServer throughput for W4/W5; p50 ms for the tiles
AIM_RATIO = {"W4": 1.5, "W5": 3.0}
AIM_MS = {"T1": 2.0, "T2": 100.0}


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def f(v, nd=1, unit=""):
    if v is None:
        return "–"
    return f"{v:,.{nd}f}{unit}"


def ratio(a, b, nd=2):
    if a is None or b in (None, 0):
        return "–"
    return f"{a / b:.{nd}f}×"


def load_run(d):
    """One run-workloads.sh output dir -> {workload: {...}}"""
    res = {}
    if not d or not os.path.isdir(d):
        return res
    rows, checks = [], {}
    # one run-workloads.sh dir, or one sub-dir per workload (how bench.sh runs ours)
    for sub in [d] + sorted(os.path.join(d, x) for x in os.listdir(d) if os.path.isdir(os.path.join(d, x))):
        p = os.path.join(sub, "results.jsonl")
        if os.path.exists(p):
            rows += [json.loads(l) for l in open(p) if l.strip()]
        p = os.path.join(sub, "checks.jsonl")
        if os.path.exists(p):
            for l in open(p):
                if l.strip():
                    c = json.loads(l)
                    checks[c["workload"]] = c
    for w in set(checks) | {r["workload"] for r in rows}:
        rs = [r for r in rows if r["workload"] == w]
        c = checks.get(w, {})
        check = c.get("result", "")
        feats = check.split(" ", 1)[1] if check.startswith("ok ") else None
        e = {"check": check, "body_bytes": c.get("bytes"), "content_type": c.get("content_type"),
             "features": feats, "runs": len(rs), "errors": sum(r.get("errors", 0) for r in rs)}
        if not rs and os.path.exists(os.path.join(d, w, "single.json")):
            pass  # T2 measured one request at a time only (T2_LOAD=0)
        elif not rs:
            e["skipped"] = check or "no result"
        elif w == "W6":
            e.update(ttfb_s=med([r["ttfb_s"] for r in rs]), ttlb_s=med([r["ttlb_s"] for r in rs]),
                     bytes=med([r["bytes"] for r in rs]),
                     peak_proc_rss_mb=(med([r.get("peak_proc_rss_kb") for r in rs]) or 0) / 1024 or None,
                     peak_sum_rss_mb=(med([r.get("peak_rss_kb") for r in rs]) or 0) / 1024 or None,
                     rss_growth_mb=(med([r.get("rss_growth_kb") for r in rs]) or 0) / 1024,
                     http=[r.get("http") for r in rs], ttlb_runs=[r["ttlb_s"] for r in rs])
        else:
            e.update(rps=med([r["rps"] for r in rs]), p50_ms=med([r["p50_ms"] for r in rs]),
                     p99_ms=med([r["p99_ms"] for r in rs]), rps_runs=[r["rps"] for r in rs],
                     wire_bytes=med([r.get("bytes_per_resp_wire") for r in rs]))
        # peak memory of the workload (bench.sh peak_memory: VmHWM after a fresh start), and T2's one-at-a-time time
        for sub in (os.path.join(d, w), d):
            mp = os.path.join(sub, "memory.json")
            if os.path.exists(mp) and "peak_mb" not in e:
                mem = json.load(open(mp))
                e["peak_mb"] = mem.get("max_vmhwm_kb", 0) / 1024 or None
                e["peak_sum_mb"] = mem.get("sum_vmhwm_kb", 0) / 1024 or None
            sp = os.path.join(sub, "single.json")
            if os.path.exists(sp) and sub != d:
                e["single_p50_ms"] = json.load(open(sp)).get("p50_ms")
        res[w] = e
    return res


def load_floor(d):
    res = {}
    if not d or not os.path.isdir(d):
        return res
    sizes = {}
    p = os.path.join(d, "floor-sizes.tsv")
    if os.path.exists(p):
        for l in open(p):
            if "\t" in l:
                k, v = l.rstrip("\n").split("\t", 1)
                sizes[k] = v
    for fn in os.listdir(d):
        if fn.startswith("hf-") and fn.endswith(".json"):
            n = fn[3:-5]
            r = json.load(open(os.path.join(d, fn)))["results"][0]
            e = {"hyperfine_s": r["median"], "runs": len(r["times"])}
            ip = os.path.join(d, f"insession-{n}.txt")
            if os.path.exists(ip):
                t = [float(x) for x in open(ip).read().split()]
                e["insession_s"] = statistics.median(t) if t else None
            try:
                e["bytes"] = int(sizes.get(n, ""))
            except ValueError:
                e["bytes"] = None
            res[n] = e
    return res


def meta_of(d):
    if not d or not os.path.isdir(d):
        return {}
    for sub in [d] + sorted(os.path.join(d, x) for x in os.listdir(d) if os.path.isdir(os.path.join(d, x))):
        p = os.path.join(sub, "meta.json")
        if os.path.exists(p):
            return json.load(open(p))
    return {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--mapserver-status", default="?")
    ap.add_argument("--ours-status", default="?")
    ap.add_argument("--floor-status", default="?")
    ap.add_argument("--quick", default="0")
    ap.add_argument("--elapsed", default=None)
    ap.add_argument("--ours-notes", default="")
    a = ap.parse_args()
    od = a.outdir
    ms, ours = load_run(os.path.join(od, "mapserver")), load_run(os.path.join(od, "ours"))
    fl = load_floor(os.path.join(od, "floor"))
    meta = meta_of(os.path.join(od, "mapserver")) or meta_of(os.path.join(od, "ours"))
    pg = open(os.path.join(od, "pg-settings.txt")).read().replace("(Debian ", "(").split("\n") if os.path.exists(os.path.join(od, "pg-settings.txt")) else []
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
        rev = (rev or "no commit") + (" + uncommitted changes" if dirty else "")
    except OSError:
        rev = "?"

    o = []
    o.append(f"# Benchmark: ours vs MapServer 8 vs PostGIS floor — {meta.get('date', '?')}\n")
    o.append(f"- machine: {meta.get('machine', '?')}")
    o.append(f"- load: wrk {meta.get('threads', '?')} threads, {meta.get('conc', '?')} connections, "
             f"{meta.get('warmup', '?')} s warm-up + {meta.get('repeats', '?')} × {meta.get('duration', '?')} s, medians over runs"
             + ("  **(quick mode: indicative only)**" if a.quick == "1" else ""))
    o.append(f"- anchor cluster 127.0.0.1:5433/anchor: {'; '.join(x for x in pg if x)}")
    o.append(f"- ours: repo {rev}; status: {a.ours_status}. MapServer: {a.mapserver_status}. Floors: {a.floor_status}."
             + (f" Total {a.elapsed} s." if a.elapsed else ""))
    o.append("")
    o.append("## Under load (c=8)\n")
    o.append("ratio = ours ÷ MapServer (req/s: > 1 is better for ours; p50: < 1 is better). "
             "Floor = the same rows serialised by PostGIS, one warm session (in-session) / one psql per run (hyperfine), single request.\n")
    o.append("| workload | MapServer req/s | p50 ms | p99 ms | ours req/s | p50 ms | p99 ms | ratio req/s | ratio p50 | floor in-session / hyperfine ms | features MS / ours | body bytes MS / ours |")
    o.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    notes = [f"- {n.strip()}" for n in a.ours_notes.split(";") if n.strip()]

    def cell(e, k, nd=1):
        if e is None:
            return "–"
        if "skipped" in e:
            return "skip"
        return f(e.get(k), nd)

    for w in ORDER:
        m, u = ms.get(w), ours.get(w)
        if m is None and u is None:
            continue
        fe = fl.get(FLOOR_OF.get(w, ""), {})
        floor = f"{f((fe.get('insession_s') or 0) * 1000 or None, 0)} / {f((fe.get('hyperfine_s') or 0) * 1000 or None, 0)}" if fe else "–"
        rr = ratio(u.get("rps"), m.get("rps")) if (m and u and "skipped" not in m and "skipped" not in u) else "–"
        rp = ratio(u.get("p50_ms"), m.get("p50_ms")) if (m and u and "skipped" not in m and "skipped" not in u) else "–"
        feats = f"{(m or {}).get('features') or '–'} / {(u or {}).get('features') or '–'}"
        byts = f"{f((m or {}).get('body_bytes'), 0)} / {f((u or {}).get('body_bytes'), 0)}"
        o.append(f"| {TITLE.get(w, w)} | {cell(m, 'rps')} | {cell(m, 'p50_ms', 0)} | {cell(m, 'p99_ms', 0)} | "
                 f"{cell(u, 'rps')} | {cell(u, 'p50_ms', 0)} | {cell(u, 'p99_ms', 0)} | {rr} | {rp} | {floor} | {feats} | {byts} |")
        for who, e in (("MapServer", m), ("ours", u)):
            if e and "skipped" in e:
                notes.append(f"- {w} {who}: skipped — pre-flight check: {e['skipped'][:300]}")
            elif e and e.get("errors"):
                notes.append(f"- {w} {who}: {e['errors']} errors (non-2xx, socket errors, timeouts) over {e['runs']} runs")

    # rights (issue 11): W1/O1 as a territorial user, as a ratio to the public (anonymous) figure of this run
    if any(w in ours for w in ("W1T", "O1T")):
        o.append("")
        o.append("## Rights (issue 11): W1 and O1 as an anonymous and as a territorial caller\n")
        o.append("Anonymous = W1/O1 above (the public layer `parcels`, no credential, the grants policy deciding). Territorial = "
                 "the same requests right after, the layer made restricted, by a user whose read grant is a département "
                 "(bench/rights-setup.mjs; API token in the URL): credential lookup (cached), policy, and the injected "
                 "ST_Intersects with the territory in the SQL. Ratio = territorial ÷ anonymous.\n")
        o.append("| workload | anonymous req/s | p50 ms | territorial req/s | p50 ms | ratio req/s | ratio p50 | features anon. / terr. |")
        o.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for pub, terr in (("W1", "W1T"), ("O1", "O1T")):
            u, t = ours.get(pub), ours.get(terr)
            if t is None:
                continue
            ok = u and t and "skipped" not in u and "skipped" not in t
            o.append(f"| {pub} / {terr} | {cell(u, 'rps')} | {cell(u, 'p50_ms', 0)} | {cell(t, 'rps')} | {cell(t, 'p50_ms', 0)} | "
                     f"{ratio(t.get('rps'), u.get('rps')) if ok else '–'} | {ratio(t.get('p50_ms'), u.get('p50_ms')) if ok else '–'} | "
                     f"{(u or {}).get('features') or '–'} / {t.get('features') or '–'} |")
            if "skipped" in t:
                notes.append(f"- {terr} ours: skipped — pre-flight check: {t['skipped'][:300]}")
            elif t.get("errors"):
                notes.append(f"- {terr} ours: {t['errors']} errors (non-2xx, socket errors, timeouts) over {t['runs']} runs")

    # maps (issue 9): ratios against the aims, peak memory
    if any(w in ours or w in ms for w in ("W4", "W5", "T1", "T2")):
        o.append("")
        o.append("## Maps (issue 9): aims and peak memory\n")
        o.append("Peak memory: the largest VmHWM of the server processes after the workload, each server restarted before it "
                 "(MapServer: 2 mapserv FastCGI processes, sum in brackets; ours: the one node process).\n")
        o.append("| workload | MapServer req/s | ours req/s | ours ÷ MapServer | aim | met | ours p50 / p99 ms | peak MB MapServer | peak MB ours |")
        o.append("|---|---:|---:|---:|---:|---|---|---:|---:|")
        for w in ("W4", "W5", "T1", "T2"):
            m, u = ms.get(w) or {}, ours.get(w) or {}
            if not m and not u:
                continue
            ok_m, ok_u = "rps" in m, "rps" in u
            r = u["rps"] / m["rps"] if ok_m and ok_u and m["rps"] else None
            if w in AIM_RATIO:
                aim, met = f"{AIM_RATIO[w]:.1f}×", ("yes" if r is not None and r >= AIM_RATIO[w] else "no" if r is not None else "–")
            else:
                t = u.get("single_p50_ms") if w == "T2" else u.get("p50_ms")
                aim = f"p50 < {AIM_MS[w]:.0f} ms" + (" (one at a time)" if w == "T2" else "")
                met = ("yes" if t is not None and t < AIM_MS[w] else "no" if t is not None else "–") + (f" ({t:.1f} ms)" if t is not None else "")
            msmem = f"{f(m.get('peak_mb'), 0)} ({f(m.get('peak_sum_mb'), 0)})" if m.get("peak_mb") else "–"
            o.append(f"| {TITLE.get(w, w)} | {f(m.get('rps'))} | {f(u.get('rps'))} | {f(r, 2, '×') if r else '–'} | {aim} | {met} | "
                     f"{f(u.get('p50_ms'), 1)} / {f(u.get('p99_ms'), 1)} | {msmem} | {f(u.get('peak_mb'), 0)} |")

    # W6
    m6, u6, f6 = ms.get("W6"), ours.get("W6"), fl.get("F6a")
    if m6 or u6 or f6:
        fin = f6.get("insession_s") if f6 else None
        fhf = f6.get("hyperfine_s") if f6 else None
        o.append("")
        o.append("## W6: all 500,000 addresses as GeoJSON, one request at a time\n")
        o.append("Peak RSS is sampled every 50 ms during the download: largest server process (MapServer: a mapserv worker, "
                 "restarted before each run; ours: the node process) and its growth over the idle size before the request.\n")
        o.append("| W6 | TTFB s | TTLB s | bytes | features | peak RSS MB | RSS growth MB | TTLB ÷ floor (in-session) | TTLB ÷ floor (hyperfine) |")
        o.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for who, e in (("MapServer WFS", m6), ("ours WFS", u6)):
            if e is None:
                continue
            if "skipped" in e:
                o.append(f"| {who} | skip | | | | | | | |")
                notes.append(f"- W6 {who}: skipped — pre-flight check: {e['skipped'][:300]}")
                continue
            o.append(f"| {who} | {f(e['ttfb_s'], 2)} | {f(e['ttlb_s'], 2)} | {f(e['bytes'], 0)} | {e.get('features') or '–'} | "
                     f"{f(e.get('peak_proc_rss_mb'), 0)} | {f(e.get('rss_growth_mb'), 0)} | {ratio(e['ttlb_s'], fin)} | {ratio(e['ttlb_s'], fhf)} |")
            if e.get("errors"):
                notes.append(f"- W6 {who}: HTTP status per run {e.get('http')}")
        if f6:
            o.append(f"| floor F6a: COPY ST_AsGeoJSON (streamed) | – | {f(fin, 2)} (warm) / {f(fhf, 2)} | {f(f6.get('bytes'), 0)} | 500000 | – | – | 1.00× | – |")
        if m6 and u6 and "skipped" not in m6 and "skipped" not in u6:
            o.append("")
            o.append(f"ours ÷ MapServer: TTFB {ratio(u6['ttfb_s'], m6['ttfb_s'])}, TTLB {ratio(u6['ttlb_s'], m6['ttlb_s'])}, "
                     f"peak RSS {ratio(u6.get('peak_proc_rss_mb'), m6.get('peak_proc_rss_mb'))}")

    # other floors for reference
    if fl:
        o.append("")
        o.append("## PostGIS floors (run-floor.sh)\n")
        o.append("| floor | in-session median ms | hyperfine median ms | runs | output bytes |")
        o.append("|---|---:|---:|---:|---:|")
        for n in sorted(fl, key=lambda s: (len(s), s)):
            e = fl[n]
            o.append(f"| {n} | {f((e.get('insession_s') or 0) * 1000 or None, 1)} | {f(e['hyperfine_s'] * 1000, 1)} | {e['runs']} | {f(e.get('bytes'), 0)} |")
        o.append("\nF0 = psql start + connect (included in every hyperfine figure). F1/F2/F3 ↔ W1/W2/W3 (and O1), F6a ↔ W6.")

    if notes:
        o.append("\n## Notes\n")
        o.extend(notes)
    o.append("\nRaw data: `mapserver/`, `ours/` (run-workloads.sh: results.jsonl, checks.jsonl, wrk output, one body per workload), "
             "`floor/` (run-floor.sh), `*.log`.")
    text = "\n".join(o) + "\n"
    open(os.path.join(od, "summary.md"), "w").write(text)
    json.dump({"meta": meta, "pg": pg, "rev": rev, "status": {"mapserver": a.mapserver_status, "ours": a.ours_status,
               "floor": a.floor_status}, "quick": a.quick == "1", "mapserver": ms, "ours": ours, "floor": fl},
              open(os.path.join(od, "summary.json"), "w"), indent=1)
    print(text)


if __name__ == "__main__":
    main()
