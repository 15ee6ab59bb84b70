#!/usr/bin/python3
"""Use OWSLib (Debian python3-owslib) against the WFS the way a script author would, and report facts.

Usage: /usr/bin/python3 owslib_check.py --base http://127.0.0.1:PORT --out report.json

Every step is recorded separately (a failing step does not hide the others) with the HTTP requests
OWSLib sent and their status, so a failure names the exact URL. GML is parsed with lxml; geometries are
checked with OGR (GEOS) from the GML itself. owslib_check.test.ts judges the report against PostGIS.
"""
import argparse
import io
import json
import os
import sys
import traceback

for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
    os.environ.pop(k, None)

parser = argparse.ArgumentParser()
parser.add_argument('--base', required=True)
parser.add_argument('--out', required=True)
args = parser.parse_args()
report = {'python': sys.executable, 'steps': {}}


def write():
    with open(args.out, 'w', encoding='utf-8') as fh:
        json.dump(report, fh, ensure_ascii=False)


try:
    import owslib
    import requests
    from lxml import etree
    from osgeo import ogr
    from owslib.wfs import WebFeatureService
except Exception:
    report['error'] = 'import failed: ' + traceback.format_exc()
    write()
    sys.exit(2)

ogr.UseExceptions()
report['owslibVersion'] = owslib.__version__
WFS_URL = args.base.rstrip('/') + '/wfs'

# Record every HTTP exchange OWSLib makes (it uses requests.request -> Session.send).
http_log = []
_send = requests.Session.send


def _logged_send(self, request, **kw):
    rec = {'method': request.method, 'url': request.url}
    if request.body:
        body = request.body if isinstance(request.body, str) else request.body.decode('utf-8', 'replace')
        rec['body'] = body[:2000]
    http_log.append(rec)
    resp = _send(self, request, **kw)
    rec['status'] = resp.status_code
    rec['contentType'] = resp.headers.get('content-type')
    if resp.status_code >= 400:
        rec['responseBody'] = resp.text[:2000]
    return resp


requests.Session.send = _logged_send

NS = {
    'wfs2': 'http://www.opengis.net/wfs/2.0',
    'wfs': 'http://www.opengis.net/wfs',
    'gml32': 'http://www.opengis.net/gml/3.2',
    'gml': 'http://www.opengis.net/gml',
    'sdi': 'https://sdi.example.org/features',
}
GML_NS = (NS['gml32'], NS['gml'])


def step(name):
    """Decorator: run a step, store its result or its exception with the HTTP requests it made."""
    def wrap(fn):
        start = len(http_log)
        rec = {}
        try:
            rec['result'] = fn()
        except Exception as e:
            rec['exception'] = f'{type(e).__name__}: {e}'[:4000]
            rec['traceback'] = traceback.format_exc()[-3000:]
        rec['requests'] = http_log[start:]
        report['steps'][name] = rec
        return fn
    return wrap


def read(resp):
    data = resp.read()
    return data.encode('utf-8') if isinstance(data, str) else data


def parse_features(xml_bytes, typename):
    """All features of a (WFS 2.0 / 1.1 / 1.0) GetFeature response: gml:id, attributes, geometry checks."""
    root = etree.parse(io.BytesIO(xml_bytes)).getroot()
    local = typename.split(':')[-1]
    out = {
        'root': etree.QName(root).localname,
        'rootNs': etree.QName(root).namespace,
        'numberMatched': root.get('numberMatched'),
        'numberReturned': root.get('numberReturned'),
        'numberOfFeatures': root.get('numberOfFeatures'),
        'next': root.get('next'),
        'features': [],
    }
    for feat in root.iter('{%s}%s' % (NS['sdi'], local)):
        fid = feat.get('{%s}id' % NS['gml32']) or feat.get('{%s}id' % NS['gml']) or feat.get('fid')
        attrs = {}
        geom = None
        for child in feat:
            name = etree.QName(child).localname
            if etree.QName(child).namespace in GML_NS:
                continue  # gml:boundedBy, gml:name...
            geoms = [g for g in child if etree.QName(g).namespace in GML_NS]
            if geoms:
                g = geoms[0]
                geom = {'property': name, 'element': etree.QName(g).localname, 'srsName': g.get('srsName')}
                try:
                    og = ogr.CreateGeometryFromGML(etree.tostring(g).decode())
                    geom.update({
                        'ogrType': ogr.GeometryTypeToName(og.GetGeometryType()),
                        'empty': og.IsEmpty(),
                        'valid': og.IsValid(),
                        'area': og.GetArea() if og.GetDimension() == 2 else None,
                        'npoints': sum(1 for _ in _points(og)),
                    })
                    if og.GetGeometryType() in (ogr.wkbPoint, ogr.wkbPoint25D):
                        geom['x'], geom['y'] = og.GetX(), og.GetY()
                except Exception as e:
                    geom['error'] = str(e)
            elif child.get('{http://www.w3.org/2001/XMLSchema-instance}nil') in ('true', '1'):
                attrs[name] = None
            else:
                attrs[name] = child.text
        out['features'].append({'id': fid, 'attrs': attrs, 'geom': geom})
    return out


def _points(g):
    if g.GetGeometryCount() == 0:
        for i in range(g.GetPointCount()):
            yield i
    else:
        for i in range(g.GetGeometryCount()):
            yield from _points(g.GetGeometryRef(i))


# ---------------------------------------------------------------- WFS 2.0.0
wfs20 = None


@step('wfs20_capabilities')
def _():
    global wfs20
    wfs20 = WebFeatureService(WFS_URL, version='2.0.0')
    return {
        'version': wfs20.version,
        'contents': sorted(wfs20.contents),
        'crs': {k: [str(c) for c in v.crsOptions] for k, v in wfs20.contents.items()},
        'wgs84': {k: list(v.boundingBoxWGS84) if v.boundingBoxWGS84 else None for k, v in wfs20.contents.items()},
        'titles': {k: v.title for k, v in wfs20.contents.items()},
        'operations': [o.name for o in wfs20.operations],
        'getFeatureFormats': next((o.parameters.get('outputFormat', {}).get('values', []) for o in wfs20.operations if o.name == 'GetFeature'), []),
    }


@step('wfs20_getfeature_communes_gml32')
def _():
    r = wfs20.getfeature(typename=['sdi:communes'], maxfeatures=5000, outputFormat='application/gml+xml; version=3.2')
    return parse_features(read(r), 'sdi:communes')


@step('wfs20_getfeature_communes_default')
def _():
    r = wfs20.getfeature(typename=['sdi:communes'], maxfeatures=10)
    return parse_features(read(r), 'sdi:communes')


@step('wfs20_getfeature_communes_geojson')
def _():
    r = wfs20.getfeature(typename=['sdi:communes'], maxfeatures=5000, outputFormat='application/json')
    fc = json.loads(read(r).decode('utf-8'))
    return {
        'type': fc.get('type'),
        'numberMatched': fc.get('numberMatched'),
        'numberReturned': fc.get('numberReturned'),
        'features': [{'id': f.get('id'), 'attrs': f.get('properties'), 'geomType': (f.get('geometry') or {}).get('type')} for f in fc.get('features', [])],
    }


@step('wfs20_paging_communes_points')
def _():
    pages = []
    start = 0
    size = 500
    while True:
        r = wfs20.getfeature(typename=['sdi:communes_points'], maxfeatures=size, startindex=start)
        page = parse_features(read(r), 'sdi:communes_points')
        pages.append(page)
        got = len(page['features'])
        if got < size or len(pages) > 20:
            break
        start += got
    return {'pages': pages}


@step('wfs20_get_schema')
def _():
    return {name: wfs20.get_schema(name) for name in sorted(wfs20.contents)}


# ---------------------------------------------------------------- WFS 1.1.0
wfs11 = None


@step('wfs11_capabilities')
def _():
    global wfs11
    wfs11 = WebFeatureService(WFS_URL, version='1.1.0')
    return {'version': wfs11.version, 'contents': sorted(wfs11.contents), 'crs': {k: [str(c) for c in v.crsOptions] for k, v in wfs11.contents.items()}}


@step('wfs11_getfeature_communes_points')
def _():
    r = wfs11.getfeature(typename=['sdi:communes_points'], maxfeatures=5000)
    return parse_features(read(r), 'sdi:communes_points')


@step('wfs11_getfeature_communes_points_propertyname_list')
def _():
    # Same request with explicit property names instead of OWSLib's default "*".
    r = wfs11.getfeature(typename=['sdi:communes_points'], maxfeatures=5000, propertyname=['sdi:code', 'sdi:nom', 'sdi:geom'])
    return parse_features(read(r), 'sdi:communes_points')


@step('wfs11_get_schema')
def _():
    return {name: wfs11.get_schema(name) for name in ['sdi:communes', 'sdi:communes_points']}


# ---------------------------------------------------------------- WFS 1.0.0
wfs10 = None


@step('wfs10_capabilities')
def _():
    global wfs10
    wfs10 = WebFeatureService(WFS_URL, version='1.0.0')
    return {'version': wfs10.version, 'contents': sorted(wfs10.contents)}


@step('wfs10_getfeature_communes')
def _():
    r = wfs10.getfeature(typename=['sdi:communes'], maxfeatures=5000)
    return parse_features(read(r), 'sdi:communes')


write()
print(json.dumps({k: ('ok' if 'result' in v else v['exception'][:200]) for k, v in report['steps'].items()}, ensure_ascii=False, indent=1), file=sys.stderr)
sys.exit(0)
