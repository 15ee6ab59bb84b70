#!/usr/bin/python3
"""Load every demo layer into headless QGIS through the WFS and OAPIF providers and report what QGIS saw.

Usage: /usr/bin/python3 qgis_load.py --base http://127.0.0.1:PORT --out report.json \
           --layers region:code,communes:code,epci:siren,...

For every layer and every client configuration (WFS version auto, 2.0.0 with an explicit srsname,
2.0.0 paged, 1.1.0, 1.0.0, OAPIF) the report holds: validity and error, CRS, featureCount(), the
fields, every feature (attributes, geometry type, GEOS validity, vertex count, area or point coordinates
in EPSG:2154), the HTTP requests QGIS sent with their status, and the warnings QGIS logged. The vitest
test (qgis.test.ts) compares all of it with PostGIS. Nothing is judged here, and nothing is skipped: if
QGIS cannot be imported, the report says so and the exit status is 2.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

# No proxy, whatever the environment says: the server under test is on the loopback interface.
for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'):
    os.environ.pop(k, None)
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
# Everything QGIS and Qt write (profile, HTTP disk cache, runtime dir, shared-memory keys) goes into one
# directory removed at the end: no state shared between runs, nothing left in ~ or /tmp.
WORK = tempfile.mkdtemp(prefix='sdi-qgis-run-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
parser.add_argument('--base', required=True, help='server base URL, without trailing slash')
parser.add_argument('--out', required=True, help='where to write the JSON report')
parser.add_argument('--layers', required=True, help='comma-separated name:keyField pairs')
parser.add_argument('--variants', default='', help='comma-separated subset of variant ids (default: all)')
args = parser.parse_args()


def write(report):
    with open(args.out, 'w', encoding='utf-8') as fh:
        json.dump(report, fh, ensure_ascii=False)


try:
    from qgis.core import (  # noqa: E402
        Qgis,
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsNetworkAccessManager,
        QgsNetworkReplyContent,
        QgsNetworkRequestParameters,
        QgsProject,
        QgsSettings,
        QgsVectorLayer,
        QgsWkbTypes,
    )
    from qgis.PyQt.QtCore import QCoreApplication, QDate, QDateTime, QTime, Qt, QVariant  # noqa: E402
    from qgis.PyQt.QtNetwork import QNetworkProxy, QNetworkProxyFactory, QNetworkRequest  # noqa: E402
except Exception:  # the test must fail, loudly, when QGIS is missing
    write({'error': 'cannot import qgis: ' + traceback.format_exc(), 'python': sys.executable})
    print('cannot import qgis', file=sys.stderr)
    shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(2)

base = args.base.rstrip('/')
LAYERS = [tuple(x.split(':', 1)) for x in args.layers.split(',') if x]

# Client configurations. srsname='EPSG:2154' is what QGIS's own "Add WFS layer" dialog writes into the
# URI; the urn form is accepted too. pagingEnabled/pageSize are the 3.22 URI keys of the connection's
# paging options.
VARIANTS = [
    ('wfs-auto', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='auto'"),
    ('wfs-2.0.0', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='2.0.0' srsname='urn:ogc:def:crs:EPSG::2154'"),
    ('wfs-2.0.0-epsg', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='2.0.0' srsname='EPSG:2154'"),
    ('wfs-2.0.0-paged', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='2.0.0' srsname='EPSG:2154' pagingEnabled='true' pageSize='500'"),
    ('wfs-1.1.0', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='1.1.0' srsname='EPSG:2154'"),
    ('wfs-1.0.0', 'WFS', lambda n: f"url='{base}/wfs' typename='sdi:{n}' version='1.0.0' srsname='EPSG:2154'"),
    ('oapif', 'OAPIF', lambda n: f"url='{base}/ogcapi' typename='{n}'"),
]
if args.variants:
    wanted = set(args.variants.split(','))
    VARIANTS = [v for v in VARIANTS if v[0] in wanted]

# A throw-away profile: no capabilities cache or settings from an earlier run.
profile = os.path.join(WORK, 'profile')
os.makedirs(profile)
app = QgsApplication([], False, profile)
QgsApplication.setPrefixPath('/usr', True)
QgsApplication.initQgis()

settings = QgsSettings()
# QGIS keeps an HTTP disk cache (~/.cache by default) and serves WFS capabilities from it for 24 h: use
# one inside the throw-away profile, so that every request of a run really reaches the server.
settings.setValue('cache/directory', os.path.join(profile, 'network-cache'))
settings.setValue('qgis/defaultCapabilitiesExpiry', 0)
settings.setValue('proxy/proxyEnabled', False)
settings.setValue('qgis/networkAndProxy/networkTimeout', 120000)
QNetworkProxyFactory.setUseSystemConfiguration(False)
QNetworkProxy.setApplicationProxy(QNetworkProxy(QNetworkProxy.NoProxy))
nam = QgsNetworkAccessManager.instance()
nam.setFallbackProxyAndExcludes(QNetworkProxy(QNetworkProxy.NoProxy), [], [])
nam.setupDefaultProxyAndCache()

# Every HTTP request QGIS makes (from any thread) and its outcome.
requests_by_id = {}
request_log = []


def on_request(params):
    rec = {'url': params.request().url().toString(), 'method': int(params.operation()), 'status': None, 'error': None}
    requests_by_id[params.requestId()] = rec
    request_log.append(rec)


def on_finished(reply):
    rec = requests_by_id.get(reply.requestId())
    if rec is None:
        return
    status = reply.attribute(QNetworkRequest.HttpStatusCodeAttribute)
    rec['status'] = status
    if int(reply.error()) != 0:
        rec['error'] = reply.errorString()


nam.requestAboutToBeCreated[QgsNetworkRequestParameters].connect(on_request)
nam.finished[QgsNetworkReplyContent].connect(on_finished)

messages = []


def on_message(message, tag, level):
    if int(level) >= int(Qgis.Warning):
        messages.append({'tag': tag, 'level': int(level), 'message': message[:2000]})


QgsApplication.messageLog().messageReceived.connect(on_message)

L93 = QgsCoordinateReferenceSystem('EPSG:2154')


def jsonable(v):
    if v is None:
        return None
    if isinstance(v, QVariant):
        return None if v.isNull() else jsonable(v.value())
    if isinstance(v, (bool, int, float, str)):
        return v
    if hasattr(v, 'isNull') and v.isNull():
        return None
    # QDate / QDateTime / QTime: ISO 8601, as PostGIS writes dates ("2022-04-20"), not Qt's "Wed Apr 20 2022".
    if isinstance(v, (QDate, QDateTime, QTime)):
        return v.toString(Qt.ISODate)
    if hasattr(v, 'toString'):
        return v.toString()
    return str(v)


def drain(max_seconds=10.0):
    """Deliver the queued signals of the download threads until every request has its outcome."""
    end = time.time() + max_seconds
    while True:
        QCoreApplication.processEvents()
        if all(r['status'] is not None or r['error'] for r in request_log) or time.time() > end:
            break
        time.sleep(0.02)
    QCoreApplication.processEvents()


def load(variant, provider, uri, name, key):
    rec = {'layer': name, 'variant': variant, 'provider': provider, 'uri': uri}
    del request_log[:]
    del messages[:]
    t0 = time.time()
    try:
        layer = QgsVectorLayer(uri, f'{variant}-{name}', provider)
        rec['valid'] = layer.isValid()
        if not layer.isValid():
            # Calling error() on an invalid WFS/OAPIF layer segfaults in QGIS 3.22: the provider logs the
            # reason to the message log, which is reported with the requests.
            rec['error'] = 'layer is not valid'
            return rec
        rec['crs'] = layer.crs().authid()
        rec['featureCount'] = layer.featureCount()
        rec['wkbType'] = QgsWkbTypes.displayString(layer.wkbType())
        rec['fields'] = [{'name': f.name(), 'type': f.typeName(), 'variant': QVariant.typeToName(f.type())} for f in layer.fields()]
        names = [f.name() for f in layer.fields()]
        xform = None
        if layer.crs().authid() != 'EPSG:2154':
            xform = QgsCoordinateTransform(layer.crs(), L93, QgsProject.instance())
        feats = {}
        dup_keys = []
        problems = []
        n = 0
        xmin = ymin = float('inf')
        xmax = ymax = float('-inf')
        for f in layer.getFeatures():
            n += 1
            attrs = {nm: jsonable(f.attribute(nm)) for nm in names}
            k = attrs.get(key)
            k = str(k) if k is not None else f'#qgis-{f.id()}'
            g = f.geometry()
            geo = {'null': g.isNull()}
            if not g.isNull():
                geo['empty'] = g.isEmpty()
                geo['type'] = QgsWkbTypes.displayString(g.wkbType())
                geo['valid'] = g.isGeosValid()
                geo['npoints'] = g.constGet().nCoordinates()
                g2 = g
                if xform is not None:
                    g2 = g.__class__(g)
                    g2.transform(xform)
                bb = g2.boundingBox()
                xmin, ymin = min(xmin, bb.xMinimum()), min(ymin, bb.yMinimum())
                xmax, ymax = max(xmax, bb.xMaximum()), max(ymax, bb.yMaximum())
                if QgsWkbTypes.geometryType(g.wkbType()) == QgsWkbTypes.PolygonGeometry:
                    geo['area'] = g2.area()
                elif QgsWkbTypes.geometryType(g.wkbType()) == QgsWkbTypes.PointGeometry:
                    p = g2.asPoint() if not g2.isMultipart() else g2.asMultiPoint()[0]
                    geo['x'], geo['y'] = p.x(), p.y()
                if not geo['valid'] or geo['empty']:
                    problems.append(k)
            else:
                problems.append(k)
            if k in feats:
                dup_keys.append(k)
            feats[k] = {'attrs': attrs, 'geom': geo}
        rec['iterated'] = n
        rec['duplicateKeys'] = dup_keys[:50]
        rec['geometryProblems'] = problems[:50]
        rec['extent2154'] = [xmin, ymin, xmax, ymax] if n else None
        rec['features'] = feats
        # featureCount() once more: after the download the provider knows the exact count.
        rec['featureCountAfter'] = layer.featureCount()
    except Exception:
        rec['exception'] = traceback.format_exc()
    finally:
        drain()
        rec['elapsed'] = round(time.time() - t0, 2)
        rec['requests'] = [dict(r) for r in request_log]
        rec['messages'] = list(messages)
    return rec


report = {'qgisVersion': Qgis.QGIS_VERSION, 'python': sys.executable, 'base': base, 'results': []}
try:
    for variant, provider, make_uri in VARIANTS:
        for name, key in LAYERS:
            report['results'].append(load(variant, provider, make_uri(name), name, key))
            write(report)  # after each layer: a crash later still leaves what was seen
            print(f"{variant} {name}: valid={report['results'][-1].get('valid')} n={report['results'][-1].get('iterated')}", file=sys.stderr, flush=True)
finally:
    write(report)
    QgsApplication.exitQgis()
    shutil.rmtree(WORK, ignore_errors=True)
sys.exit(0)
