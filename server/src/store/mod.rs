//! Storage behind one small trait, so the bank's logic is written once and
//! runs unchanged on SQLite (the default, no setup) and PostgreSQL.
//!
//! The seam is deliberately low: a transaction ([`Tx`]) that runs
//! parameterised SQL and returns rows of four value types ([`Val`]). The
//! SQL is written once in the subset both engines share (`$1` parameters,
//! `BIGINT`/`TEXT`/binary columns, `ON CONFLICT`, `RETURNING`), and every
//! unit of work is one closure run inside one transaction by the backend
//! ([`Store::tx`]). The closures are synchronous: SQLite runs them on its
//! own thread, PostgreSQL on tokio's blocking pool, so no request handler
//! ever blocks the async workers.
//!
//! Concurrency rule, relied on by the sync feed: every transaction that
//! adds to an account's feed first updates that account's row
//! ([`crate::repo::lock_account`]), which serialises writers per account on
//! PostgreSQL (row lock) and globally on SQLite (one writer). Feed sequence
//! numbers are therefore committed in order, and a cursor never skips one.

pub mod migrations;
pub mod postgres;
pub mod sqlite;

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::ApiError;

/// A column or parameter value. Booleans are stored as 0/1 integers and
/// instants as Unix milliseconds, so both engines agree on every type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<u16> for Val {
    fn from(v: u16) -> Self {
        Val::Int(v.into())
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Self {
        Val::Int(v.into())
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(v.into())
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(v.clone())
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Self {
        Val::Bytes(v)
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Self {
        Val::Bytes(v.to_vec())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// Builds a parameter list: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::store::Val::from($v)),*][..] };
}

/// One result row.
#[derive(Debug, Clone, Default)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn get(&self, i: usize) -> Result<&Val, StoreError> {
        self.0
            .get(i)
            .ok_or(StoreError::Decode("column index out of range"))
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.get(i)? {
            Val::Int(v) => Ok(*v),
            _ => Err(StoreError::Decode("expected an integer")),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            Val::Int(v) => Ok(Some(*v)),
            _ => Err(StoreError::Decode("expected an integer or null")),
        }
    }

    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.get(i)? {
            Val::Text(v) => Ok(v.clone()),
            _ => Err(StoreError::Decode("expected text")),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            Val::Text(v) => Ok(Some(v.clone())),
            _ => Err(StoreError::Decode("expected text or null")),
        }
    }

    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.get(i)? {
            Val::Bytes(v) => Ok(v.clone()),
            _ => Err(StoreError::Decode("expected bytes")),
        }
    }
}

/// Why storage failed. Messages name constraints and codes, never values,
/// so nothing secret reaches a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(String),
    #[error("uniqueness constraint violated: {0}")]
    Unique(String),
    #[error("unexpected value from the database: {0}")]
    Decode(&'static str),
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    #[error("database schema version {found} is newer than this server ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
}

/// A transaction in progress. SQL uses `$1`-style parameters.
pub trait Tx {
    /// Runs a statement and returns its rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement and returns how many rows it changed.
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError>;
    /// Runs a statement whose result is not needed now. A backend may send
    /// it without waiting (PostgreSQL pipelines such writes), so its error,
    /// if any, surfaces at the next call or at commit. Statements keep their
    /// order.
    fn execute_deferred(&mut self, sql: &str, params: &[Val]) -> Result<(), StoreError> {
        self.execute(sql, params).map(|_| ())
    }
    /// Runs several `;`-separated statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Which engine this is, for the few places the SQL must differ.
    fn dialect(&self) -> Dialect;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row.
    fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?
            .ok_or(StoreError::Decode("expected a row, got none"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The result of a unit of work, type-erased to cross the backend trait.
pub type Erased = Box<dyn Any + Send>;
/// A unit of work: runs inside one transaction, which commits when it
/// returns `Ok` and rolls back when it returns `Err`.
pub type TxJob = Box<dyn FnOnce(&mut dyn Tx) -> Result<Erased, ApiError> + Send>;
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A storage engine.
pub trait Backend: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn name(&self) -> &'static str;
    /// Runs `job` in a transaction, off the async workers.
    fn run(&self, job: TxJob) -> BoxFuture<'_, Result<Erased, ApiError>>;
}

/// The server's handle on its database.
#[derive(Clone)]
pub struct Store(Arc<dyn Backend>);

impl Store {
    pub fn new(backend: impl Backend) -> Self {
        Store(Arc::new(backend))
    }

    pub fn backend_name(&self) -> &'static str {
        self.0.name()
    }

    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled
    /// back if it returns `Err`.
    pub async fn tx<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    {
        let out = self
            .0
            .run(Box::new(move |tx| f(tx).map(|t| Box::new(t) as Erased)))
            .await?;
        out.downcast::<T>()
            .map(|b| *b)
            .map_err(|_| ApiError::internal("storage returned an unexpected type"))
    }

    /// Opens the store a configuration names and brings its schema up to date.
    pub async fn open(storage: &crate::config::Storage) -> Result<Store, StoreError> {
        let store = match storage {
            crate::config::Storage::Sqlite { data_dir } => {
                Store::new(sqlite::SqliteBackend::open(data_dir)?)
            }
            crate::config::Storage::Postgres { url } => {
                Store::new(postgres::PgBackend::connect(url).await?)
            }
        };
        store
            .tx(|tx| migrations::migrate(tx).map_err(ApiError::from))
            .await
            .map_err(|e| StoreError::Db(e.detail.unwrap_or(e.message)))?;
        Ok(store)
    }
}
