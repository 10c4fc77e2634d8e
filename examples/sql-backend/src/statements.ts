import { CacheError } from '@cache/core';

/** The SQL of one cache table, with its (schema-qualified, quoted) name filled in once. */
export interface Statements {
  /** Creates the table and its expiry index when missing. */
  readonly create: string;
  /** `$1` key, `$2` now: the live entry at a key. */
  readonly read: string;
  /** `$1`..`$6` key, data, expire, stale, format, compressor: replaces the whole entry. */
  readonly upsert: string;
  /** `$1` key, `$2` now: removes the entry, returning whether it was still live. */
  readonly remove: string;
  /** `$1` now, `$2` batch size: removes up to a batch of expired entries. */
  readonly sweep: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes a table or schema name, accepting only plain identifiers so no name can carry SQL. */
export function identifier(name: string, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new CacheError(
      'INVALID_OPTIONS',
      `${what} must be a plain SQL identifier (letters, digits, _; at most 63), got ${JSON.stringify(name)}`,
    );
  }
  return `"${name}"`;
}

/** The statements for `table` in `schema` (the connection's search path when undefined). */
export function statements(table: string, schema: string | undefined): Statements {
  const name = (schema === undefined ? '' : `${identifier(schema, 'schema')}.`) + identifier(table, 'table');
  const index = identifier(`${table}_expire`, 'table');
  return {
    create: `CREATE TABLE IF NOT EXISTS ${name} (
  key BYTEA PRIMARY KEY,
  data BYTEA NOT NULL,
  expire BIGINT,
  stale BIGINT,
  format TEXT NOT NULL,
  compressor TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${index} ON ${name} (expire) WHERE expire IS NOT NULL`,
    read: `SELECT data, expire, stale, format, compressor FROM ${name}
WHERE key = $1 AND (expire IS NULL OR expire > $2)`,
    upsert: `INSERT INTO ${name} (key, data, expire, stale, format, compressor) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, expire = EXCLUDED.expire, stale = EXCLUDED.stale,
  format = EXCLUDED.format, compressor = EXCLUDED.compressor`,
    remove: `DELETE FROM ${name} WHERE key = $1 RETURNING (expire IS NULL OR expire > $2) AS live`,
    sweep: `DELETE FROM ${name} WHERE key IN (
  SELECT key FROM ${name} WHERE expire IS NOT NULL AND expire <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
)`,
  };
}
