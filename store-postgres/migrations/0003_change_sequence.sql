-- The store's change sequence: each document carries the number of its last write (chunks or
-- metadata), so that a device's changes feed reads "what changed after N" as one index range
-- and hears of each document once. The numbers come from one counter row, updated in the
-- writing transaction: its row lock makes transactions take and commit numbers in the same
-- order, so a reader that sees number N committed has seen every number before it (a
-- PostgreSQL sequence would hand out numbers that commit out of order).
CREATE TABLE change_counter (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last     bigint  NOT NULL
);
INSERT INTO change_counter (last) SELECT count(*) FROM documents;

ALTER TABLE documents ADD COLUMN change_seq bigint;
UPDATE documents AS d SET change_seq = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM documents) AS numbered
WHERE d.id = numbered.id;
ALTER TABLE documents ALTER COLUMN change_seq SET NOT NULL;
CREATE UNIQUE INDEX documents_by_change ON documents (change_seq);
