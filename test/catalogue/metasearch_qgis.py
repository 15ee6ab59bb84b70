#!/usr/bin/python3
"""From a MetaSearch search to a layer in QGIS, as a technician does it: OWSLib's CatalogueServiceWeb (what
QGIS MetaSearch uses) searches csw:AnyText for the words as typed, finds the record among the hits, reads its
`dct:references scheme="OGC:WFS"` link (what makes MetaSearch offer "Add WFS") and its `OGC:API-Features` link, then the same record in ISO
19139 (getrecordbyid, outputschema gmd) for the online resource with that URL, whose gmd:name is the feature
type. QGIS headless then opens the link's URL, as written, with its WFS provider and that type name, and
iterates every feature; likewise the OGC API landing page with QGIS's OAPIF provider and the collection the ISO
gmd:name gives. Raw facts only: test/catalogue/metasearch-qgis.test.ts judges them against PostGIS.

usage: metasearch_qgis.py CSW_URL REPORT.json TERM=IDENTIFIER [TERM=IDENTIFIER ...]
"""
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings

warnings.simplefilter("ignore")
for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'):
    os.environ.pop(k, None)
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
# QGIS and Qt state (profile, HTTP cache, runtime dir) in one throw-away directory.
WORK = tempfile.mkdtemp(prefix='sdi-metasearch-qgis-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

url, out = sys.argv[1], sys.argv[2]
targets = [a.split('=', 1) for a in sys.argv[3:]]
report = {"targets": []}


def write():
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)


try:
    import owslib
    from owslib.catalogue.csw2 import CatalogueServiceWeb
    from owslib.fes import PropertyIsLike
    from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsNetworkAccessManager,
                           QgsProject, QgsSettings, QgsVectorLayer, QgsWkbTypes)
    from qgis.PyQt.QtNetwork import QNetworkProxy, QNetworkProxyFactory
except Exception:  # the test fails loudly when a client is missing
    report["error"] = traceback.format_exc()
    write()
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(2)

report["owslibVersion"] = owslib.__version__
report["qgisVersion"] = Qgis.QGIS_VERSION

profile = os.path.join(WORK, 'profile')
os.makedirs(profile)
app = QgsApplication([], False, profile)
QgsApplication.setPrefixPath('/usr', True)
QgsApplication.initQgis()
settings = QgsSettings()
settings.setValue('cache/directory', os.path.join(profile, 'network-cache'))
settings.setValue('qgis/defaultCapabilitiesExpiry', 0)
settings.setValue('proxy/proxyEnabled', False)
QNetworkProxyFactory.setUseSystemConfiguration(False)
QNetworkProxy.setApplicationProxy(QNetworkProxy(QNetworkProxy.NoProxy))
nam = QgsNetworkAccessManager.instance()
nam.setFallbackProxyAndExcludes(QNetworkProxy(QNetworkProxy.NoProxy), [], [])
nam.setupDefaultProxyAndCache()

messages = []
QgsApplication.messageLog().messageReceived.connect(
    lambda m, tag, level: messages.append(f"{tag}: {m[:500]}") if int(level) >= int(Qgis.Warning) else None)
WGS84 = QgsCoordinateReferenceSystem('EPSG:4326')


def find_record(term, identifier):
    """MetaSearch: getrecords2 with csw:AnyText LIKE the words as typed, full csw:Record, pages of 10."""
    csw = CatalogueServiceWeb(url, timeout=60)
    start, seen, pages = 1, 0, 0
    while True:
        csw.getrecords2(constraints=[PropertyIsLike("csw:AnyText", term)], maxrecords=10, startposition=start, esn="full")
        pages += 1
        seen += csw.results["returned"]
        if identifier in csw.records:
            r = csw.records[identifier]
            return {"matches": csw.results["matches"], "pages": pages, "identifier": r.identifier, "title": r.title, "type": r.type,
                    "references": r.references,
                    "bbox": None if r.bbox is None else [float(r.bbox.minx), float(r.bbox.miny), float(r.bbox.maxx), float(r.bbox.maxy)]}
        if csw.results["nextrecord"] == 0 or csw.results["returned"] == 0 or pages > 100:
            return {"matches": csw.results["matches"], "pages": pages, "seen": seen, "identifier": None}
        start = csw.results["nextrecord"]


def iso_online_resources(identifier):
    csw = CatalogueServiceWeb(url, timeout=60)
    csw.getrecordbyid([identifier], outputschema="http://www.isotc211.org/2005/gmd")
    md = csw.records[identifier]
    out_ = []
    if md.distribution is not None:
        for o in md.distribution.online:
            out_.append({"url": o.url, "protocol": o.protocol, "name": o.name, "description": o.description, "function": o.function})
    return {"fileIdentifier": md.identifier, "online": out_}


def open_wfs(link_url, typename, provider="WFS"):
    # WFS: the GetCapabilities link; OAPIF: the API landing page, the collection as typename (QGIS's data source URI).
    uri = f"url='{link_url}' typename='{typename}'" + (" version='auto'" if provider == "WFS" else "")
    del messages[:]
    t0 = time.time()
    rec = {"uri": uri}
    layer = QgsVectorLayer(uri, typename, provider)
    rec["valid"] = layer.isValid()
    if layer.isValid():
        rec["crs"] = layer.crs().authid()
        rec["featureCount"] = layer.featureCount()
        rec["wkbType"] = QgsWkbTypes.displayString(layer.wkbType())
        rec["fields"] = [f.name() for f in layer.fields()]
        n, nullgeom = 0, 0
        xform = QgsCoordinateTransform(layer.crs(), WGS84, QgsProject.instance())
        ext = None
        for f in layer.getFeatures():
            n += 1
            g = f.geometry()
            if g.isNull():
                nullgeom += 1
                continue
            g = g.__class__(g)
            g.transform(xform)
            bb = g.boundingBox()
            if ext is None:
                ext = bb
            else:
                ext.combineExtentWith(bb)
        rec["iterated"] = n
        rec["nullGeometries"] = nullgeom
        rec["featureCountAfter"] = layer.featureCount()
        # extent of the features themselves in WGS 84 (each geometry reprojected)
        rec["extent4326"] = None if ext is None else [ext.xMinimum(), ext.yMinimum(), ext.xMaximum(), ext.yMaximum()]
    rec["messages"] = list(messages)
    rec["elapsed"] = round(time.time() - t0, 2)
    return rec


try:
    for term, identifier in targets:
        t = {"term": term, "identifier": identifier}
        report["targets"].append(t)
        try:
            t["search"] = find_record(term, identifier)
            wfs = [r for r in t["search"].get("references") or [] if (r.get("scheme") or "").upper() == "OGC:WFS"]
            t["wfsReferences"] = wfs
            if wfs:
                t["iso"] = iso_online_resources(identifier)
                same = [o for o in t["iso"]["online"] if o["url"] == wfs[0]["url"] and o["name"]]
                t["typename"] = same[0]["name"] if same else None
                if t["typename"]:
                    t["qgis"] = open_wfs(wfs[0]["url"], t["typename"])
            # The OGC API - Features link (issue 12): landing page in the reference, collection in the ISO gmd:name.
            oapif = [r for r in t["search"].get("references") or [] if (r.get("scheme") or "").upper() == "OGC:API-FEATURES"]
            t["oapifReferences"] = oapif
            if oapif:
                t.setdefault("iso", iso_online_resources(identifier))
                same = [o for o in t["iso"]["online"] if o["url"] == oapif[0]["url"] and o["name"]]
                t["collection"] = same[0]["name"] if same else None
                if t["collection"]:
                    t["qgisOapif"] = open_wfs(oapif[0]["url"], t["collection"], "OAPIF")
        except Exception:
            t["exception"] = traceback.format_exc()
        write()
finally:
    write()
    QgsApplication.exitQgis()
    shutil.rmtree(WORK, ignore_errors=True)
