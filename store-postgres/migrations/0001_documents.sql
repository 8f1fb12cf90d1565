-- Itinera's documents, their chunks, the sync states of remote peers and the key–value table
-- (users, tokens, grants, number sequences, report summaries). Applied once, in one transaction
-- with its row in schema_migrations; a change of layout is a new numbered file, never an edit.

CREATE TABLE documents (
    id                 bytea  PRIMARY KEY CHECK (octet_length(id) = 16),
    kind               text,
    owner              text,
    scope              text,
    -- The heads after the last write: 32-byte change hashes, concatenated.
    heads              bytea  NOT NULL CHECK (octet_length(heads) % 32 = 0),
    snapshot_bytes     bigint NOT NULL CHECK (snapshot_bytes >= 0),
    incremental_bytes  bigint NOT NULL CHECK (incremental_bytes >= 0),
    incremental_chunks bigint NOT NULL CHECK (incremental_chunks >= 0),
    -- Unix milliseconds, as the writer's clock said.
    last_change_at     bigint NOT NULL,
    -- The sequence number the next appended chunk takes. Appends and snapshots never reuse
    -- one, so chunks sort in write order and a compaction can tell whether what it folded is
    -- still what is stored.
    next_chunk         bigint NOT NULL CHECK (next_chunk >= 0)
);

-- A document's body: at most one snapshot, then increments, in sequence order.
CREATE TABLE document_chunks (
    document_id bytea  NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,
    bytes       bytea  NOT NULL,
    PRIMARY KEY (document_id, seq)
);

-- What each remote storage id last had of a document, so that a returning device resumes.
CREATE TABLE sync_states (
    document_id bytea NOT NULL CHECK (octet_length(document_id) = 16),
    storage_id  text  NOT NULL,
    state       bytea NOT NULL,
    PRIMARY KEY (document_id, storage_id)
);

-- Keys compare as bytes (code points), as the embedded store orders them, so that a prefix is
-- one range of the primary key.
CREATE TABLE key_values (
    key   text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
);
