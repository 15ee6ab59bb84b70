#!/usr/bin/python3
"""Real clients and stored styles: OWSLib's WebMapService lists a layer's styles (with their LegendURL) from the
capabilities; QGIS 3.22's WMS provider draws the layer with a named style (styles=NAME in its URI) and fetches the
style's legend. Reports raw facts (JSON); every judgement is in styles-clients.test.ts.

Usage: /usr/bin/python3 wms_styles_client.py --base http://127.0.0.1:PORT --style NAME --extent minx,miny,maxx,maxy --out DIR
"""
import argparse
import json
import os
import shutil
import tempfile
import traceback

for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'):
    os.environ.pop(k, None)
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
WORK = tempfile.mkdtemp(prefix='sdi-qgis-styles-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
parser.add_argument('--base', required=True)
parser.add_argument('--style', required=True)
parser.add_argument('--extent', required=True)
parser.add_argument('--out', required=True)
args = parser.parse_args()
URL = args.base + '/wms'
report = {}

try:
    from owslib.wms import WebMapService
    wms = WebMapService(URL, version='1.3.0')
    report['owslib'] = {'styles': {n: s for n, s in wms.contents['communes'].styles.items()}}
except Exception:
    report['owslib'] = {'exception': traceback.format_exc()}

try:
    from qgis.core import QgsApplication, QgsRasterLayer, QgsMapSettings, QgsMapRendererSequentialJob, QgsRectangle, QgsCoordinateReferenceSystem, QgsNetworkAccessManager, QgsNetworkRequestParameters
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    app = QgsApplication([], False)
    app.initQgis()
    sent = []
    QgsNetworkAccessManager.instance().requestAboutToBeCreated[QgsNetworkRequestParameters].connect(lambda p: sent.append(p.request().url().toString()))
    q = {}
    layer = QgsRasterLayer(f'contextualWMSLegend=0&crs=EPSG:2154&dpiMode=7&format=image/png&layers=communes&styles={args.style}&url={URL}', 'communes', 'wms')
    q['valid'] = layer.isValid()
    if layer.isValid():
        ms = QgsMapSettings()
        ms.setLayers([layer])
        ms.setDestinationCrs(QgsCoordinateReferenceSystem('EPSG:2154'))
        ms.setExtent(QgsRectangle(*[float(v) for v in args.extent.split(',')]))
        ms.setOutputSize(QSize(400, 400))
        ms.setBackgroundColor(QColor(255, 255, 255, 0))
        job = QgsMapRendererSequentialJob(ms)
        job.start()
        job.waitForFinished()
        app.processEvents()
        q['file'] = os.path.join(args.out, 'qgis-style.png')
        job.renderedImage().save(q['file'], 'PNG')
        e = ms.visibleExtent()
        q['extent'] = [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]
        q['errors'] = [f'{x.layerID}: {x.message}' for x in job.errors()]
        q['legendUrl'] = layer.legendUrl() if hasattr(layer, 'legendUrl') else None
        q['requests'] = [u for u in sent if 'getmap' in u.lower()]
    app.exitQgis()
    report['qgis'] = q
except Exception:
    report['qgis'] = {'exception': traceback.format_exc()}

with open(os.path.join(args.out, 'report.json'), 'w', encoding='utf-8') as fh:
    json.dump(report, fh, ensure_ascii=False)
shutil.rmtree(WORK, ignore_errors=True)
