// A durable store for node oidc-provider, for the OIDC flow benchmark: what a deployment puts in
// place of the default in-memory adapter, which oidc-provider itself calls development-only.
// Every model instance (Session, Interaction, Grant, AuthorizationCode, AccessToken,
// RefreshToken, ...) is one row of one table, written by one autocommit statement, so every
// write is durable before oidc-provider goes on:
//
//   - SQLite (better-sqlite3): one connection in WAL mode with synchronous=FULL, as Kluis
//     runs SQLite: each write waits for the WAL's fsync. better-sqlite3 is synchronous, so a
//     write holds node's event loop while it waits, which is how node applications use it.
//   - PostgreSQL (pg): a pool of connections, every write committed with the server's default
//     synchronous_commit=on, as Kluis commits.
//
// store config (server.mjs's config.json, "store"):
//   { "kind": "sqlite", "path": "/path/file.sqlite3" }
//   { "kind": "postgres", "url": "postgresql://user@host:port/db", "schema": "bench_x" }
//
// The adapter keeps the in-memory adapter's semantics: an upsert replaces the whole payload
// (and forgets a consumption), `find` does not return an expired row, `findByUid` looks up
// Sessions, `revokeByGrantId` deletes the tokens and codes issued under a grant.

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

const COLUMNS = `model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
  grant_id TEXT, user_code TEXT, uid TEXT, expires_at BIGINT, consumed_at BIGINT,
  PRIMARY KEY (model, id)`;
const INDEXES = [
  'CREATE INDEX IF NOT EXISTS oidc_store_grant ON oidc_store (grant_id)',
  'CREATE INDEX IF NOT EXISTS oidc_store_uid ON oidc_store (uid)',
  'CREATE INDEX IF NOT EXISTS oidc_store_user_code ON oidc_store (user_code)',
];

const epochTime = () => Math.floor(Date.now() / 1000);

// The statements, in SQLite's `?` placeholders; PostgreSQL's `$n` are numbered below.
const SQL = {
  upsert: `INSERT INTO oidc_store (model, id, payload, grant_id, user_code, uid, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload,
      grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid,
      expires_at = excluded.expires_at, consumed_at = NULL`,
  find: `SELECT payload, consumed_at FROM oidc_store
    WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
  findByUid: `SELECT payload, consumed_at FROM oidc_store
    WHERE model = ? AND uid = ? AND (expires_at IS NULL OR expires_at > ?)`,
  findByUserCode: `SELECT payload, consumed_at FROM oidc_store
    WHERE model = ? AND user_code = ? AND (expires_at IS NULL OR expires_at > ?)`,
  consume: 'UPDATE oidc_store SET consumed_at = ? WHERE model = ? AND id = ?',
  destroy: 'DELETE FROM oidc_store WHERE model = ? AND id = ?',
  revokeByGrantId: `DELETE FROM oidc_store WHERE grant_id = ? AND model IN
    (${[...GRANTABLE].map((m) => `'${m}'`).join(', ')})`,
};

function numbered(sql) {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function sqliteDatabase({ path }, Database) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS oidc_store (${COLUMNS})`);
  for (const index of INDEXES) db.exec(index);
  const prepared = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)]));
  return {
    run: async (name, params) => { prepared[name].run(...params); },
    get: async (name, params) => prepared[name].get(...params),
  };
}

async function postgresDatabase({ url, schema }, pg) {
  const options = schema ? `-c search_path=${schema}` : undefined;
  const pool = new pg.Pool({ connectionString: url, options, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS oidc_store (${COLUMNS})`);
  for (const index of INDEXES) await pool.query(index);
  // Named statements: each connection parses a statement once, as Kluis's are prepared.
  const queries = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, numbered(sql)]));
  const query = (name, values) => pool.query({ name: `oidc_${name}`, text: queries[name], values });
  return {
    run: async (name, params) => { await query(name, params); },
    get: async (name, params) => (await query(name, params)).rows[0],
  };
}

async function openDatabase(config) {
  if (config.kind === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    return sqliteDatabase(config, Database);
  }
  if (config.kind === 'postgres') {
    const { default: pg } = await import('pg');
    return postgresDatabase(config, pg);
  }
  throw new Error(`unknown store kind: ${config.kind}`);
}

// The store, counting its statements by name and model (`counts()`: what a flow writes).
export async function openStore(config) {
  const db = await openDatabase(config);
  const counted = {};
  const count = (name, model) => {
    const key = `${name} ${model}`;
    counted[key] = (counted[key] ?? 0) + 1;
  };
  return {
    run: (name, params, model) => { count(name, model); return db.run(name, params); },
    get: (name, params, model) => { count(name, model); return db.get(name, params); },
    counts: () => ({ ...counted }),
  };
}

function payloadOf(row) {
  if (!row) return undefined;
  const payload = JSON.parse(row.payload);
  if (row.consumed_at !== null && row.consumed_at !== undefined) {
    payload.consumed = Number(row.consumed_at);
  }
  return payload;
}

// oidc-provider's `adapter` option: a class constructed once per model name.
export function adapterFor(db) {
  return class SqlAdapter {
    constructor(model) {
      this.model = model;
    }

    async upsert(id, payload, expiresIn) {
      const expiresAt = typeof expiresIn === 'number' ? epochTime() + expiresIn : null;
      const grantId = GRANTABLE.has(this.model) ? payload.grantId ?? null : null;
      const uid = this.model === 'Session' ? payload.uid ?? null : null;
      await db.run('upsert', [
        this.model, id, JSON.stringify(payload), grantId, payload.userCode ?? null, uid, expiresAt,
      ], this.model);
    }

    async find(id) {
      return payloadOf(await db.get('find', [this.model, id, epochTime()], this.model));
    }

    async findByUid(uid) {
      return payloadOf(await db.get('findByUid', [this.model, uid, epochTime()], this.model));
    }

    async findByUserCode(userCode) {
      return payloadOf(await db.get('findByUserCode', [this.model, userCode, epochTime()], this.model));
    }

    async consume(id) {
      await db.run('consume', [epochTime(), this.model, id], this.model);
    }

    async destroy(id) {
      await db.run('destroy', [this.model, id], this.model);
    }

    async revokeByGrantId(grantId) {
      await db.run('revokeByGrantId', [grantId], this.model);
    }
  };
}
