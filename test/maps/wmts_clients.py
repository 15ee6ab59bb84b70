"""Real WMTS clients for test/maps/wmts.test.ts: OWSLib's WebMapTileService reads the capabilities and gets a
tile (KVP); GDAL's WMTS driver (gdal_translate, through the REST ResourceURL template) renders an extent of
the communes layer in each tile matrix set. Prints raw facts as JSON; the pixel checks are in the test."""
import argparse
import json
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument('--base', required=True)
p.add_argument('--out', required=True)
p.add_argument('--tile', required=True, help='set,matrix,row,col of the OWSLib tile')
p.add_argument('--window', action='append', default=[], help='set:minx,maxy,maxx,miny for gdal_translate')
a = p.parse_args()
out = {}

try:
    from owslib.wmts import WebMapTileService
    w = WebMapTileService(a.base + '/wmts?SERVICE=WMTS&REQUEST=GetCapabilities', version='1.0.0')
    layer = w.contents['communes']
    tset, matrix, row, col = a.tile.split(',')
    tile = w.gettile(layer='communes', tilematrixset=tset, tilematrix=matrix, row=int(row), column=int(col), format='image/png', style=list(layer.styles)[0])
    path = a.out + '/owslib.png'
    with open(path, 'wb') as f:
        f.write(tile.read())
    sets = w.tilematrixsets
    out['owslib'] = {
        'version': w.version,
        'layers': sorted(w.contents.keys()),
        'sets': sorted(sets.keys()),
        'lamb93_level0': {
            'topleft': list(sets['LAMB93_10cm'].tilematrix['0'].topleftcorner),
            'scale': sets['LAMB93_10cm'].tilematrix['0'].scaledenominator,
            'width21': sets['LAMB93_10cm'].tilematrix['21'].matrixwidth,
            'height21': sets['LAMB93_10cm'].tilematrix['21'].matrixheight,
        },
        'formats': layer.formats,
        'styles': list(layer.styles),
        'links': sorted(layer.tilematrixsetlinks.keys()),
        'resourceUrls': [r['template'] for r in layer.resourceURLs],
        'file': path,
    }
except Exception as e:  # reported, and the test fails on it
    out['owslib'] = {'exception': repr(e)}

gdal = {}
for spec in a.window:
    tset, win = spec.split(':')
    path = a.out + '/gdal_' + tset + '.png'
    cmd = ['gdal_translate', '-q', '-of', 'PNG', '-outsize', '256', '256', '-projwin', *win.split(','),
           'WMTS:' + a.base + '/wmts?SERVICE=WMTS&REQUEST=GetCapabilities,layer=communes,tilematrixset=' + tset, path]
    r = subprocess.run(cmd, capture_output=True, text=True)
    gdal[tset] = {'rc': r.returncode, 'stderr': r.stderr[-2000:], 'file': path}
out['gdal'] = gdal
json.dump(out, sys.stdout)
