-- Keys in the row, LZ4 for the large values of sdi.metadata_records (issue 12: speed of a search seen for the
-- first time; loading 100,000 records).
--
-- Identifier and title in the row. With toast_tuple_target = 512 (0025), the toaster moves values out of line,
-- largest first, until the row is under 512 bytes: with some forty text and array columns, that went down to
-- the identifier (36 bytes) and the title. Every page of every search then fetched them from the TOAST table:
-- the order (identifier last in every ORDER BY, the title for SortBy dc:title) and the identifier index walk
-- read ~4 TOAST buffers a record. C2's page (1,720 matches sorted by identifier) read 15,760 buffers in
-- ~100 ms; with the identifier in the row, the 585 of its bitmap scan (EXPLAIN ANALYZE, 100,000 records).
-- MAIN keeps them in the row whatever else is moved out (they are small: 36-byte identifiers, titles ~60).
-- Like 0025, for rows written from now on (a reload into an empty table gets it whole; VACUUM FULL rewrites
-- the rows in place). Not rewritten here: an UPDATE of every row doubled the heap of 100,000 records until a
-- VACUUM FULL, and on the doubled heap the planner chose a sequential scan for C1's count (3.4 s, detoasting
-- every tsvector) instead of the bitmap scan.
--
-- LZ4: each record stores ~40 kB of text (document ~17 kB, ISO summary ~14 kB, brief ~5 kB, AnyText and its
-- tsvector), compressed when a row is written and decompressed when a page or GetRecordById reads it. pglz
-- compressed 1,000 rows of the generated records in 0.87 s, lz4 in 0.54 s (same rows, same minute, INSERT …
-- SELECT into a copy of the table); lz4 also decompresses several times faster. It applies to values written
-- from now on: older ones keep pglz and stay readable (each value says how it is compressed).
ALTER TABLE sdi.metadata_records
  ALTER COLUMN identifier SET STORAGE MAIN,
  ALTER COLUMN title SET STORAGE MAIN,
  ALTER COLUMN document SET COMPRESSION lz4,
  ALTER COLUMN iso_summary SET COMPRESSION lz4,
  ALTER COLUMN iso_brief SET COMPRESSION lz4,
  ALTER COLUMN anytext SET COMPRESSION lz4,
  ALTER COLUMN abstract SET COMPRESSION lz4,
  ALTER COLUMN anytext_tsv SET COMPRESSION lz4;

