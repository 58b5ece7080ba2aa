//! The wallet's SQLite file: connection settings and versioned migrations.
//!
//! WAL with `synchronous=FULL` makes every committed transaction durable
//! across a power cut or kill -9; `secure_delete` overwrites freed pages so
//! a removed card's ciphertext does not linger; temp data stays in memory so
//! no secret ever reaches a temp file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Each entry moves the schema from version `i` to `i + 1`. Append only:
/// an entry that has shipped is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: the vault and cards.
    "CREATE TABLE vault (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        wrapped_key BLOB NOT NULL,
        key_version INTEGER NOT NULL,
        key_check   BLOB NOT NULL
    );
    CREATE TABLE cards (
        id          TEXT PRIMARY KEY,
        fingerprint BLOB NOT NULL UNIQUE,
        network     TEXT NOT NULL,
        pan_ct      BLOB NOT NULL,
        expiry_ct   BLOB NOT NULL,
        name_ct     BLOB NOT NULL,
        nickname    TEXT,
        frozen      INTEGER NOT NULL DEFAULT 0,
        is_default  INTEGER NOT NULL DEFAULT 0,
        created_ms  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX cards_one_default ON cards (is_default) WHERE is_default = 1;",
    // Ledger, categories, budgets and alerts (issue 6).
    //
    // Entries are keyed by their idempotency key (local writes) or bank id
    // (posted or imported), never by content. `balances` and
    // `budget_period_totals` are aggregates maintained in the same
    // transaction as every entry write, so balances and budget status never
    // scan the ledger. User-editable rows (categories, overrides, budgets,
    // limits, bills) carry `updated_hlc` (a hybrid logical clock,
    // "<13-digit ms>-<5-digit counter>-<device>", ordered as text) and a
    // `deleted` tombstone so sync can merge them last-writer-wins; the alerts
    // table is a grow-only set.
    "CREATE TABLE hlc_state (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        device  TEXT NOT NULL,
        last_ms INTEGER NOT NULL,
        counter INTEGER NOT NULL
    );
    INSERT INTO hlc_state (id, device, last_ms, counter) VALUES (1, lower(hex(randomblob(8))), 0, 0);
    CREATE TABLE accounts (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE categories (
        id          TEXT PRIMARY KEY,
        parent_id   TEXT,
        name        TEXT NOT NULL,
        merged_into TEXT,
        updated_hlc TEXT NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO categories (id, parent_id, name, updated_hlc) VALUES
        ('food', NULL, 'Food & drink', '0'),
        ('food.groceries', 'food', 'Groceries', '0'),
        ('food.restaurants', 'food', 'Restaurants & bars', '0'),
        ('food.fast_food', 'food', 'Fast food & cafes', '0'),
        ('transport', NULL, 'Transport', '0'),
        ('transport.fuel', 'transport', 'Fuel', '0'),
        ('transport.transit', 'transport', 'Public transit', '0'),
        ('transport.taxi', 'transport', 'Taxis & rideshare', '0'),
        ('transport.parking', 'transport', 'Parking & tolls', '0'),
        ('transport.car', 'transport', 'Car & maintenance', '0'),
        ('travel', NULL, 'Travel', '0'),
        ('travel.airlines', 'travel', 'Flights', '0'),
        ('travel.lodging', 'travel', 'Hotels & lodging', '0'),
        ('travel.car_rental', 'travel', 'Car rental', '0'),
        ('shopping', NULL, 'Shopping', '0'),
        ('shopping.clothing', 'shopping', 'Clothing', '0'),
        ('shopping.electronics', 'shopping', 'Electronics', '0'),
        ('shopping.general', 'shopping', 'General merchandise', '0'),
        ('home', NULL, 'Home', '0'),
        ('home.utilities', 'home', 'Utilities', '0'),
        ('home.telecom', 'home', 'Phone & internet', '0'),
        ('home.furnishing', 'home', 'Furnishing & hardware', '0'),
        ('health', NULL, 'Health', '0'),
        ('health.pharmacy', 'health', 'Pharmacy', '0'),
        ('health.medical', 'health', 'Medical care', '0'),
        ('entertainment', NULL, 'Entertainment', '0'),
        ('entertainment.events', 'entertainment', 'Events & recreation', '0'),
        ('entertainment.media', 'entertainment', 'Media & subscriptions', '0'),
        ('services', NULL, 'Services', '0'),
        ('services.personal', 'services', 'Personal care', '0'),
        ('services.professional', 'services', 'Professional services', '0'),
        ('education', NULL, 'Education', '0'),
        ('government', NULL, 'Government & taxes', '0'),
        ('cash', NULL, 'Cash & financial', '0'),
        ('fees', NULL, 'Fees', '0'),
        ('income', NULL, 'Income', '0'),
        ('transfers', NULL, 'Transfers', '0'),
        ('other', NULL, 'Other', '0');
    CREATE TABLE ledger_entries (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        idempotency_key TEXT UNIQUE,
        bank_id         TEXT UNIQUE,
        account         TEXT NOT NULL REFERENCES accounts (id),
        status          TEXT NOT NULL CHECK (status IN ('pending', 'posted', 'reversed', 'refunded')),
        kind            TEXT NOT NULL CHECK (kind IN ('purchase', 'refund', 'fee', 'income', 'transfer_in', 'transfer_out')),
        amount_minor    INTEGER NOT NULL,
        currency        TEXT NOT NULL,
        orig_minor      INTEGER,
        orig_currency   TEXT,
        fx_rate         TEXT,
        fx_source       TEXT,
        fx_as_of_ms     INTEGER,
        merchant        TEXT,
        mcc             INTEGER,
        auto_category   TEXT NOT NULL,
        category        TEXT NOT NULL,
        note            TEXT,
        booked_at_ms    INTEGER NOT NULL,
        posted_at_ms    INTEGER,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        CHECK (idempotency_key IS NOT NULL OR bank_id IS NOT NULL)
    );
    CREATE INDEX ledger_by_time ON ledger_entries (booked_at_ms, seq);
    CREATE TABLE category_overrides (
        entry_id    TEXT PRIMARY KEY,
        category_id TEXT NOT NULL,
        updated_hlc TEXT NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE balances (
        account              TEXT NOT NULL,
        currency             TEXT NOT NULL,
        posted_minor         INTEGER NOT NULL DEFAULT 0,
        pending_debit_minor  INTEGER NOT NULL DEFAULT 0,
        pending_credit_minor INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, currency)
    ) WITHOUT ROWID;
    CREATE TABLE scheduled_bills (
        id           TEXT PRIMARY KEY,
        account      TEXT NOT NULL,
        name         TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency     TEXT NOT NULL,
        due_ms       INTEGER NOT NULL,
        created_ms   INTEGER NOT NULL,
        updated_hlc  TEXT NOT NULL,
        deleted      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE fx_rates (
        base      TEXT NOT NULL,
        quote     TEXT NOT NULL,
        as_of_ms  INTEGER NOT NULL,
        rate      TEXT NOT NULL,
        source    TEXT NOT NULL,
        PRIMARY KEY (base, quote, as_of_ms)
    ) WITHOUT ROWID;
    CREATE TABLE budgets (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL,
        category_id TEXT,
        currency    TEXT NOT NULL,
        period      TEXT NOT NULL,
        time_zone   TEXT NOT NULL,
        rollover    TEXT NOT NULL CHECK (rollover IN ('none', 'surplus', 'surplus_and_deficit')),
        thresholds  TEXT NOT NULL,
        starts_on   TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        updated_hlc TEXT NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE budget_limits (
        budget_id      TEXT NOT NULL,
        effective_from TEXT NOT NULL,
        limit_minor    INTEGER NOT NULL,
        updated_hlc    TEXT NOT NULL,
        PRIMARY KEY (budget_id, effective_from)
    ) WITHOUT ROWID;
    CREATE TABLE budget_period_totals (
        budget_id     TEXT NOT NULL,
        period_start  TEXT NOT NULL,
        spent         TEXT NOT NULL,
        missing_rates INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (budget_id, period_start)
    ) WITHOUT ROWID;
    CREATE TABLE alerts_sent (
        budget_id    TEXT NOT NULL,
        period_start TEXT NOT NULL,
        alert_key    TEXT NOT NULL,
        fired_ms     INTEGER NOT NULL,
        alert        TEXT NOT NULL,
        PRIMARY KEY (budget_id, period_start, alert_key)
    ) WITHOUT ROWID;",
    // Payment tokens, their single-use keys, taps and the outbox (issue 5).
    //
    // One token per card; its PAN and expiry and every session key are
    // sealed (AAD: table, column, row). A key's row is deleted, and the
    // token's `next_atc` advanced, in the same committed transaction that
    // records the tap and its outbox operation, before the key is used:
    // `next_atc` only grows, and (token_id, atc) is unique among taps.
    // The outbox holds operations for the bank in the API's JSON shape,
    // keyed by idempotency key; sync pushes them in `seq` order.
    "CREATE TABLE tokens (
        id                TEXT PRIMARY KEY,
        card_id           TEXT NOT NULL UNIQUE REFERENCES cards (id) ON DELETE CASCADE,
        pan_ct            BLOB NOT NULL,
        expiry_ct         BLOB NOT NULL,
        psn               INTEGER NOT NULL CHECK (psn BETWEEN 0 AND 99),
        aid               TEXT NOT NULL,
        label             TEXT NOT NULL,
        profile           TEXT NOT NULL CHECK (profile IN ('tdes', 'aes')),
        dki               INTEGER NOT NULL CHECK (dki BETWEEN 0 AND 255),
        status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
        next_atc          INTEGER NOT NULL CHECK (next_atc BETWEEN 0 AND 65536),
        provisioned_until INTEGER NOT NULL CHECK (provisioned_until BETWEEN 0 AND 65536),
        created_ms        INTEGER NOT NULL,
        last_tap_ms       INTEGER
    );
    CREATE TABLE token_keys (
        token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        atc      INTEGER NOT NULL CHECK (atc BETWEEN 0 AND 65535),
        key_ct   BLOB NOT NULL,
        PRIMARY KEY (token_id, atc)
    ) WITHOUT ROWID;
    CREATE TABLE taps (
        seq          INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        token_id     TEXT NOT NULL,
        card_id      TEXT NOT NULL,
        atc          INTEGER NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('answered', 'settled', 'void')),
        amount_minor INTEGER NOT NULL,
        other_minor  INTEGER NOT NULL,
        currency     INTEGER NOT NULL,
        country      INTEGER NOT NULL,
        txn_date     TEXT NOT NULL,
        txn_type     INTEGER NOT NULL,
        mcc          INTEGER,
        merchant     TEXT,
        cdol1_data   TEXT NOT NULL,
        iad          TEXT NOT NULL,
        ac           TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        settled_ms   INTEGER,
        UNIQUE (token_id, atc)
    );
    CREATE INDEX taps_unsettled ON taps (seq) WHERE state = 'answered';
    CREATE TABLE outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL,
        payload         TEXT NOT NULL,
        created_ms      INTEGER NOT NULL
    );",
    // Sync with the bank (issue 7).
    //
    // One enrollment per wallet: the device's Ed25519 key (PKCS#8) is sealed
    // like any secret. `cursor` is the bank's feed position of the last pull
    // applied, written in the pull's own transaction. Outbox rows stay until
    // the bank answers for them (applied, duplicate or rejected); `attempts`
    // and `last_error` are what the app shows for a stuck operation. Local
    // cards learn the bank's card id when the bank provisions them.
    "CREATE TABLE sync_state (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        server_url    TEXT NOT NULL,
        device_id     TEXT NOT NULL,
        account_id    TEXT NOT NULL,
        currency      TEXT NOT NULL,
        device_key_ct BLOB NOT NULL,
        cursor        INTEGER NOT NULL DEFAULT 0,
        posted_minor  INTEGER,
        last_sync_ms  INTEGER,
        enrolled_ms   INTEGER NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN last_error TEXT;
    ALTER TABLE cards ADD COLUMN bank_card_id TEXT;
    CREATE UNIQUE INDEX cards_bank_id ON cards (bank_card_id) WHERE bank_card_id IS NOT NULL;
    CREATE TABLE sync_rejections (
        idempotency_key TEXT PRIMARY KEY,
        kind            TEXT NOT NULL,
        code            TEXT NOT NULL,
        message         TEXT NOT NULL,
        at_ms           INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // Per-field clocks for sync's merge of user-editable data (see
    // `replica`).
    //
    // `replica_fields` is this device's copy of the bank's `records`: one
    // last-writer-wins register per (collection, record, field), holding
    // the winning JSON value and its HLC as numbers (the text form in
    // `updated_hlc` cannot order counters wider than five digits). The
    // budgets, categories and category_overrides rows are built from these
    // registers. Existing user rows get registers stamped with their row's
    // `updated_hlc` (seed rows, stamped "0", are the same on every device
    // and get none), and each such record is queued for the bank once, so
    // a device linked later learns the budgets and categories made before
    // sync existed.
    "CREATE TABLE replica_fields (
        collection  TEXT NOT NULL CHECK (collection IN ('budgets', 'categories', 'notes')),
        record_id   TEXT NOT NULL,
        field       TEXT NOT NULL,
        value       TEXT NOT NULL,
        hlc_ms      INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        hlc_node    TEXT NOT NULL,
        PRIMARY KEY (collection, record_id, field)
    ) WITHOUT ROWID;
    INSERT INTO replica_fields (collection, record_id, field, value, hlc_ms, hlc_counter, hlc_node)
    SELECT 'budgets', b.id, f.field,
        CASE f.field
            WHEN 'name' THEN json_quote(b.name)
            WHEN 'category' THEN json_quote(b.category_id)
            WHEN 'currency' THEN json_quote(b.currency)
            WHEN 'period' THEN json_quote(b.period)
            WHEN 'time_zone' THEN json_quote(b.time_zone)
            WHEN 'rollover' THEN json_quote(b.rollover)
            WHEN 'thresholds' THEN '[' || b.thresholds || ']'
            WHEN 'starts_on' THEN json_quote(b.starts_on)
            WHEN 'created_ms' THEN CAST(b.created_ms AS TEXT)
            ELSE CASE WHEN b.deleted THEN 'true' ELSE 'false' END
        END,
        CAST(substr(b.updated_hlc, 1, 13) AS INTEGER),
        CAST(substr(b.updated_hlc, 15, 5) AS INTEGER),
        substr(b.updated_hlc, 21)
    FROM budgets b,
        (SELECT 'name' AS field UNION ALL SELECT 'category' UNION ALL SELECT 'currency'
         UNION ALL SELECT 'period' UNION ALL SELECT 'time_zone' UNION ALL SELECT 'rollover'
         UNION ALL SELECT 'thresholds' UNION ALL SELECT 'starts_on'
         UNION ALL SELECT 'created_ms' UNION ALL SELECT '_deleted') f
    WHERE length(b.updated_hlc) > 20;
    INSERT INTO replica_fields (collection, record_id, field, value, hlc_ms, hlc_counter, hlc_node)
    SELECT 'budgets', budget_id, 'limit_' || replace(effective_from, '-', ''),
        CAST(limit_minor AS TEXT),
        CAST(substr(updated_hlc, 1, 13) AS INTEGER),
        CAST(substr(updated_hlc, 15, 5) AS INTEGER),
        substr(updated_hlc, 21)
    FROM budget_limits
    WHERE length(updated_hlc) > 20;
    INSERT INTO replica_fields (collection, record_id, field, value, hlc_ms, hlc_counter, hlc_node)
    SELECT 'categories', c.id, f.field,
        CASE f.field
            WHEN 'name' THEN json_quote(c.name)
            WHEN 'parent' THEN json_quote(c.parent_id)
            WHEN 'merged_into' THEN json_quote(c.merged_into)
            ELSE CASE WHEN c.deleted THEN 'true' ELSE 'false' END
        END,
        CAST(substr(c.updated_hlc, 1, 13) AS INTEGER),
        CAST(substr(c.updated_hlc, 15, 5) AS INTEGER),
        substr(c.updated_hlc, 21)
    FROM categories c,
        (SELECT 'name' AS field UNION ALL SELECT 'parent' UNION ALL SELECT 'merged_into'
         UNION ALL SELECT '_deleted') f
    WHERE length(c.updated_hlc) > 20;
    INSERT INTO replica_fields (collection, record_id, field, value, hlc_ms, hlc_counter, hlc_node)
    SELECT 'notes', entry_id, 'category',
        CASE WHEN deleted THEN 'null' ELSE json_quote(category_id) END,
        CAST(substr(updated_hlc, 1, 13) AS INTEGER),
        CAST(substr(updated_hlc, 15, 5) AS INTEGER),
        substr(updated_hlc, 21)
    FROM category_overrides
    WHERE length(updated_hlc) > 20;
    INSERT INTO outbox (idempotency_key, kind, payload, created_ms)
    SELECT 'rec:' || substr(collection, 1, 1) || ':' || record_id || ':'
            || (SELECT device FROM hlc_state WHERE id = 1) || ':v5',
        'record_update',
        json_object('type', 'record_update', 'collection', collection, 'record_id', record_id,
            'fields', json_group_object(field, json_object('value', json(value),
                'hlc', json_object('wall_ms', hlc_ms, 'counter', hlc_counter, 'node', hlc_node)))),
        CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM replica_fields
    GROUP BY collection, record_id
    ORDER BY CASE collection WHEN 'categories' THEN 0 WHEN 'budgets' THEN 1 ELSE 2 END, record_id;",
];

pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub(crate) fn open(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    Ok(conn)
}

pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // A ledger write uses a dozen statements; rusqlite's default cache of 16
    // would re-prepare them on every entry of a 10k-entry sync.
    conn.set_prepared_statement_cache_capacity(128);
    // An 8 MiB page cache (grown only as used) keeps a 10k-entry sync from
    // spilling half-written index pages mid-transaction.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(format!("could not enable WAL (got {mode})")));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;",
    )?;
    Ok(())
}

pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema to `target`, one transaction per step, so a crash
/// mid-migration leaves a database at a known earlier version.
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let current = schema_version(conn)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew(current));
    }
    for v in current..target.min(LATEST) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    migrate_to(conn, LATEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("w.db"), true).unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!((sync, fk, mode.as_str()), (2, 1, "wal"));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("w.db"), true).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::SchemaTooNew(_))));
    }
}
