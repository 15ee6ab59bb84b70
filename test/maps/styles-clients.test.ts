/**
 * Stored styles through real clients: OWSLib's WebMapService reads a layer's styles and their LegendURL from the
 * capabilities (WMS 1.3.0 §7.2.4.6.5); QGIS 3.22's WMS provider asks GetMap with STYLES=<a stored style> and draws
 * what that style says (Orléans red, the Loiret orange), pixels checked at positions PostGIS computes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, db, ROOT } from '../helpers.js';
import { decode, pixel, toPixel } from './image.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'wms_styles_client.py');
const QGIS_SLD = readFileSync(join(ROOT, 'fixtures', 'styles', 'communes-qgis.sld'), 'utf8');

interface Report {
  owslib: { styles?: Record<string, { title: string; legend?: string; legend_width?: string; legend_height?: string }>; exception?: string };
  qgis: { valid?: boolean; file?: string; extent?: number[]; errors?: string[]; requests?: string[]; exception?: string };
}
let report: Report;
let orleans: { x: number; y: number };
const extent = [580000, 6720000, 660000, 6800000];

beforeAll(async () => {
  expect(existsSync(PYTHON)).toBe(true);
  // Stored the way the admin API stores it (the API itself is tested in styles.test.ts): the QGIS export, as read by the server.
  await db().query(`DELETE FROM sdi.styles WHERE layer_name = 'communes' AND name = 'qgis-client'`);
  const { readSld } = await import('../../src/styles/sld-reader.js');
  const style = { ...readSld(QGIS_SLD).layers[0]!.styles[0]!, name: 'qgis-client', title: 'QGIS' };
  await db().query(`INSERT INTO sdi.styles (layer_name, name, title, document, sld) VALUES ('communes', 'qgis-client', 'QGIS', $1::jsonb, $2)`, [JSON.stringify(style), QGIS_SLD]);
  const { rows } = await db().query(`SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT (ST_MaximumInscribedCircle(geom)).center AS c FROM data.communes WHERE code = '45234') s`);
  orleans = { x: +rows[0].x, y: +rows[0].y };
  const dir = mkdtempSync(join(tmpdir(), 'sdi-styles-clients-'));
  const env: NodeJS.ProcessEnv = { ...process.env, QT_QPA_PLATFORM: 'offscreen', PYTHONIOENCODING: 'utf-8' };
  await new Promise<void>((resolve, reject) =>
    execFile(PYTHON, [SCRIPT, '--base', baseUrl(), '--style', 'qgis-client', '--extent', extent.join(','), '--out', dir], { env, timeout: 300_000 }, (err, _o, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
  );
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    await db().query(`DELETE FROM sdi.styles WHERE layer_name = 'communes' AND name = 'qgis-client'`);
  };
}, 320_000);

describe('stored styles through real clients', () => {
  it('OWSLib lists the stored style beside the default, with its GetLegendGraphic LegendURL', () => {
    expect(report.owslib.exception).toBeUndefined();
    const styles = report.owslib.styles!;
    expect(Object.keys(styles).sort()).toEqual(['default', 'qgis-client']);
    expect(styles['qgis-client']!.title).toBe('QGIS');
    expect(styles['qgis-client']!.legend).toContain('REQUEST=GetLegendGraphic');
    expect(styles['qgis-client']!.legend).toContain('STYLE=qgis-client');
  });

  it('QGIS 3.22 asks for the style by name and draws Orléans red, as the style says', async () => {
    expect(report.qgis.exception).toBeUndefined();
    expect(report.qgis.valid).toBe(true);
    expect(report.qgis.errors).toEqual([]);
    expect(report.qgis.requests!.length).toBeGreaterThan(0);
    expect(new URL(report.qgis.requests![0]!).searchParams.get('STYLES')).toBe('qgis-client');
    const img = await decode(readFileSync(report.qgis.file!));
    const e = report.qgis.extent!;
    const p = pixel(img, ...toPixel({ minx: e[0]!, miny: e[1]!, maxx: e[2]!, maxy: e[3]! }, img.width, img.height, orleans.x, orleans.y));
    expect(Math.abs(p[0] - 0xd7) + Math.abs(p[1] - 0x19) + Math.abs(p[2] - 0x1c)).toBeLessThan(20);
  });
});
