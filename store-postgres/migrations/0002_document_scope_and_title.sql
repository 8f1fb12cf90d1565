-- Each document's metadata keeps who may see it (its scope, shares included, encoded as the
-- core's document metadata encodes it) and its title, so that access and index entries are
-- decided without loading it. `owner` always held the creator; `scope` was never written.
ALTER TABLE documents RENAME COLUMN owner TO creator;
ALTER TABLE documents DROP COLUMN scope;
ALTER TABLE documents ADD COLUMN access bytea;
ALTER TABLE documents ADD COLUMN title text NOT NULL DEFAULT '';
