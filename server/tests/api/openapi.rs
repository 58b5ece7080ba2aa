//! `server/openapi.yaml` and the server's router describe the same routes,
//! both ways; and every documented route answers on a live server (never
//! with the router's 404 or 405).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use yaml_rust2::{Yaml, YamlLoader};

use crate::common::TestServer;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn documented() -> BTreeSet<(String, String)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("openapi.yaml is valid YAML");
    let doc = &docs[0];
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_hash().expect("a paths map");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for (method, op) in item.as_hash().unwrap() {
            let method = method.as_str().unwrap();
            if !METHODS.contains(&method) {
                continue; // parameters, summary, ...
            }
            assert!(
                !matches!(op["responses"], Yaml::BadValue),
                "{method} {path} documents no responses"
            );
            assert!(
                op["operationId"].as_str().is_some(),
                "{method} {path} has no operationId"
            );
            out.insert((method.to_uppercase(), path.to_string()));
        }
    }
    out
}

#[test]
fn openapi_matches_the_router_both_ways() {
    let routed: BTreeSet<(String, String)> = billfold_server::routes::list()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_string(), p.to_string()))
        .collect();
    let documented = documented();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "openapi.yaml documents routes the server lacks: {unrouted:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_route_is_served() {
    let storage = crate::common::TestStorage::sqlite();
    let ts = TestServer::start(&storage).await;
    for (method, path) in documented() {
        let concrete = path
            .replace("{card_id}", "card_x")
            .replace("{token_id}", "tok_x");
        let resp = ts
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", ts.base, concrete),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let code = body["error"]["code"].as_str().unwrap_or("");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_ne!(code, "not_found", "{method} {path} is not routed");
    }
    ts.server.stop().await;
}
