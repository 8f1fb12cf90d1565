-- Several server nodes on one database. A compare-and-set on the key–value table, so that a
-- write that relies on a value it read (a legal number's sequence, the leader's term) fails
-- with its whole transaction when another node changed the value meanwhile. The statement
-- takes the row's lock: of two transactions replacing the same expected value, the second
-- waits for the first, then finds another value and fails.
CREATE FUNCTION itinera_replace_value(k text, expected bytea, v bytea) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF expected IS NULL THEN
        INSERT INTO key_values (key, value) VALUES (k, v) ON CONFLICT (key) DO NOTHING;
    ELSE
        UPDATE key_values SET value = v WHERE key = k AND value = expected;
    END IF;
    IF NOT FOUND THEN
        -- The message is the key alone: the store names it in its error.
        RAISE EXCEPTION USING ERRCODE = 'IT409', MESSAGE = k;
    END IF;
END
$$;
