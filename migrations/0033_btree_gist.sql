-- Vector tiles at low zoom (issue 9, T2): a polygon layer's spatial index has the area as its second column,
-- GiST (geom, ST_Area(geom)), so that `geom && tile box AND ST_Area(geom) >= one pixel squared` is one index
-- scan and the polygons under a pixel are never read (src/render/mvt-sql.ts, src/import/staging.ts). A float8
-- column in a GiST index needs btree_gist's operator classes (a contrib extension shipped with PostgreSQL).
CREATE EXTENSION IF NOT EXISTS btree_gist;
