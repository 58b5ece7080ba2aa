//! Upgrades: a database left at any earlier schema version is brought up to
//! date when the server opens it, on both engines, and the server then
//! works, including the tables the upgrade added.

use billfold_protocol::{OpOutcome, OpStatus, SyncResponse, TapOutcome};
use billfold_server::store::migrations::{migrate_to, LATEST};
use billfold_server::store::{postgres::PgBackend, sqlite::SqliteBackend, Store};
use billfold_server::Storage;

use crate::common::{for_each_backend, Phone, TestServer};

/// The store without the server's own migration, left at `version`.
async fn store_at(storage: &Storage, version: i64) {
    let store = match storage {
        Storage::Sqlite { data_dir } => Store::new(SqliteBackend::open(data_dir).unwrap()),
        Storage::Postgres { url } => Store::new(PgBackend::connect(url).await.unwrap()),
    };
    let reached = store
        .tx(move |tx| Ok(migrate_to(tx, version)?))
        .await
        .unwrap();
    assert_eq!(reached, version);
    let versions = store
        .tx(|tx| {
            Ok(tx
                .query_one("SELECT COUNT(*) FROM schema_migrations", &[])?
                .int(0)?)
        })
        .await
        .unwrap();
    assert_eq!(versions, version, "one row per applied migration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_earlier_schema_upgrades_to_the_latest() {
    for from in 0..LATEST {
        for_each_backend(|storage| async move {
            store_at(&storage.storage, from).await;
            let ts = TestServer::start(&storage).await;
            let phone = ts.device().await;
            let card = phone.add_card(None).await;
            let (_, _, c) = Phone::new(&card).tap(100, "UPGRADED SHOP");
            let s: SyncResponse = phone
                .post(
                    "/v1/sync",
                    &serde_json::json!({"cursor": 0, "ops": [{"idempotency_key": "tap-1",
                        "op": {"type": "tap", "token_id": card.token.token_id, "cryptogram": c}}]}),
                )
                .await
                .parse();
            assert_eq!(s.results[0].status, OpStatus::Applied, "{:?}", s.results[0]);
            assert!(
                matches!(
                    s.results[0].outcome,
                    Some(OpOutcome::Tap(TapOutcome::AwaitingTerminal(_)))
                ),
                "from version {from} on {}: {:?}",
                storage.name,
                s.results[0]
            );
            ts.server.stop().await;
            store_at(&storage.storage, LATEST).await;
        })
        .await;
    }
}
