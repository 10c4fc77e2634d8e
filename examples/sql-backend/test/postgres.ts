import pg from 'pg';

/** A schema of its own on a reachable PostgreSQL, dropped (with everything in it) by `drop()`. */
export interface TestDatabase {
  readonly pool: pg.Pool;
  readonly connectionString: string;
  readonly schema: string;
  drop(): Promise<void>;
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** `CACHE_PG_URL` first: turbo passes `CACHE_*` variables to tests, not `PGURL` or `DATABASE_URL`. */
const GIVEN = process.env.CACHE_PG_URL ?? process.env.PGURL ?? process.env.DATABASE_URL;

/** The URL without its password, for messages. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * Connects to `CACHE_PG_URL`/`PGURL`/`DATABASE_URL`, or to 127.0.0.1:5432 as `postgres`, and creates a schema with a
 * unique name. Resolves with `{ skip }` when no server answers, so a machine without PostgreSQL skips these tests
 * (set `CACHE_PG_REQUIRED=1` to fail instead, e.g. in a CI job that provides one).
 */
export async function findPostgres(): Promise<{ db: TestDatabase } | { skip: string }> {
  const connectionString = GIVEN ?? DEFAULT_URL;
  const pool = new pg.Pool({ connectionString, max: 20, connectionTimeoutMillis: 3000 });
  const schema = `cache_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  try {
    await pool.query(`CREATE SCHEMA "${schema}"`);
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message || error.name : String(error);
    const message =
      `no PostgreSQL at ${shown(connectionString)} (${reason}); ` +
      'set CACHE_PG_URL (or PGURL, DATABASE_URL) to run these tests';
    if (process.env.CACHE_PG_REQUIRED === '1') throw new Error(message, { cause: error });
    return { skip: message };
  }
  return {
    db: {
      pool,
      connectionString,
      schema,
      async drop() {
        try {
          await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
        } finally {
          await pool.end();
        }
      },
    },
  };
}
