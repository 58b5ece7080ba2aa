//! The running server: shared state, start-up (storage, issuer key,
//! listener) and shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use emv::crypto::{IssuerMasterKey, Profile};
use emv::issuer::Issuer;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::Principal;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::ApiError;
use crate::params;
use crate::store::{Store, StoreError};

pub struct Inner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub issuer: Issuer,
    pub cfg: Config,
    pub rng: SystemRandom,
    /// Enrolled keys never change, so they are cached after first use.
    pub(crate) principals: RwLock<HashMap<String, Principal>>,
}

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("issuer key: {0}")]
    Issuer(String),
}

/// A server running in this process.
pub struct Server {
    addr: SocketAddr,
    backend: &'static str,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    pruner: JoinHandle<()>,
    state: AppState,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The shared state, for tests that look behind the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.pruner.abort();
        let _ = (&mut self.task).await;
    }

    /// Serves until `signal` completes, then stops gracefully.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        tokio::select! {
            r = &mut self.task => return r.unwrap_or(Ok(())),
            _ = signal => {}
        }
        self.stop().await;
        Ok(())
    }
}

/// Opens storage, loads the issuer key and starts serving on `cfg.listen`.
pub async fn start(cfg: Config, clock: Arc<dyn Clock>) -> Result<Server, StartError> {
    let store = Store::open(&cfg.storage).await?;
    let rng = SystemRandom::new();
    let issuer = load_issuer(&store, &cfg, &rng, clock.now_ms()).await?;
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: cfg.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: cfg.listen,
        source,
    })?;
    let backend = store.backend_name();
    let state = AppState(Arc::new(Inner {
        store,
        clock,
        issuer,
        cfg,
        rng,
        principals: RwLock::new(HashMap::new()),
    }));
    let router = crate::routes::router(state.clone());
    let (shutdown, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    let pruner = tokio::spawn(prune_nonces(state.clone()));
    Ok(Server {
        addr,
        backend,
        shutdown: Some(shutdown),
        task,
        pruner,
        state,
    })
}

/// Forgets nonces whose requests are too old to be accepted anyway.
async fn prune_nonces(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = state.now_ms();
        let result = state
            .store
            .tx(move |tx| Ok(tx.execute("DELETE FROM nonces WHERE expires_at < $1", params![now])?))
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not prune nonces");
        }
    }
}

fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Aes => "aes",
        Profile::Tdes => "tdes",
    }
}

/// The configured master key, or the one this bank generated on its first
/// start (kept in its database: a real issuer keeps it in an HSM).
async fn load_issuer(
    store: &Store,
    cfg: &Config,
    rng: &SystemRandom,
    now: i64,
) -> Result<Issuer, StartError> {
    let (profile, dki) = (cfg.profile, cfg.dki);
    let bytes: [u8; 16] = match cfg.issuer_master_key {
        Some(k) => k,
        None => {
            let mut fresh = [0u8; 16];
            rng.fill(&mut fresh)
                .map_err(|_| StartError::Issuer("the system RNG failed".into()))?;
            let name = profile_name(profile);
            let stored = store
                .tx(move |tx| -> Result<Vec<u8>, ApiError> {
                    // Two servers starting together agree on the first insert.
                    tx.execute(
                        "INSERT INTO issuer_keys (profile, dki, key_bytes, created_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (profile, dki) DO NOTHING",
                        params![name, i64::from(dki), &fresh[..], now],
                    )?;
                    let row = tx.query_one(
                        "SELECT key_bytes FROM issuer_keys WHERE profile = $1 AND dki = $2",
                        params![name, i64::from(dki)],
                    )?;
                    Ok(row.bytes(0)?)
                })
                .await
                .map_err(|e| StartError::Issuer(e.to_string()))?;
            stored
                .try_into()
                .map_err(|_| StartError::Issuer("the stored key is not 16 bytes".into()))?
        }
    };
    let imk = IssuerMasterKey::new(profile, bytes);
    let kcv = hex::encode_upper(imk.check_value());
    tracing::info!(profile = profile_name(profile), dki, kcv = %kcv, "issuer master key loaded");
    Ok(Issuer::new().with_key(dki, imk))
}
