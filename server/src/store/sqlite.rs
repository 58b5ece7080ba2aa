//! The SQLite backend: one database file in the data directory, owned by
//! one dedicated thread that runs every transaction in turn.
//!
//! SQLite allows one writer at a time anyway, so a single connection on a
//! single thread loses nothing and keeps blocking calls off the async
//! workers. WAL with `synchronous=FULL`: a committed transaction survives a
//! power cut, which is what "posted exactly once" needs.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, ErrorCode};
use tokio::sync::oneshot;

use super::{Backend, BoxFuture, Dialect, Erased, Row, StoreError, Tx, TxJob, Val};
use crate::error::ApiError;

type Reply = oneshot::Sender<Result<Erased, ApiError>>;

pub struct SqliteBackend {
    jobs: mpsc::Sender<(TxJob, Reply)>,
    path: PathBuf,
}

impl SqliteBackend {
    /// Opens (creating if needed) `bank.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create the data directory: {e}"))
        })?;
        let path = data_dir.join("bank.db");
        let conn = Connection::open(&path).map_err(db_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(db_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        let (jobs, rx) = mpsc::channel::<(TxJob, Reply)>();
        std::thread::Builder::new()
            .name("billfold-sqlite".into())
            .spawn(move || worker(conn, rx))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the database thread: {e}"))
            })?;
        Ok(SqliteBackend { jobs, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Most jobs committed together (see [`worker`]).
const GROUP_MAX: usize = 64;

/// The database thread: runs jobs until every sender is gone (the server
/// stopped).
///
/// Group commit: jobs that queued up while the previous commit was being
/// made durable run together in one transaction, each inside its own
/// savepoint (so a job that fails is rolled back alone), and one `COMMIT`,
/// one fsync, makes all of them durable. No job hears back before that
/// commit, so "committed" still means on disk. Under load this turns one
/// fsync per request into one per batch.
fn worker(conn: Connection, rx: mpsc::Receiver<(TxJob, Reply)>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&conn, group);
    }
}

fn run_group(conn: &Connection, group: Vec<(TxJob, Reply)>) {
    let fail_all = |group: Vec<(TxJob, Reply)>, e: StoreError| {
        for (_, reply) in group {
            let _ = reply.send(Err(e.clone().into()));
        }
    };
    // IMMEDIATE takes the write lock up front, so a transaction never has
    // to upgrade from reader to writer and fail with SQLITE_BUSY midway.
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return fail_all(group, db_err(e));
    }
    let mut done: Vec<(Reply, Result<Erased, ApiError>)> = Vec::with_capacity(group.len());
    for (job, reply) in group {
        match run_in_savepoint(conn, job) {
            Ok(outcome) => done.push((reply, outcome)),
            Err(e) => {
                // A savepoint could not be managed: the transaction's state
                // is unknown, so none of the group may commit.
                let _ = conn.execute_batch("ROLLBACK");
                let _ = reply.send(Err(e.clone().into()));
                for (reply, _) in done {
                    let _ = reply.send(Err(e.clone().into()));
                }
                return;
            }
        }
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            for (reply, outcome) in done {
                // The requester may have gone away (client disconnected):
                // the transaction's outcome stands either way.
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            let e = db_err(e);
            for (reply, outcome) in done {
                // Nothing was committed: successes become failures.
                let _ = reply.send(outcome.and(Err(e.clone().into())));
            }
        }
    }
}

/// Runs one job in a savepoint of the group's transaction; the outer
/// error means the savepoint itself failed.
fn run_in_savepoint(conn: &Connection, job: TxJob) -> Result<Result<Erased, ApiError>, StoreError> {
    conn.execute_batch("SAVEPOINT job").map_err(db_err)?;
    let mut tx = SqliteTx { conn };
    let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)))
        .unwrap_or_else(|_| Err(ApiError::internal("a storage job panicked")));
    if outcome.is_err() {
        conn.execute_batch("ROLLBACK TO SAVEPOINT job")
            .map_err(db_err)?;
    }
    conn.execute_batch("RELEASE SAVEPOINT job")
        .map_err(db_err)?;
    Ok(outcome)
}

impl Backend for SqliteBackend {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn run(&self, job: TxJob) -> BoxFuture<'_, Result<Erased, ApiError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            self.jobs.send((job, tx)).map_err(|_| {
                ApiError::from(StoreError::Unavailable(
                    "the database thread stopped".into(),
                ))
            })?;
            rx.await.map_err(|_| {
                ApiError::from(StoreError::Unavailable(
                    "the database thread stopped".into(),
                ))
            })?
        })
    }
}

struct SqliteTx<'c> {
    conn: &'c Connection,
}

/// `$1` → `?1`: SQLite reads `$1` as a named parameter, whose index is the
/// order of first appearance, which is not what the shared SQL means.
fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn to_sql(v: &Val) -> ToSqlOutput<'_> {
    match v {
        Val::Null => ToSqlOutput::Owned(SqlValue::Null),
        Val::Int(i) => ToSqlOutput::Owned(SqlValue::Integer(*i)),
        Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Val::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
    }
}

impl Tx for SqliteTx<'_> {
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(db_err)?;
        let cols = stmt.column_count();
        let params: Vec<ToSqlOutput<'_>> = params.iter().map(to_sql).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(db_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_err)? {
            let mut vals = Vec::with_capacity(cols);
            for i in 0..cols {
                vals.push(match row.get_ref(i).map_err(db_err)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                    ValueRef::Real(_) => {
                        return Err(StoreError::Decode("unexpected floating-point column"))
                    }
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(&translate(sql)).map_err(db_err)?;
        let params: Vec<ToSqlOutput<'_>> = params.iter().map(to_sql).collect();
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(db_err)?;
        Ok(n as u64)
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql).map_err(db_err)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    // rusqlite's messages name the constraint ("UNIQUE constraint failed:
    // tokens.pan"), never the values.
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
        {
            StoreError::Unique(msg.clone().unwrap_or_default())
        }
        _ => StoreError::Db(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn placeholders() {
        assert_eq!(
            translate("SELECT $1, $12 FROM t WHERE a = $2"),
            "SELECT ?1, ?12 FROM t WHERE a = ?2"
        );
        assert_eq!(translate("SELECT '$' || x"), "SELECT '$' || x");
    }

    /// Jobs committed in one group stay independent: a failing or
    /// panicking job is rolled back alone, the others are committed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_commit_isolates_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(SqliteBackend::open(dir.path()).unwrap());
        store
            .tx(|tx| Ok(tx.batch("CREATE TABLE t (id BIGINT PRIMARY KEY)")?))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.tx(move |tx| {
                    tx.execute("INSERT INTO t (id) VALUES ($1)", &[Val::Int(i)])?;
                    match i % 3 {
                        0 => Ok(i),
                        1 => Err(ApiError::unprocessable("no", "refused after a write")),
                        _ if i % 5 == 0 => panic!("a job panics"),
                        _ => Ok(i),
                    }
                })
                .await
            }));
        }
        let mut ok = std::collections::BTreeSet::new();
        for t in tasks {
            if let Ok(i) = t.await.unwrap() {
                ok.insert(i);
            }
        }
        let stored: std::collections::BTreeSet<i64> = store
            .tx(|tx| {
                Ok(tx
                    .query("SELECT id FROM t", &[])?
                    .iter()
                    .map(|r| r.int(0).unwrap())
                    .collect())
            })
            .await
            .unwrap();
        assert_eq!(stored, ok);
        assert!(ok.iter().all(|i| i % 3 == 0 || (i % 3 == 2 && i % 5 != 0)));
        assert_eq!(
            ok.len(),
            (0..200)
                .filter(|i| i % 3 == 0 || (i % 3 == 2 && i % 5 != 0))
                .count()
        );
    }
}
