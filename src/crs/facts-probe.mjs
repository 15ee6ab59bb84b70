// Prints, as JSON, what PROJ's EPSG database says of each code given on the command line: axis order,
// whether it is geographic, and its area of use (lon/lat box). Run in a child process by src/crs/facts.ts
// so that the serving process does not load GDAL (about 60 MB resident) just to answer these questions.
import gdal from 'gdal-async';
import { existsSync } from 'node:fs';

const codes = process.argv.slice(2).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const dbPath = ['/usr/share/proj/proj.db', process.env.PROJ_DATA && `${process.env.PROJ_DATA}/proj.db`].find((p) => p && existsSync(p));
const projDb = dbPath ? gdal.open(dbPath) : null;
const out = {};
for (const code of codes) {
  const facts = { northingFirst: false, geographic: false, area: null, known: false };
  try {
    const srs = gdal.SpatialReference.fromEPSG(code);
    facts.known = true;
    facts.northingFirst = srs.EPSGTreatsAsLatLong() || srs.EPSGTreatsAsNorthingEasting();
    facts.geographic = srs.isGeographic();
  } catch {
    /* unknown to PROJ */
  }
  if (projDb && facts.known) {
    const r = projDb.executeSQL(
      `SELECT e.south_lat, e.north_lat, e.west_lon, e.east_lon FROM usage u JOIN extent e ON e.auth_name = u.extent_auth_name AND e.code = u.extent_code
        WHERE u.object_auth_name = 'EPSG' AND u.object_code = '${code}' AND u.object_table_name IN ('projected_crs', 'geodetic_crs') LIMIT 1`,
    );
    const f = r.features.first();
    if (f) {
      const v = f.fields.toObject();
      // Areas crossing the antimeridian (west > east) are not used for clipping.
      if (v.west_lon <= v.east_lon) facts.area = { minx: v.west_lon, miny: v.south_lat, maxx: v.east_lon, maxy: v.north_lat };
    }
  }
  out[code] = facts;
}
process.stdout.write(JSON.stringify(out));
