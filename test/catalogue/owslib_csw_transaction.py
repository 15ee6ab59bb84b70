#!/usr/bin/env python3
"""OWSLib CatalogueServiceWeb.transaction() against our CSW-T: insert an ISO record, update it (whole record),
delete it by identifier, with HTTP Basic credentials; and the same insert without credentials (refused).
Every step records its result or its exception; test/catalogue/transaction.test.ts checks the JSON report.

usage: owslib_csw_transaction.py URL USER PASSWORD RECORD.xml UPDATED.xml IDENTIFIER REPORT.json
"""
import json
import re
import sys
import traceback
import warnings

warnings.simplefilter("ignore")

import owslib
from owslib.catalogue.csw2 import CatalogueServiceWeb

url, user, password, record_file, updated_file, identifier, out = sys.argv[1:8]
record = open(record_file, "rb").read()
updated = open(updated_file, "rb").read()
report = {"owslibVersion": owslib.__version__, "steps": {}}


def step(name, fn):
    try:
        report["steps"][name] = {"result": fn()}
    except Exception as e:  # noqa: BLE001 - the report says what failed
        report["steps"][name] = {"exception": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}


def results(csw):
    # OWSLib 0.27 looks for csw:TransactionSummary under a csw:TransactionResponse *child* of the root, so it
    # never fills inserted/updated/deleted: the totals are read from the response it received.
    out = {k: v for k, v in csw.results.items()}
    body = csw.response.decode("utf-8") if isinstance(csw.response, bytes) else str(csw.response)
    for key, tag in (("totalInserted", "inserted"), ("totalUpdated", "updated"), ("totalDeleted", "deleted")):
        m = re.search(r"<csw:%s>(\d+)</csw:%s>" % (key, key), body)
        out["response_" + tag] = int(m.group(1)) if m else None
    return out


def anonymous_insert():
    csw = CatalogueServiceWeb(url, timeout=60)
    csw.transaction(ttype="insert", typename="gmd:MD_Metadata", record=record)
    return results(csw)


def insert():
    csw = CatalogueServiceWeb(url, timeout=60, username=user, password=password)
    csw.transaction(ttype="insert", typename="gmd:MD_Metadata", record=record)
    return results(csw)


def fetch():
    csw = CatalogueServiceWeb(url, timeout=60)
    csw.getrecordbyid(id=[identifier], outputschema="http://www.isotc211.org/2005/gmd")
    return {k: {"title": v.identification.title if v.identification else None, "datestamp": v.datestamp} for k, v in csw.records.items()}


def update():
    csw = CatalogueServiceWeb(url, timeout=60, username=user, password=password)
    csw.transaction(ttype="update", typename="gmd:MD_Metadata", record=updated)
    return results(csw)


def delete():
    csw = CatalogueServiceWeb(url, timeout=60, username=user, password=password)
    csw.transaction(ttype="delete", typename="gmd:MD_Metadata", identifier=identifier)
    return results(csw)


step("anonymousInsert", anonymous_insert)
step("afterAnonymous", fetch)
step("insert", insert)
step("afterInsert", fetch)
step("update", update)
step("afterUpdate", fetch)
step("delete", delete)
step("afterDelete", fetch)

with open(out, "w", encoding="utf-8") as f:
    json.dump(report, f, ensure_ascii=False, indent=1)
