#!/usr/bin/python3
"""Headless QGIS edits a layer through WFS-T with Basic auth from its own authentication database (an authcfg,
as a QGIS user configures it): it changes an attribute of the feature whose code is --inside, adds a feature
(a small square around --point, Lambert 93), then tries to change the feature whose code is --outside, and
reports whether each commit succeeded and what QGIS said. Nothing is judged here (editing.test.ts judges,
reading PostGIS).

Usage: /usr/bin/python3 qgis_edit.py --base URL --layer NAME --user LOGIN --password PW --inside CODE
       --outside CODE --point x,y --out report.json
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
WORK = tempfile.mkdtemp(prefix='sdi-qgis-edit-')
for var, sub in (('XDG_RUNTIME_DIR', 'runtime'), ('XDG_CACHE_HOME', 'cache'), ('XDG_CONFIG_HOME', 'config'), ('XDG_DATA_HOME', 'data'), ('TMPDIR', 'tmp')):
    os.makedirs(os.path.join(WORK, sub), mode=0o700)
    os.environ[var] = os.path.join(WORK, sub)

parser = argparse.ArgumentParser()
for a in ('--base', '--layer', '--user', '--password', '--inside', '--outside', '--point', '--out'):
    parser.add_argument(a, required=True)
args = parser.parse_args()
report = {}
try:
    from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsFeature, QgsGeometry, QgsSettings, QgsVectorLayer, QgsVectorDataProvider
    profile = os.path.join(WORK, 'profile')
    os.makedirs(profile)
    app = QgsApplication([], False, profile)
    QgsApplication.setPrefixPath('/usr', True)
    QgsApplication.initQgis()
    QgsSettings().setValue('qgis/defaultCapabilitiesExpiry', 0)
    am = QgsApplication.authManager()
    am.setPasswordHelperEnabled(False)
    am.setMasterPassword('sdi-test-master', True)
    cfg = QgsAuthMethodConfig()
    cfg.setName('sdi-edit')
    cfg.setMethod('Basic')
    cfg.setConfig('username', args.user)
    cfg.setConfig('password', args.password)
    am.storeAuthenticationConfig(cfg)
    base = args.base.rstrip('/')
    # What QGIS posted and logged, to show why a commit failed.
    from qgis.core import QgsNetworkAccessManager, QgsNetworkRequestParameters
    posted = []
    QgsNetworkAccessManager.instance().requestAboutToBeCreated[QgsNetworkRequestParameters].connect(lambda p: posted.append(bytes(p.content()).decode('utf-8', 'replace')[:1500]) if p.operation() == 4 else None)
    report['posted'] = posted
    log = []
    QgsApplication.messageLog().messageReceived.connect(lambda m, tag, level: log.append(f'{tag}: {m}'[:1500]))
    report['log'] = log
    uri = f"url='{base}/wfs' typename='sdi:{args.layer}' version='2.0.0' srsname='EPSG:2154' authcfg='{cfg.id()}'"
    layer = QgsVectorLayer(uri, 'wfs', 'WFS')
    report['valid'] = layer.isValid()
    caps = layer.dataProvider().capabilities()
    report['canEdit'] = bool(caps & QgsVectorDataProvider.ChangeAttributeValues) and bool(caps & QgsVectorDataProvider.AddFeatures)

    def by_code(code):
        return next((f for f in layer.getFeatures() if str(f['code']) == code), None)

    def commit():
        ok = layer.commitChanges()
        errors = list(layer.commitErrors())
        if not ok:
            layer.rollBack()
        return {'ok': ok, 'errors': errors}

    nom = layer.fields().indexOf('nom')
    f = by_code(args.inside)
    report['foundInside'] = f is not None
    layer.startEditing()
    layer.changeAttributeValue(f.id(), nom, 'Edité par QGIS')
    report['update'] = commit()

    x, y = (float(v) for v in args.point.split(','))
    layer.startEditing()
    nf = QgsFeature(layer.fields())
    nf.setAttribute('code', '45777')
    nf.setAttribute('nom', 'Ajoutée par QGIS')
    nf.setGeometry(QgsGeometry.fromWkt(f'MULTIPOLYGON((({x - 40} {y - 40},{x + 40} {y - 40},{x + 40} {y + 40},{x - 40} {y + 40},{x - 40} {y - 40})))'))
    layer.addFeature(nf)
    report['insert'] = commit()

    g = by_code(args.outside)
    report['foundOutside'] = g is not None
    layer.startEditing()
    layer.changeAttributeValue(g.id(), nom, 'Hors territoire')
    report['outside'] = commit()
except Exception:
    report['error'] = traceback.format_exc()
with open(args.out, 'w', encoding='utf-8') as fh:
    json.dump(report, fh)
shutil.rmtree(WORK, ignore_errors=True)
os._exit(0)
