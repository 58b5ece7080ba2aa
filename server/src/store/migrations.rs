//! The schema, as numbered migrations shared by both engines. The only
//! dialect difference is the binary column type (`{blob}`: SQLite `BLOB`,
//! PostgreSQL `BYTEA`); everything else is the common subset.
//!
//! Instants are Unix milliseconds, money is integer minor units, and every
//! item a device pulls carries `seq`, its position in the account's feed.

use super::{Dialect, StoreError, Tx};

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the bank.
    r#"
CREATE TABLE issuer_keys (
    profile TEXT NOT NULL,
    dki BIGINT NOT NULL,
    key_bytes {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (profile, dki)
);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    feed_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE principals (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id),
    public_key {blob} NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE link_codes (
    code TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    expires_at BIGINT NOT NULL,
    used_by TEXT
);
CREATE TABLE nonces (
    principal_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (principal_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_at);
CREATE TABLE cards (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    status TEXT NOT NULL,
    bin TEXT NOT NULL,
    last4 TEXT NOT NULL,
    expiry TEXT NOT NULL,
    nickname TEXT,
    limit_minor BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cards_feed ON cards (account_id, seq);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    card_id TEXT NOT NULL REFERENCES cards (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    device_id TEXT NOT NULL REFERENCES principals (id),
    pan TEXT NOT NULL UNIQUE,
    psn BIGINT NOT NULL,
    expiry TEXT NOT NULL,
    profile TEXT NOT NULL,
    dki BIGINT NOT NULL,
    aid TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    keys_issued_until BIGINT NOT NULL,
    atc_record {blob} NOT NULL,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tokens_feed ON tokens (account_id, seq);
CREATE TABLE operations (
    scope TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_hash {blob} NOT NULL,
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE TABLE authorizations (
    id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id),
    atc BIGINT NOT NULL,
    ac {blob} NOT NULL,
    outcome TEXT NOT NULL,
    entry_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (token_id, atc)
);
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    merchant_name TEXT,
    merchant_city TEXT,
    merchant_country TEXT,
    mcc BIGINT,
    card_id TEXT,
    token_id TEXT,
    atc BIGINT,
    origin_key TEXT,
    authorization_id TEXT,
    booked_at BIGINT NOT NULL,
    UNIQUE (account_id, seq)
);
CREATE TABLE records (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    collection TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    hlc_wall BIGINT NOT NULL,
    hlc_counter BIGINT NOT NULL,
    hlc_node TEXT NOT NULL,
    origin TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, collection, record_id, field)
);
CREATE INDEX records_feed ON records (account_id, seq);
CREATE TABLE alerts_sent (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    budget_id TEXT NOT NULL,
    period TEXT NOT NULL,
    threshold BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, budget_id, period, threshold)
);
CREATE INDEX alerts_feed ON alerts_sent (account_id, seq);
"#,
    // 2: the phone's tap reports. A report never charges; it waits here for
    // the terminal's authorization of the same (token, ATC), whose ledger
    // entry then carries the report's idempotency key as `origin_key`.
    r#"
CREATE TABLE tap_reports (
    token_id TEXT NOT NULL REFERENCES tokens (id),
    atc BIGINT NOT NULL,
    ac {blob} NOT NULL,
    device_id TEXT NOT NULL REFERENCES principals (id),
    origin_key TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, atc)
);
"#,
];

/// The schema version this server writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// A migration's SQL for one engine.
pub fn render(sql: &str, dialect: Dialect) -> String {
    sql.replace(
        "{blob}",
        match dialect {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        },
    )
}

/// Brings the schema up to [`LATEST`], in the caller's transaction.
pub fn migrate(tx: &mut dyn Tx) -> Result<i64, StoreError> {
    migrate_to(tx, LATEST)
}

/// Brings the schema up to `target` (for tests of upgrades).
pub fn migrate_to(tx: &mut dyn Tx, target: i64) -> Result<i64, StoreError> {
    if tx.dialect() == Dialect::Postgres {
        // Two servers starting on one database take turns.
        tx.execute("SELECT pg_advisory_xact_lock(7340031)", &[])?;
    }
    tx.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
    let current = tx
        .query_one(
            "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            &[],
        )?
        .int(0)?;
    if current > LATEST {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported: LATEST,
        });
    }
    for version in current + 1..=target.min(LATEST) {
        let sql = MIGRATIONS[(version - 1) as usize];
        tx.batch(&render(sql, tx.dialect()))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version.into(), crate::clock::unix_ms_now().into()],
        )?;
    }
    Ok(target.min(LATEST).max(current))
}
