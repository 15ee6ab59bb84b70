#!/usr/bin/python3
"""Headless QGIS loads a restricted layer through WFS 2.0 and WMS 1.3.0 with Basic auth from its own
authentication database (an authcfg, as a QGIS user configures it), and reports what it saw: validity,
feature count and codes (WFS), and the colour (RGBA) of two map pixels rendered from the WMS layer. Without the
authcfg the same layers are loaded too, to show the refusal. Nothing is judged here (rights.test.ts judges).

Usage: /usr/bin/python3 qgis_rights.py --base URL --layer NAME --user LOGIN --password PW --out report.json
       --bbox minx,miny,maxx,maxy --points x1,y1,x2,y2
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
WORK = tempfile.mkdtemp(prefix='sdi-qgis-rights-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
for a in ('--base', '--layer', '--user', '--password', '--out', '--bbox', '--points'):
    parser.add_argument(a, required=True)
args = parser.parse_args()
report = {}
try:
    from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCoordinateReferenceSystem, QgsMapRendererSequentialJob,
                           QgsMapSettings, QgsRasterLayer, QgsRectangle, QgsSettings, QgsVectorLayer)
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    profile = os.path.join(WORK, 'profile')
    os.makedirs(profile)
    app = QgsApplication([], False, profile)
    QgsApplication.setPrefixPath('/usr', True)
    QgsApplication.initQgis()
    settings = QgsSettings()
    settings.setValue('cache/directory', os.path.join(profile, 'network-cache'))
    settings.setValue('qgis/defaultCapabilitiesExpiry', 0)

    # The authentication database of this throw-away profile, with its master password, and one Basic config.
    am = QgsApplication.authManager()
    am.setPasswordHelperEnabled(False)
    report['masterPassword'] = am.setMasterPassword('sdi-test-master', True)
    cfg = QgsAuthMethodConfig()
    cfg.setName('sdi-rights')
    cfg.setMethod('Basic')
    cfg.setConfig('username', args.user)
    cfg.setConfig('password', args.password)
    report['stored'] = bool(am.storeAuthenticationConfig(cfg))
    authcfg = cfg.id()
    report['authcfg'] = authcfg
    base = args.base.rstrip('/')

    def wfs(auth):
        uri = f"url='{base}/wfs' typename='sdi:{args.layer}' version='2.0.0' srsname='EPSG:2154'" + (f" authcfg='{auth}'" if auth else '')
        layer = QgsVectorLayer(uri, 'wfs', 'WFS')
        out = {'valid': layer.isValid()}
        if layer.isValid():
            codes = sorted(str(f['code']) for f in layer.getFeatures())
            out.update({'count': len(codes), 'codes': codes})
        return out

    minx, miny, maxx, maxy = (float(v) for v in args.bbox.split(','))
    x1, y1, x2, y2 = (float(v) for v in args.points.split(','))

    def wms(auth):
        uri = f"crs=EPSG:2154&format=image/png&layers={args.layer}&styles=&url={base}/wms" + (f"&authcfg={auth}" if auth else '')
        layer = QgsRasterLayer(uri, 'wms', 'wms')
        out = {'valid': layer.isValid()}
        if layer.isValid():
            ms = QgsMapSettings()
            ms.setLayers([layer])
            ms.setDestinationCrs(QgsCoordinateReferenceSystem('EPSG:2154'))
            ms.setExtent(QgsRectangle(minx, miny, maxx, maxy))
            ms.setOutputSize(QSize(256, 256))
            ms.setBackgroundColor(QColor(0, 0, 0, 0))
            job = QgsMapRendererSequentialJob(ms)
            job.start()
            job.waitForFinished()
            img = job.renderedImage()
            ext = ms.visibleExtent()

            def alpha(x, y):
                i = int((x - ext.xMinimum()) / (ext.xMaximum() - ext.xMinimum()) * img.width())
                j = int((ext.yMaximum() - y) / (ext.yMaximum() - ext.yMinimum()) * img.height())
                if not (0 <= i < img.width() and 0 <= j < img.height()):
                    return None
                c = QColor.fromRgba(img.pixel(i, j))
                return [c.red(), c.green(), c.blue(), c.alpha()]

            out.update({'first': alpha(x1, y1), 'second': alpha(x2, y2), 'requests': requests, 'errors': list(job.errors() and [e.message for e in job.errors()] or [])})
        return out

    # The URLs QGIS asked (to show what it sent: no credential in them).
    requests = []
    from qgis.core import QgsNetworkAccessManager, QgsNetworkRequestParameters
    QgsNetworkAccessManager.instance().requestAboutToBeCreated[QgsNetworkRequestParameters].connect(lambda p: requests.append(p.request().url().toString()))
    report['wfsAuth'] = wfs(authcfg)
    report['wfsNoAuth'] = wfs(None)
    report['wmsAuth'] = wms(authcfg)
    report['wmsNoAuth'] = wms(None)
except Exception:
    report['error'] = traceback.format_exc()
with open(args.out, 'w', encoding='utf-8') as fh:
    json.dump(report, fh)
shutil.rmtree(WORK, ignore_errors=True)
os._exit(0)
