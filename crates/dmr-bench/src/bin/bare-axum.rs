//! The ceiling for the HTTP harness: axum with no middleware answering the same path
//! shape with a JSON body the size of the registry's L1-hit answer, built per request
//! the same way (a serialisable struct). Listens on 127.0.0.1:$PORT.

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    tenant_id: String,
    model_name: String,
    exists: bool,
    collection_name: &'static str,
    database_name: String,
    fingerprint: &'static str,
    indexes: [&'static str; 6],
}

async fn model(Path((tenant, model)): Path<(String, String)>) -> Json<Answer> {
    Json(Answer {
        database_name: format!("tenant_{tenant}"),
        tenant_id: tenant,
        model_name: model,
        exists: true,
        collection_name: "users",
        fingerprint: "31297df0df4263aa",
        indexes: [
            "email_1",
            "username_1",
            "role_1",
            "isActive_1",
            "email_1_isActive_1",
            "createdAt_-1",
        ],
    })
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3999);
    let app = Router::new().route("/api/models/{tenant}/{model}", get(model));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
