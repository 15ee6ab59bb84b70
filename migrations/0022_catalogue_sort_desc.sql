-- CSW SortBy dct:modified DESC puts the records without a date after the others (ORDER BY modified DESC NULLS
-- LAST, issue 12), an order the ascending index cannot serve backwards: an index of its own.
CREATE INDEX IF NOT EXISTS metadata_records_modified_desc_idx ON sdi.metadata_records (modified DESC NULLS LAST);
