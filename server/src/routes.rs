//! The API's routes, in one table. The router is built from this table
//! only, and a test checks the table against `openapi.yaml` both ways, so
//! the document cannot drift from the server.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use billfold_protocol::Health;

use crate::app::AppState;
use crate::auth::MAX_BODY;
use crate::error::ApiError;
use crate::{cards, enroll, payments, sync, tap};

/// Every route: method, path (OpenAPI syntax), handler.
pub fn table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/v1/health", get(health)),
        (Method::POST, "/v1/enroll", post(enroll::enroll)),
        (
            Method::POST,
            "/v1/devices/link-codes",
            post(enroll::link_code),
        ),
        (Method::GET, "/v1/account", get(enroll::account)),
        (Method::GET, "/v1/cards", get(cards::list_cards)),
        (Method::POST, "/v1/cards", post(cards::add_card)),
        (
            Method::POST,
            "/v1/cards/{card_id}/status",
            post(cards::card_status),
        ),
        (
            Method::POST,
            "/v1/tokens/{token_id}/keys",
            post(cards::token_keys),
        ),
        (Method::POST, "/v1/payments/qr", post(payments::pay_qr)),
        (
            Method::POST,
            "/v1/authorizations",
            post(tap::authorize_terminal),
        ),
        (Method::POST, "/v1/sync", post(sync::sync)),
    ]
}

/// (method, path) of every route.
pub fn list() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in table() {
        // Two methods on one path merge into one method router.
        router = router.route(path, handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// `GET /v1/health`: unauthenticated liveness and storage check.
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state
        .store
        .tx(|tx| Ok(tx.query_one("SELECT 1", &[])?))
        .await?;
    Ok(Json(Health {
        status: "ok".into(),
        backend: state.store.backend_name().into(),
        version: env!("CARGO_PKG_VERSION").into(),
        server_time_ms: state.now_ms(),
    }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route; see openapi.yaml")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}
