#!/usr/bin/python3
"""QGIS 3.22 headless as a WMTS client (its WMS provider with a tileMatrixSet): loads the communes layer from
the RESTful capabilities in each tile matrix set and renders an extent around Orléans to PNG. Reports raw
facts (JSON on stdout): validity, the file, the extent QGIS drew, its errors. The pixel checks
are in wmts.test.ts.

Usage: /usr/bin/python3 wmts_qgis.py --base http://127.0.0.1:PORT --out DIR --center X,Y (EPSG:2154)
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
WORK = tempfile.mkdtemp(prefix='sdi-qgis-wmts-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
parser.add_argument('--base', required=True)
parser.add_argument('--out', required=True)
parser.add_argument('--center', required=True, help='x,y in EPSG:2154')
args = parser.parse_args()
cx, cy = (float(v) for v in args.center.split(','))
CAPS = args.base + '/wmts/1.0.0/WMTSCapabilities.xml'
report = {}

try:
    from qgis.core import (QgsApplication, QgsRasterLayer, QgsMapSettings, QgsMapRendererSequentialJob, QgsRectangle,
                           QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject, QgsPointXY)
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    app = QgsApplication([], False)
    app.initQgis()
    for tms, crs in (('LAMB93_10cm', 'EPSG:2154'), ('WebMercatorQuad', 'EPSG:3857')):
        v = {}
        try:
            uri = f'contextualWMSLegend=0&crs={crs}&dpiMode=7&format=image/png&layers=communes&styles=default&tileMatrixSet={tms}&url={CAPS}'
            layer = QgsRasterLayer(uri, 'communes', 'wms')
            v['valid'] = layer.isValid()
            v['error'] = '' if layer.isValid() else layer.error().summary()
            if layer.isValid():
                v['crs'] = layer.crs().authid()
                t = QgsCoordinateTransform(QgsCoordinateReferenceSystem('EPSG:2154'), QgsCoordinateReferenceSystem(crs), QgsProject.instance())
                c = t.transform(QgsPointXY(cx, cy))
                half = 20000 if crs == 'EPSG:2154' else 29000  # ~40 km wide either way (3857 stretches ~1.48× here)
                ms = QgsMapSettings()
                ms.setLayers([layer])
                ms.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
                ms.setExtent(QgsRectangle(c.x() - half, c.y() - half, c.x() + half, c.y() + half))
                ms.setOutputSize(QSize(300, 300))
                ms.setBackgroundColor(QColor(255, 255, 255, 0))
                job = QgsMapRendererSequentialJob(ms)
                job.start()
                job.waitForFinished()
                app.processEvents()
                path = os.path.join(args.out, f'qgis-wmts-{tms}.png')
                job.renderedImage().save(path, 'PNG')
                e = ms.visibleExtent()
                v['file'] = path
                v['extent'] = [e.xMinimum(), e.yMinimum(), e.xMaximum(), e.yMaximum()]
                v['center'] = [c.x(), c.y()]
                v['errors'] = [f'{x.layerID}: {x.message}' for x in job.errors()]
        except Exception:
            v['exception'] = traceback.format_exc()
        report[tms] = v
    app.exitQgis()
except Exception:
    report['exception'] = traceback.format_exc()
shutil.rmtree(WORK, ignore_errors=True)
json.dump(report, sys.stdout)
sys.exit(0)
