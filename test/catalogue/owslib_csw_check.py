#!/usr/bin/env python3
"""QGIS MetaSearch's use of OWSLib against our CSW (see shared/research/csw.md §b(i)): CatalogueServiceWeb,
getrecords2 with csw:AnyText PropertyIsLike (the words as typed, no wildcard), a BBOX in
urn:ogc:def:crs:EPSG::4326 lat/lon order, both (ogc:And), paging with startposition, getrecordbyid of each
hit, and the ISO output schema. Every step records its result or its exception; the JSON report is compared
with the database by test/catalogue/clients.test.ts.

usage: owslib_csw_check.py URL REPORT.json TERM MINY MINX MAXY MAXX PAGE_SIZE
"""
import json
import sys
import traceback
import warnings

warnings.simplefilter("ignore")

import owslib
from owslib.catalogue.csw2 import CatalogueServiceWeb
from owslib.fes import BBox, PropertyIsLike

url, out, term = sys.argv[1], sys.argv[2], sys.argv[3]
miny, minx, maxy, maxx = (float(v) for v in sys.argv[4:8])
page_size = int(sys.argv[8])
report = {"owslibVersion": owslib.__version__, "steps": {}}


def step(name, fn):
    try:
        report["steps"][name] = {"result": fn()}
    except Exception as e:  # noqa: BLE001 - the report says what failed
        report["steps"][name] = {"exception": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}


def record(r):
    bbox = None
    if r.bbox is not None:
        bbox = {"minx": float(r.bbox.minx), "miny": float(r.bbox.miny), "maxx": float(r.bbox.maxx), "maxy": float(r.bbox.maxy),
                "crs": str(r.bbox.crs) if r.bbox.crs is not None else None}
    return {"identifier": r.identifier, "title": r.title, "type": r.type, "abstract": r.abstract, "modified": r.modified,
            "subjects": r.subjects, "references": r.references, "uris": r.uris, "bbox": bbox}


def search(csw, constraints, start=0, maxrecords=10, esn="full", outputschema=None):
    kw = {"constraints": constraints, "maxrecords": maxrecords, "startposition": start, "esn": esn}
    if outputschema:
        kw["outputschema"] = outputschema
    csw.getrecords2(**kw)
    return {
        "matches": csw.results["matches"], "returned": csw.results["returned"], "nextrecord": csw.results["nextrecord"],
        "ids": list(csw.records.keys()), "records": {k: record(v) for k, v in csw.records.items()} if not outputschema else None,
        "request": csw.request.decode("utf-8") if isinstance(csw.request, bytes) else str(csw.request),
    }


csw = None


def caps():
    global csw
    csw = CatalogueServiceWeb(url, timeout=60)
    op = csw.get_operation_by_name("GetRecords")
    return {
        "version": csw.version, "title": csw.identification.title, "type": csw.identification.type,
        "operations": [o.name for o in csw.operations],
        "getRecordsPost": [m["url"] for m in op.methods if m["type"].lower() == "post"],
        "constraints": {c.name: c.values for c in op.constraints},
        "parameters": {k: v["values"] for k, v in op.parameters.items()},
    }


step("capabilities", caps)
like = PropertyIsLike("csw:AnyText", term)
box = BBox([miny, minx, maxy, maxx], crs="urn:ogc:def:crs:EPSG::4326")
if csw is not None:
    step("anytext", lambda: search(csw, [like]))
    step("bbox", lambda: search(csw, [box]))
    step("both", lambda: search(csw, [[box, like]]))

    def paging():
        pages, start = [], 1
        while True:
            r = search(csw, [], start=start, maxrecords=page_size)
            pages.append({k: r[k] for k in ("matches", "returned", "nextrecord", "ids")})
            if r["returned"] == 0 or r["nextrecord"] == 0 or start + page_size > r["matches"]:
                break
            start += page_size
        return pages

    step("paging", paging)

    def by_id():
        hits = report["steps"]["anytext"].get("result", {}).get("ids", [])
        out_ = {}
        for i in hits:
            # MetaSearch's "View metadata": a new connection, then getrecordbyid([id]) and records[id].
            c = CatalogueServiceWeb(url, timeout=60)
            c.getrecordbyid([i])
            out_[i] = record(c.records[i])
        return out_

    step("getrecordbyid", by_id)

    def iso():
        r = search(csw, [like], outputschema="http://www.isotc211.org/2005/gmd")
        r["iso"] = {k: {"identifier": v.identifier, "title": v.identificationinfo[0].title if v.identificationinfo else None,
                        "hierarchy": v.hierarchy, "datestamp": v.datestamp} for k, v in csw.records.items()}
        return r

    step("iso", iso)

with open(out, "w", encoding="utf-8") as f:
    json.dump(report, f, ensure_ascii=False, indent=1)
