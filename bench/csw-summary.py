#!/usr/bin/env python3
"""bench/csw-summary.py OUTDIR — our CSW figures (OUTDIR/run/summary.json from run-csw.py) next to pycsw 2.6.2's
published ones (../shared/bench/csw/results-pycsw.md, same records, workloads and machine kind), as Markdown."""
import json
import os
import sys

out = sys.argv[1]
res = json.load(open(os.path.join(out, "run", "summary.json")))

# results-pycsw.md (2026-11-23): medians of 3 x 20 s after 5 s warm-up
PYCSW = {
    ("C1", 1): (9.1, 90, 646), ("C1", 8): (17.4, 392, 1503),
    ("C2", 1): (9.2, 85, 1638), ("C2", 8): (16.9, 377, 2089),
    ("C3", 1): (20.3, 27, 65), ("C3", 8): (44.1, 152, 1316),
    ("C5", 1): (8.7, 74, 2644), ("C5", 8): (19.9, 317, 2811),
}
PYCSW_C4 = {"C4-udata": (569, 111, 1982), "C4-udata-casefix": (569, 111, 1982), "C4-plain": (437, 77, 1924)}
PYCSW_LOAD_S = 630
NAMES = {"C1": "AnyText `%cadastre%`, 10 summary csw:Record (POST)", "C2": "C1 + BBOX Ille-et-Vilaine",
         "C3": "GetRecordById, gmd full", "C5": "CQL_TEXT GET `AnyText LIKE '%adresse%'`"}

# pycsw measured live in this very run (bench/pycsw.sh), when it was: its figures replace the recorded ones
LIVE = os.path.join(out, "run-pycsw", "summary.json")
live = json.load(open(LIVE)) if os.path.exists(LIVE) else None
if live:
    PYCSW = {}
    for key, v in live["runs"].items():
        w, c = key.split(".c")
        PYCSW[(w, int(c))] = (round(v["rps"], 1), round(v["p50_ms"], 1), round(v["p99_ms"], 1))
    PYCSW_C4 = {h["variant"]: (h["wall_s"], h["page_p50_ms"], h["page_p99_ms"]) for h in live.get("C4", [])}
    if "C4-udata-casefix" in PYCSW_C4:
        PYCSW_C4.setdefault("C4-udata", PYCSW_C4["C4-udata-casefix"])
    load_file = os.path.join(out, "pycsw-load-s.txt")
    PYCSW_LOAD_S = int(open(load_file).read().strip()) if os.path.exists(load_file) else PYCSW_LOAD_S
SOURCE = (f"pycsw 2.6.2 **live in this run** ({live['meta']['url']}, gunicorn 2 sync workers, same records, workloads and parameters)"
          if live else "pycsw: results-pycsw.md (recorded 2026-11-23, gunicorn 2 workers, same records and workloads)")

m = res["meta"]
lines = [f"## CSW (issues 3, 12) — ours vs pycsw 2.6.2, 100,000 ISO records — {m['date']}", "",
         f"run-csw.py {m['url']}: {m['warmup']} s warm-up + {m['repeats']} x {m['duration']} s per concurrency, "
         f"medians over the repeats; {SOURCE}. "
         "Ratio = how many times better ours is (pycsw p50 / ours p50, ours req/s / pycsw req/s).", "",
         "| workload | conc | ours req/s | pycsw req/s | × | ours p50 ms | pycsw p50 ms | × | ours p99 ms | pycsw p99 ms | matched | errors/exceptions |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for key, v in res["runs"].items():
    w, c = key.split(".c")
    c = int(c)
    p = PYCSW.get((w, c))
    chk = res["checks"].get(w, {})
    matched = chk.get("matched", chk.get("records", ""))
    if p:
        lines.append(f"| {w} {NAMES.get(w, '')} | {c} | {v['rps']:.1f} | {p[0]} | {v['rps'] / p[0]:.1f} | {v['p50_ms']:.1f} | {p[1]} | "
                     f"{p[1] / v['p50_ms']:.1f} | {v['p99_ms']:.1f} | {p[2]} | {matched} | {v['errors']}/{v['exceptions']} |")
    else:
        lines.append(f"| {w} | {c} | {v['rps']:.1f} | | | {v['p50_ms']:.1f} | | | {v['p99_ms']:.1f} | | {matched} | {v['errors']}/{v['exceptions']} |")
c5 = res["checks"].get("C5", {})
if c5:
    lines += ["", f"C5 constraint sent: `{c5.get('cql')}` (tried: {', '.join(t['cql'] + (' ok' if t['ok'] else ' rejected') for t in c5.get('cql_tried', []))})"]

lines += ["", "| C4 full harvest (25 gmd full / page) | wall s | pycsw wall s | × | pages | records | unique ids | dup | page p50 / p99 ms | pycsw p50 / p99 ms | first / last page ms | matched |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for h in res.get("C4", []):
    p = PYCSW_C4.get(h["variant"])
    ratio = f"{p[0] / h['wall_s']:.1f}" if p else ""
    lines.append(f"| {h['variant']} | {h['wall_s']} | {p[0] if p else ''} | {ratio} | {h['pages']} | {h['records']} | {h['unique_ids']} | {h['duplicates']} | "
                 f"{h['page_p50_ms']} / {h['page_p99_ms']} | {f'{p[1]} / {p[2]}' if p else ''} | {h['first_page_ms']} / {h['last_page_ms']} | {h['matched_values']} |")
verbatim = res["checks"].get("C4-udata-verbatim")
if any(h["variant"] == "C4-udata" for h in res.get("C4", [])):
    lines += ["", "data.gouv.fr's request **as sent** (`apiso:type`, `apiso:identifier` in lower case) is **accepted** "
                  "(pycsw rejects it: `Invalid PropertyName: apiso:type`; its figure is for the case-fixed request)."]
elif verbatim:
    lines += ["", f"data.gouv.fr's request as sent was REJECTED: {verbatim.get('error')}"]

nc_file = os.path.join(out, "run-nocache", "summary.json")
if os.path.exists(nc_file):
    nc = json.load(open(nc_file))
    parts = []
    for k, v in nc["runs"].items():
        w = k.split('.c')[0]
        if (w, 1) not in PYCSW:
            continue
        p = PYCSW[(w, 1)]
        parts.append(f"{w} p50 {v['p50_ms']:.1f} ms, {v['rps']:.1f} req/s (pycsw {p[1]} ms, {p[0]} req/s: × {p[1] / v['p50_ms']:.1f}; "
                     f"aim < 30 ms {'met' if v['p50_ms'] < 30 else 'NOT met'})")
    lines += ["", "First-seen searches, caches off (`SDI_CSW_PAGE_CACHE=0`: every request counts its matches, as pycsw "
                  "always does; 1 x 10 s, c=1): " + "; ".join(parts) + "."]

aims = []
c1 = res["runs"].get("C1.c1")
if c1:
    aims.append(f"C1 p50 {c1['p50_ms']:.1f} ms (aim < 20 ms: {'met' if c1['p50_ms'] < 20 else 'NOT met'})")
c2 = res["runs"].get("C2.c1")
if c2:
    aims.append(f"C2 p50 {c2['p50_ms']:.1f} ms (aim < 20 ms: {'met' if c2['p50_ms'] < 20 else 'NOT met'})")
ud = next((h for h in res.get("C4", []) if h["variant"].startswith("C4-udata")), None)
if ud:
    aims.append(f"full harvest {ud['wall_s']} s (aim < 60 s: {'met' if ud['wall_s'] < 60 else 'NOT met'})")
load = os.path.join(out, "load.json")
if os.path.exists(load):
    lj = json.loads(open(load).read().strip().splitlines()[-1])
    aims.append(f"load of {lj['files']} records by `cli.js records-load`: {lj['seconds']} s (aim < 300 s: {'met' if lj['seconds'] < 300 else 'NOT met'}; "
                f"pycsw load_records: {PYCSW_LOAD_S} s, × {PYCSW_LOAD_S / lj['seconds']:.1f})")
else:
    aims.append("records already loaded (loader not run this time)")
size = os.path.join(out, "db-size.txt")
if os.path.exists(size):
    aims.append(f"database size {open(size).read().strip()} (pycsw: 1,445 MB)")
lines += ["", "Aims: " + "; ".join(aims) + "."]
print("\n".join(lines))
