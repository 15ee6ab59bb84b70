/**
 * The source CRS of an imported layer as an EPSG code: the user's `source_crs=` first (EPSG:2154, 2154, an OGC
 * URN or URI, or an IGNF name such as IGNF:LAMB93), else the layer's own (a Shapefile's .prj, a GeoPackage's
 * srs table…) identified. GDAL 3.6 matches an ESRI .prj "RGF93_Lambert_93" to IGNF:LAMB93 (the first of its
 * FindMatches candidates), and PROJ does not always resolve IGNF names (3liz/QgisCadastrePlugin#530): IGNF
 * names go through the alias table below; what is neither EPSG nor IGNF goes through AutoIdentifyEPSG, then
 * through `gdalsrsinfo -o epsg` (GDAL's FindMatches, keeping an EPSG candidate).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type gdalTypes from 'gdal-async';

export class CrsError extends Error {}

/** IGNF registry names → EPSG (from the IGNF registry's own equivalences; docs: research/prodige.md §3.1). */
export const IGNF_TO_EPSG: Readonly<Record<string, number>> = {
  LAMB93: 2154, RGF93LAMB93: 2154, RGF93G: 4171, RGF93GDD: 4171, RGF93GEO: 4171,
  RGF93CC42: 3942, RGF93CC43: 3943, RGF93CC44: 3944, RGF93CC45: 3945, RGF93CC46: 3946, RGF93CC47: 3947, RGF93CC48: 3948, RGF93CC49: 3949, RGF93CC50: 3950,
  CC42: 3942, CC43: 3943, CC44: 3944, CC45: 3945, CC46: 3946, CC47: 3947, CC48: 3948, CC49: 3949, CC50: 3950,
  LAMBE: 27572, LAMB2E: 27572, LAMBE2: 27572, NTFLAMB2E: 27572,
  WGS84G: 4326, WGS84GDD: 4326, WGS84RRAFGEO: 4326, MILLER: 3857,
  ETRS89GEO: 4258, ETRS89LAEA: 3035,
  RGAF09UTM20: 5490, UTM20W84GUAD: 32620, UTM20W84MART: 32620, UTM22RGFG95: 2972, RGFG95UTM22: 2972,
  RGR92UTM40S: 2975, RGR92UTM: 2975, RGM04UTM38S: 4471, RGSPM06U21: 4467,
};

export interface SourceCrs {
  /** EPSG code, when the CRS is identified. */
  epsg?: number;
  /** Where it comes from. */
  source: 'parameter' | 'file' | 'assumed';
  /** The CRS as the file names it (e.g. IGNF:LAMB93), when it is not EPSG. */
  declared?: string;
}

/** A CRS the user gave: EPSG:n, n, urn:ogc:def:crs:EPSG::n, http://www.opengis.net/def/crs/EPSG/0/n, IGNF:NAME. */
export function crsFromParameter(value: string): number {
  const v = value.trim();
  const m = /^(?:EPSG:|urn:ogc:def:crs:EPSG:[^:]*:|https?:\/\/www\.opengis\.net\/def\/crs\/EPSG\/[^/]+\/)?(\d{4,6})$/i.exec(v);
  if (m) return Number(m[1]);
  const ignf = /^(?:IGNF:|urn:ogc:def:crs:IGNF:[^:]*:)([A-Za-z0-9_]+)$/i.exec(v);
  if (ignf) {
    const code = IGNF_TO_EPSG[ignf[1]!.toUpperCase()];
    if (code) return code;
    throw new CrsError(`The IGNF CRS "${v.slice(0, 60)}" has no known EPSG equivalent; give its EPSG code (e.g. EPSG:2154)`);
  }
  throw new CrsError(`"${v.slice(0, 60)}" is not a CRS this import reads (EPSG:2154, 2154, IGNF:LAMB93, urn:ogc:def:crs:EPSG::2154)`);
}

const run = promisify(execFile);

/** The EPSG code of a layer's spatial reference, or undefined when it cannot be identified. */
export async function identifyEpsg(srs: gdalTypes.SpatialReference): Promise<{ epsg?: number; declared?: string }> {
  const authority = srs.getAuthorityName(null);
  const code = srs.getAuthorityCode(null);
  if (authority?.toUpperCase() === 'EPSG' && code) return { epsg: Number(code) };
  if (authority?.toUpperCase() === 'IGNF' && code) {
    const epsg = IGNF_TO_EPSG[code.toUpperCase()];
    if (epsg) return { epsg, declared: `IGNF:${code}` };
  }
  const declared = authority && code ? `${authority}:${code}` : undefined;
  try {
    const c = srs.clone();
    c.autoIdentifyEPSG();
    const n = Number(c.getAuthorityCode(null));
    if (c.getAuthorityName(null)?.toUpperCase() === 'EPSG' && n) return { epsg: n, declared };
  } catch {
    /* not a CRS AutoIdentifyEPSG knows: try FindMatches */
  }
  try {
    const { stdout } = await run('gdalsrsinfo', ['-e', '-o', 'epsg', srs.toWKT()], { timeout: 30_000 });
    const codes = [...stdout.matchAll(/EPSG:(\d+)/g)].map((m) => Number(m[1])).filter((n) => n > 0);
    if (codes.length) return { epsg: codes[0], declared };
  } catch {
    /* gdalsrsinfo missing or failing: unidentified */
  }
  return { declared: declared ?? srs.toProj4().slice(0, 200) };
}
