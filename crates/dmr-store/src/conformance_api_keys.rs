//! Conformance checks for tenant API key records in the control plane: what the access
//! layer relies on to accept a key on any instance and to stop accepting it once revoked.

use crate::{ApiKeyRecord, Backend, TenantId};

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("valid test tenant id")
}

fn record(id: &str, tenant_id: &str, hash_byte: char, label: Option<&str>) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        hash: hash_byte.to_string().repeat(64),
        label: label.map(str::to_owned),
        created_at: format!("2026-01-01T00:00:00.00{}Z", id.len() % 10),
    }
}

fn sorted(mut records: Vec<ApiKeyRecord>) -> Vec<ApiKeyRecord> {
    records.sort_by(|a, b| a.id.cmp(&b.id));
    records
}

pub async fn api_keys_are_found_by_hash_and_listed_per_tenant(backend: &dyn Backend) {
    let first = record("k1", "acme", 'a', Some("ci deploy"));
    let second = record("k2", "acme", 'b', None);
    let other = record("k3", "globex", 'c', Some("globex"));
    for r in [&first, &second, &other] {
        backend.insert_api_key(r).await.unwrap();
    }

    assert_eq!(
        backend.find_api_key(&first.hash).await.unwrap(),
        Some(first.clone()),
        "every field round-trips, the label included"
    );
    assert_eq!(
        backend.find_api_key(&second.hash).await.unwrap(),
        Some(second.clone()),
        "a key without a label round-trips"
    );
    assert_eq!(
        backend.find_api_key(&"d".repeat(64)).await.unwrap(),
        None,
        "an unknown hash finds nothing"
    );

    assert_eq!(
        sorted(backend.list_api_keys(&tenant("acme")).await.unwrap()),
        [first, second],
        "a tenant lists its own keys only"
    );
    assert_eq!(
        backend.list_api_keys(&tenant("globex")).await.unwrap(),
        [other]
    );
    assert!(
        backend
            .list_api_keys(&tenant("initech"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn api_keys_are_deleted_only_by_their_tenant(backend: &dyn Backend) {
    let key = record("k1", "acme", 'a', None);
    // Another tenant's key with the same public id: ids are unique per tenant only.
    let same_id = record("k1", "globex", 'b', None);
    backend.insert_api_key(&key).await.unwrap();
    backend.insert_api_key(&same_id).await.unwrap();

    assert!(
        !backend
            .delete_api_key(&tenant("initech"), "k1")
            .await
            .unwrap(),
        "a tenant without that key deletes nothing"
    );
    assert!(
        !backend.delete_api_key(&tenant("acme"), "k9").await.unwrap(),
        "an unknown id deletes nothing"
    );
    assert_eq!(
        backend.find_api_key(&key.hash).await.unwrap(),
        Some(key.clone())
    );

    assert!(backend.delete_api_key(&tenant("acme"), "k1").await.unwrap());
    assert_eq!(
        backend.find_api_key(&key.hash).await.unwrap(),
        None,
        "a deleted key is no longer found"
    );
    assert!(
        backend
            .list_api_keys(&tenant("acme"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !backend.delete_api_key(&tenant("acme"), "k1").await.unwrap(),
        "deleting twice reports the second as absent"
    );
    assert_eq!(
        backend.find_api_key(&same_id.hash).await.unwrap(),
        Some(same_id),
        "the other tenant's key with the same id is untouched"
    );
}
