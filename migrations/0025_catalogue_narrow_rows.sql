-- Narrow heap rows for sdi.metadata_records (issue 12: speed of a search seen for the first time).
--
-- A search's exact count (numberOfRecordsMatched) is a bitmap heap scan: the GIN and GiST indexes find the
-- matches, and PostgreSQL 15 then visits every heap page holding one (its bitmap scans no longer skip
-- all-visible pages). Rows were ~2 kB inline (4 a page: the compressed tsvector, anytext, abstract, the ISO
-- brief and summary kept in the row), so C1's 29,100 matches in 100,000 records touched 19,020 of 25,000
-- pages. Toasting a row down to 512 bytes moves those large values out of line and leaves the queryables
-- in the row: ~15 rows a page, about four times fewer pages to visit per count (measured with EXPLAIN
-- ANALYZE on 100,000 records; in a copy with only id, bbox and tsvector inline the same count visited
-- 1,819 pages and ran ~4-10 times faster).
--
-- The setting applies to rows written from now on (a load, an insert, a harvest, an update whose new row
-- is over the 2 kB toast threshold): rows already stored keep their layout, and a catalogue reloaded into an
-- empty table gets it whole. No rewrite here: it would take minutes on a large catalogue at migration time.
ALTER TABLE sdi.metadata_records SET (toast_tuple_target = 512);
-- The footprint and the sort keys stay in the row whatever else is moved out (MAIN: out of line last):
-- BBOX tests read the footprint of every candidate.
ALTER TABLE sdi.metadata_records ALTER COLUMN bbox SET STORAGE MAIN;
