//! The PostgreSQL backend: tokio-postgres connections from a deadpool pool.
//!
//! The bank's logic is synchronous code over [`Tx`] (shared with SQLite),
//! so a transaction runs on tokio's blocking pool and drives each query's
//! future with `Handle::block_on`; the connection's I/O stays on the async
//! runtime. Isolation is PostgreSQL's default, READ COMMITTED, with the
//! per-account row lock described in [`crate::store`] for ordering.
//!
//! No TLS: the server talks to a database on loopback or a unix socket.

use std::error::Error as StdError;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio::runtime::Handle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::NoTls;

use super::{Backend, BoxFuture, Dialect, Erased, Row, StoreError, Tx, TxJob, Val};
use crate::error::ApiError;

pub struct PgBackend {
    pool: Pool,
}

impl PgBackend {
    /// Connects to `url` (`postgres://user@host:port/db`, with optional
    /// `options=-c search_path=...`) and checks that it answers.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            StoreError::Unavailable("the database URL is not a valid postgres:// URL".into())
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        // Fail at start-up, not on the first request.
        let client = pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        client.simple_query("SELECT 1").await.map_err(pg_err)?;
        Ok(PgBackend { pool })
    }
}

impl Backend for PgBackend {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn run(&self, job: TxJob) -> BoxFuture<'_, Result<Erased, ApiError>> {
        Box::pin(async move {
            let client = self
                .pool
                .get()
                .await
                .map_err(|e| ApiError::from(StoreError::Unavailable(e.to_string())))?;
            let handle = Handle::current();
            tokio::task::spawn_blocking(move || run_job(client, &handle, job))
                .await
                .map_err(|_| ApiError::internal("a storage task failed"))?
        })
    }
}

fn run_job(client: Object, handle: &Handle, job: TxJob) -> Result<Erased, ApiError> {
    handle
        .block_on(client.batch_execute("BEGIN"))
        .map_err(pg_err)?;
    let mut tx = PgTx {
        client: &client,
        handle,
        pending: Vec::new(),
    };
    let mut outcome = catch_unwind(AssertUnwindSafe(|| job(&mut tx)))
        .unwrap_or_else(|_| Err(ApiError::internal("a storage job panicked")));
    // Deferred writes must all have succeeded before a commit.
    let flushed = tx.flush();
    drop(tx);
    if let (Ok(_), Err(e)) = (&outcome, flushed) {
        outcome = Err(e.into());
    }
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    if let Err(e) = handle.block_on(client.batch_execute(end)) {
        // The connection's state is unknown: never hand it out again.
        let _ = Object::take(client);
        return Err(pg_err(e).into());
    }
    outcome
}

type Pending<'a> = Pin<Box<dyn Future<Output = Result<u64, tokio_postgres::Error>> + 'a>>;

struct PgTx<'a> {
    client: &'a Object,
    handle: &'a Handle,
    /// Deferred writes, sent but not yet answered.
    pending: Vec<Pending<'a>>,
}

impl PgTx<'_> {
    /// Waits for every deferred write; the first error wins.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        self.handle
            .block_on(async move {
                let mut first_error = None;
                for f in pending {
                    if let Err(e) = f.await {
                        first_error.get_or_insert(e);
                    }
                }
                first_error.map_or(Ok(()), Err)
            })
            .map_err(pg_err)
    }
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(s) => s.as_str().to_sql(ty, out),
            Val::Bytes(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn decode_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut vals = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let bad = |_| StoreError::Decode("column does not match its type");
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Val::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                .try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map(Val::Text),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map(Val::Bytes),
            _ => return Err(StoreError::Decode("unsupported column type")),
        };
        vals.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(vals))
}

impl<'a> Tx for PgTx<'a> {
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, StoreError> {
        self.flush()?;
        let client = self.client;
        let rows = self.handle.block_on(async {
            let stmt = client.prepare_cached(sql).await?;
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            client.query(&stmt, &refs).await
        });
        rows.map_err(pg_err)?.iter().map(decode_row).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, StoreError> {
        self.flush()?;
        let client = self.client;
        self.handle
            .block_on(async {
                let stmt = client.prepare_cached(sql).await?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                client.execute(&stmt, &refs).await
            })
            .map_err(pg_err)
    }

    fn execute_deferred(&mut self, sql: &str, params: &[Val]) -> Result<(), StoreError> {
        let client: &'a Object = self.client;
        // Prepared now (a cache hit after the first time), so the write
        // below is a single message that keeps its place in the pipeline.
        let stmt = self
            .handle
            .block_on(client.prepare_cached(sql))
            .map_err(pg_err)?;
        let params = params.to_vec();
        let mut write: Pending<'a> = Box::pin(async move {
            let refs: Vec<&(dyn ToSql + Sync)> =
                params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            client.execute(&stmt, &refs).await
        });
        // One poll queues the request on the connection, in order; the
        // answer is collected at the next flush.
        let first = self.handle.block_on(std::future::poll_fn(|cx| {
            Poll::Ready(write.as_mut().poll(cx))
        }));
        match first {
            Poll::Ready(r) => r.map(|_| ()).map_err(pg_err),
            Poll::Pending => {
                self.pending.push(write);
                Ok(())
            }
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.flush()?;
        self.handle
            .block_on(self.client.batch_execute(sql))
            .map_err(pg_err)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

/// Keeps the SQLSTATE, the server's message and the constraint name; the
/// DETAIL line, which can quote row values, is dropped.
fn pg_err(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => {
            StoreError::Unique(db.constraint().unwrap_or("unknown constraint").to_string())
        }
        Some(db) => StoreError::Db(format!("SQLSTATE {}: {}", db.code().code(), db.message())),
        None => StoreError::Unavailable(e.to_string()),
    }
}
