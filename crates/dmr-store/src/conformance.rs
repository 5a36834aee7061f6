//! The store conformance suite: one set of checks, generic over `Backend`, that every
//! backend runs (`store_conformance_suite!` in each backend's tests). A behaviour the
//! registry relies on belongs here, not in one backend's own tests.

use dmr_model::{IndexDef, IndexKey, IndexOrder};
use serde_json::json;

use crate::{Backend, CollectionSpec, StoreError, TenantId};

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("valid test tenant id")
}

fn index(name: &str, keys: &[(&str, IndexOrder)], unique: bool) -> IndexDef {
    IndexDef {
        name: name.to_owned(),
        keys: keys
            .iter()
            .map(|(path, order)| IndexKey {
                path: (*path).to_owned(),
                order: *order,
            })
            .collect(),
        unique,
        sparse: false,
        expire_after_seconds: None,
    }
}

fn users_spec() -> CollectionSpec {
    CollectionSpec {
        name: "users".to_owned(),
        scalar_paths: vec!["email".to_owned(), "isActive".to_owned()],
        text_paths: Vec::new(),
        schema: Default::default(),
        indexes: vec![
            index("email_1", &[("email", IndexOrder::Asc)], true),
            index(
                "email_1_isActive_1",
                &[("email", IndexOrder::Asc), ("isActive", IndexOrder::Asc)],
                false,
            ),
            index("createdAt_-1", &[("createdAt", IndexOrder::Desc)], false),
            index(
                "price.amount_1",
                &[("price.amount", IndexOrder::Asc)],
                false,
            ),
        ],
    }
}

pub use crate::conformance_api_keys::*;
pub use crate::conformance_documents::*;

pub async fn ping_answers(backend: &dyn Backend) {
    backend.ping().await.expect("ping");
}

pub async fn provisioning_is_idempotent(backend: &dyn Backend) {
    let acme = tenant("acme");
    let first = backend.provision_tenant(&acme).await.unwrap();
    assert!(first.created_now);
    assert_eq!(first.id, "acme");
    assert_eq!(first.database_name, "tenant_acme");
    assert_eq!(first.status, "active");
    let second = backend.provision_tenant(&acme).await.unwrap();
    assert!(!second.created_now, "a second provision finds the first");
    assert_eq!(second.created_at, first.created_at);
}

pub async fn ensure_collection_is_idempotent_and_reports_indexes(backend: &dyn Backend) {
    let store = backend.open_tenant(&tenant("acme")).await.unwrap();
    assert_eq!(store.database_name(), "tenant_acme");
    let spec = users_spec();
    let first = store.ensure_collection(&spec).await.unwrap();
    assert_eq!(
        first.indexes,
        [
            "email_1",
            "email_1_isActive_1",
            "createdAt_-1",
            "price.amount_1"
        ]
    );
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    let again = store.ensure_collection(&spec).await.unwrap();
    assert_eq!(again, first, "ensuring twice changes nothing");
    store.close().await;
}

/// An index the engine refuses (here: unique over values that already repeat, as when a
/// schema rollout adds `unique` to dirty data) fails alone; the others are ensured.
pub async fn an_unusable_index_fails_alone(backend: &dyn Backend) {
    let store = backend.open_tenant(&tenant("acme")).await.unwrap();
    store.ensure_collection(&users_spec()).await.unwrap();
    for i in 0..2 {
        let doc =
            json!({"_id": format!("{i:024x}"), "email": format!("{i}@x.io"), "nickname": "sam"});
        store.insert(&users_spec(), &doc).await.unwrap();
    }
    let mut spec = users_spec();
    spec.indexes.insert(
        0,
        index("nickname_1", &[("nickname", IndexOrder::Asc)], true),
    );
    let ensured = store.ensure_collection(&spec).await.unwrap();
    assert_eq!(ensured.failed.len(), 1, "{ensured:?}");
    assert_eq!(ensured.failed[0].index, "nickname_1");
    assert_eq!(
        ensured.indexes.len(),
        4,
        "the other indexes are still ensured"
    );
    store.close().await;
}

pub async fn empty_collection_counts_zero_and_finds_nothing(backend: &dyn Backend) {
    let store = backend.open_tenant(&tenant("empty")).await.unwrap();
    store.ensure_collection(&users_spec()).await.unwrap();
    let all = dmr_query::Filter::All;
    let query = crate::FindQuery {
        filter: &all,
        sort: &dmr_query::Sort::default(),
        skip: 0,
        limit: 10,
    };
    assert_eq!(store.count(&users_spec(), &all).await.unwrap(), 0);
    assert_eq!(
        store.find(&users_spec(), &query).await.unwrap(),
        Vec::<serde_json::Value>::new()
    );
    store.close().await;
}

pub async fn tenants_are_isolated(backend: &dyn Backend) {
    let a = backend.open_tenant(&tenant("a")).await.unwrap();
    let b = backend.open_tenant(&tenant("b")).await.unwrap();
    a.ensure_collection(&users_spec()).await.unwrap();
    a.insert(
        &users_spec(),
        &json!({"_id": format!("{:024x}", 1), "email": "a@a.io"}),
    )
    .await
    .unwrap();
    assert_ne!(a.database_name(), b.database_name());
    let all = dmr_query::Filter::All;
    assert_eq!(a.count(&users_spec(), &all).await, Ok(1));
    // `b` never ensured `users`: it sees no collection (an error) or an empty one, never
    // `a`'s document.
    let seen = b.count(&users_spec(), &all).await.unwrap_or(0);
    assert_eq!(seen, 0, "tenant b sees tenant a's documents");
    a.close().await;
    b.close().await;
}

pub async fn a_closed_store_refuses_work(backend: &dyn Backend) {
    let store = backend.open_tenant(&tenant("acme")).await.unwrap();
    store.ensure_collection(&users_spec()).await.unwrap();
    assert!(store.is_open());
    store.close().await;
    assert!(!store.is_open());
    assert_eq!(
        store.count(&users_spec(), &dmr_query::Filter::All).await,
        Err(StoreError::Closed)
    );
    assert_eq!(store.pool_stats().in_use, 0);
}

pub async fn schema_versions_are_recorded_once(backend: &dyn Backend) {
    let definition = json!({"model": "User", "schema": {"email": "String"}});
    assert!(
        backend
            .record_schema_version("User", "0011223344556677", &definition)
            .await
            .unwrap()
    );
    assert!(
        !backend
            .record_schema_version("User", "0011223344556677", &definition)
            .await
            .unwrap()
    );
    assert!(
        backend
            .record_schema_version("User", "8899aabbccddeeff", &definition)
            .await
            .unwrap()
    );
}

pub async fn schema_versions_are_numbered_per_model_in_order(backend: &dyn Backend) {
    let user_v1 = json!({"model": "User", "schema": {"email": "String"}});
    let user_v2 = json!({"model": "User", "schema": {"email": "String", "$generate": {"a.b": 1}}});
    let product = json!({"model": "Product", "schema": {"name": "String"}});
    assert!(backend.schema_versions("User").await.unwrap().is_empty());
    for (model, fingerprint, definition) in [
        ("User", "00000000000000a1", &user_v1),
        ("Product", "00000000000000b1", &product),
        ("User", "00000000000000a1", &user_v1),
        ("User", "00000000000000a2", &user_v2),
    ] {
        backend
            .record_schema_version(model, fingerprint, definition)
            .await
            .unwrap();
    }
    let users = backend.schema_versions("User").await.unwrap();
    let numbered: Vec<(u32, &str)> = users
        .iter()
        .map(|v| (v.version, v.fingerprint.as_str()))
        .collect();
    assert_eq!(numbered, [(1, "00000000000000a1"), (2, "00000000000000a2")]);
    assert_eq!(users[0].definition, user_v1);
    assert_eq!(
        users[1].definition, user_v2,
        "keys with $ and dots round-trip"
    );
    assert!(users.iter().all(|v| v.model == "User"));
    assert!(
        dmr_model::date::parse_iso(&users[0].accepted_at).is_some(),
        "acceptedAt is ISO 8601: {}",
        users[0].accepted_at
    );
    let products = backend.schema_versions("Product").await.unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].version, 1);
    assert_eq!(
        backend.schema_models().await.unwrap(),
        ["Product".to_owned(), "User".to_owned()]
    );
}

/// Expands to one `#[tokio::test]` per check. `$make` is an async expression returning
/// `(backend, guard)`; the guard (a temporary directory, a server) lives for the test.
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        $crate::store_conformance_suite!(@tests $make;
            ping_answers,
            provisioning_is_idempotent,
            ensure_collection_is_idempotent_and_reports_indexes,
            an_unusable_index_fails_alone,
            empty_collection_counts_zero_and_finds_nothing,
            tenants_are_isolated,
            a_closed_store_refuses_work,
            schema_versions_are_recorded_once,
            schema_versions_are_numbered_per_model_in_order,
            documents_round_trip_with_revisions,
            duplicates_name_their_index,
            every_operator_answers_as_the_filter_matches,
            text_search_uses_the_text_index,
            sort_orders_across_types_and_paginates,
            concurrent_read_modify_writes_lose_nothing,
            api_keys_are_found_by_hash_and_listed_per_tenant,
            api_keys_are_deleted_only_by_their_tenant,
        );
    };
    (@tests $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (backend, _guard) = $make.await;
                $crate::conformance::$check(&backend).await;
            }
        )+
    };
}
