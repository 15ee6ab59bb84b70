#!/usr/bin/python3
"""Real WMS clients against the server: QGIS 3.22 headless (its WMS provider, 1.3.0 in EPSG:2154 and
EPSG:4326, 1.1.1 in EPSG:4326) renders the communes layer to PNG files; OWSLib's WebMapService reads the capabilities and
gets a map, in 1.3.0 and in 1.1.1 (map, feature info, exception). Reports raw facts (JSON): validity, the rendered files with the extent QGIS actually drew,
the GetMap URLs sent, OWSLib's layer list and bounding boxes. Every judgement is in wms-clients.test.ts.

Usage: /usr/bin/python3 wms_clients.py --base http://127.0.0.1:PORT --out DIR
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback

for k in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'):
    os.environ.pop(k, None)
os.environ['QT_QPA_PLATFORM'] = 'offscreen'
WORK = tempfile.mkdtemp(prefix='sdi-qgis-wms-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
parser.add_argument('--base', required=True)
parser.add_argument('--out', required=True, help='directory for report.json and the images')
args = parser.parse_args()
URL = args.base + '/wms'
report = {'qgis': {}, 'owslib': {}, 'owslib111': {}}


def owslib_part():
    from owslib.wms import WebMapService
    wms = WebMapService(URL, version='1.3.0')
    r = {'version': wms.identification.version, 'title': wms.identification.title, 'layers': sorted(wms.contents.keys())}
    c = wms.contents['communes']
    r['communes'] = {'title': c.title, 'crs': list(c.crsOptions), 'wgs84': list(c.boundingBoxWGS84), 'boundingBoxes': [list(b) for b in (c.crs_list or [])], 'styles': sorted(c.styles.keys())}
    r['getmapFormats'] = wms.getOperationByName('GetMap').formatOptions
    img = wms.getmap(layers=['communes'], styles=[''], srs='EPSG:2154', bbox=(560000, 6670000, 660000, 6770000), size=(300, 300), format='image/png', transparent=True)
    data = img.read()
    path = os.path.join(args.out, 'owslib-2154.png')
    with open(path, 'wb') as fh:
        fh.write(data)
    r['getmap'] = {'url': img.geturl(), 'type': img.info().get('Content-Type'), 'file': path}
    return r


def owslib111_part():
    from owslib.wms import WebMapService
    from owslib.util import ServiceException
    wms = WebMapService(URL, version='1.1.1')
    c = wms.contents['communes']
    r = {'version': wms.identification.version, 'layers': sorted(wms.contents.keys()), 'wgs84': list(c.boundingBoxWGS84), 'crs': list(c.crsOptions),
         'styles': {k: v.get('legend') for k, v in c.styles.items()}, 'getmapFormats': wms.getOperationByName('GetMap').formatOptions}
    # SRS=EPSG:4326 in 1.1.1: the box is lon/lat.
    img = wms.getmap(layers=['communes'], styles=[''], srs='EPSG:4326', bbox=(1.3, 47.5, 3.2, 49.0), size=(300, 300), format='image/png', transparent=True)
    path = os.path.join(args.out, 'owslib-111-4326.png')
    with open(path, 'wb') as fh:
        fh.write(img.read())
    r['getmap'] = {'url': img.geturl(), 'type': img.info().get('Content-Type'), 'file': path}
    info = wms.getfeatureinfo(layers=['communes'], query_layers=['communes'], styles=[''], srs='EPSG:2154', bbox=(560000, 6670000, 660000, 6770000), size=(300, 300), info_format='application/json', xy=(150, 150), feature_count=3)
    r['featureinfo'] = {'url': info.geturl(), 'body': info.read().decode('utf-8')}
    try:
        wms.getmap(layers=['nowhere'], styles=[''], srs='EPSG:4326', bbox=(1.3, 47.5, 3.2, 49.0), size=(300, 300), format='image/png')
        r['serviceException'] = None
    except ServiceException as e:
        r['serviceException'] = str(e)
    return r


def qgis_part():
    from qgis.core import QgsApplication, QgsRasterLayer, QgsMapSettings, QgsMapRendererSequentialJob, QgsRectangle, QgsCoordinateReferenceSystem, QgsNetworkAccessManager, QgsNetworkRequestParameters
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    app = QgsApplication([], False)
    app.initQgis()
    sent = []
    QgsNetworkAccessManager.instance().requestAboutToBeCreated[QgsNetworkRequestParameters].connect(lambda p: sent.append(p.request().url().toString()))
    out = {}
    variants = {
        # Extents in QGIS's own x/y order (easting/northing, lon/lat).
        'epsg2154': ('EPSG:2154', QgsRectangle(560000, 6712273, 720000, 6872273)),
        'epsg4326': ('EPSG:4326', QgsRectangle(1.3, 47.5, 3.2, 49.0)),
        # A 1.1.1 connection: the capabilities URL asks for 1.1.1 (QGIS appends SERVICE and REQUEST to it),
        # and QGIS then speaks the version the capabilities carry.
        'v111_epsg4326': ('EPSG:4326', QgsRectangle(1.3, 47.5, 3.2, 49.0)),
        # The raster layer (warped by GDAL on the server) in Web Mercator.
        'raster_epsg3857': ('EPSG:3857', QgsRectangle(100000, 5950000, 400000, 6250000)),
    }
    for name, (crs, extent) in variants.items():
        v = {}
        try:
            url = f'{URL}?VERSION=1.1.1' if name.startswith('v111') else URL
            layer_name = 'communes_densite' if name.startswith('raster') else 'communes'
            uri = f'contextualWMSLegend=0&crs={crs}&dpiMode=7&featureCount=10&format=image/png&layers={layer_name}&styles=&url={url}'
            layer = QgsRasterLayer(uri, layer_name, 'wms')
            v['valid'] = layer.isValid()
            v['error'] = layer.error().summary() if not layer.isValid() else ''
            if layer.isValid():
                v['crs'] = layer.crs().authid()
                ms = QgsMapSettings()
                ms.setLayers([layer])
                ms.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
                ms.setExtent(extent)
                ms.setOutputSize(QSize(400, 400))
                ms.setBackgroundColor(QColor(255, 255, 255, 0))
                before = len(sent)
                job = QgsMapRendererSequentialJob(ms)
                job.start()
                job.waitForFinished()
                app.processEvents()
                path = os.path.join(args.out, f'qgis-{name}.png')
                job.renderedImage().save(path, 'PNG')
                e = ms.visibleExtent()
                v['file'] = path
                v['extent'] = [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]
                v['size'] = [ms.outputSize().width(), ms.outputSize().height()]
                v['errors'] = [f'{x.layerID}: {x.message}' for x in job.errors()]
                v['requests'] = [u for u in sent[before:] if 'GetMap' in u or 'getmap' in u.lower()]
        except Exception:
            v['exception'] = traceback.format_exc()
        out[name] = v
    app.exitQgis()
    return out


try:
    report['owslib'] = owslib_part()
except Exception:
    report['owslib'] = {'exception': traceback.format_exc()}
try:
    report['owslib111'] = owslib111_part()
except Exception:
    report['owslib111'] = {'exception': traceback.format_exc()}
try:
    report['qgis'] = qgis_part()
except Exception:
    report['qgis'] = {'exception': traceback.format_exc()}
with open(os.path.join(args.out, 'report.json'), 'w', encoding='utf-8') as fh:
    json.dump(report, fh, ensure_ascii=False)
shutil.rmtree(WORK, ignore_errors=True)
sys.exit(0)
