//! Conformance checks for documents: writes, revisions, every query operator (the store's
//! answer must equal `Filter::matches` over the same data, whatever the store pushes down
//! to its engine), sort order across types, pagination, unique violations, concurrency.

use std::sync::Arc;

use dmr_model::{IndexDef, IndexKey, IndexOrder};
use dmr_query::{Filter, Limits, Sort};
use serde_json::{Value, json};

use crate::{Backend, CollectionSpec, FindQuery, StoreError, TenantId, TenantStore, WriteOutcome};

fn key(path: &str, order: IndexOrder) -> IndexKey {
    IndexKey {
        path: path.to_owned(),
        order,
    }
}

fn spec() -> CollectionSpec {
    let index = |name: &str, keys: Vec<IndexKey>, unique: bool| IndexDef {
        name: name.to_owned(),
        keys,
        unique,
        sparse: unique,
        expire_after_seconds: None,
    };
    CollectionSpec {
        name: "items".to_owned(),
        indexes: vec![
            index("email_1", vec![key("email", IndexOrder::Asc)], true),
            index("n_1", vec![key("n", IndexOrder::Asc)], false),
            index("name_text", vec![key("name", IndexOrder::Text)], false),
            index("nested.x_1", vec![key("nested.x", IndexOrder::Asc)], false),
        ],
        scalar_paths: vec![
            "email".into(),
            "n".into(),
            "name".into(),
            "nested.x".into(),
            "flag".into(),
        ],
        text_paths: vec!["name".into()],
        schema: dmr_model::Schema {
            fields: Vec::new(),
            id: true,
        },
    }
}

fn id(i: usize) -> String {
    format!("{i:024x}")
}

/// Varied documents: numbers (ints and floats), strings, booleans, nulls, missing fields,
/// arrays of scalars and of sub-documents, nested objects.
fn dataset() -> Vec<Value> {
    let docs = [
        json!({"n": 1, "name": "red shoes", "email": "a@x.io", "tags": ["a", "b"], "nested": {"x": 1}, "flag": true,
               "items": [{"sku": "A", "q": 1}, {"sku": "B", "q": 5}]}),
        json!({"n": 2.5, "name": "blue shoes", "email": "b@x.io", "tags": ["b"], "nested": {"x": 2}, "flag": false,
               "items": [{"sku": "B", "q": 2}]}),
        json!({"n": 3, "name": "red hat", "tags": [], "nested": {"x": "two"}, "flag": true, "items": []}),
        json!({"n": "3", "name": "green scarf", "email": "c@x.io", "tags": ["c", "a"], "nested": {}}),
        json!({"n": null, "name": "plain sock", "tags": ["a"], "nested": {"x": null}}),
        json!({"name": "Red Coat", "email": "d@x.io", "flag": true, "tags": "solo"}),
        json!({"n": -7, "name": "hat stand", "tags": ["x", "y", "z"], "nested": {"x": 10}, "items": [{"sku": "A", "q": 9}]}),
        json!({"n": 100, "email": "e@x.io", "nested": {"x": 3.5}}),
    ];
    docs.into_iter()
        .enumerate()
        .map(|(i, mut doc)| {
            doc["_id"] = Value::String(id(i));
            doc
        })
        .collect()
}

/// `spec()` as the backend can build it: without the text index where the engine has
/// none (the text check is then skipped, and says so).
async fn ensurable_spec(backend: &dyn Backend) -> CollectionSpec {
    let mut spec = spec();
    if !backend.supports_text_indexes().await {
        spec.indexes.retain(|i| !i.name.ends_with("_text"));
        spec.text_paths.clear();
    }
    spec
}

async fn loaded(backend: &dyn Backend, tenant: &str) -> Arc<dyn TenantStore> {
    let store = backend
        .open_tenant(&TenantId::parse(tenant).unwrap())
        .await
        .unwrap();
    let ensured = store
        .ensure_collection(&ensurable_spec(backend).await)
        .await
        .unwrap();
    assert!(ensured.failed.is_empty(), "{:?}", ensured.failed);
    for doc in dataset() {
        store.insert(&spec(), &doc).await.unwrap();
    }
    store
}

fn ids(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn find(
    store: &dyn TenantStore,
    filter: &Filter,
    sort: &Sort,
    skip: u64,
    limit: u64,
) -> Vec<Value> {
    store
        .find(
            &spec(),
            &FindQuery {
                filter,
                sort,
                skip,
                limit,
            },
        )
        .await
        .unwrap()
}

/// Filters covering every operator, on scalar (pushed-down) and array paths.
fn filters() -> Vec<Value> {
    vec![
        json!({}),
        json!({"n": 3}),
        json!({"n": "3"}),
        json!({"n": null}),
        json!({"n": {"$eq": 2.5}}),
        json!({"n": {"$ne": 3}}),
        json!({"n": {"$gt": 1}}),
        json!({"n": {"$gte": 1, "$lt": 100}}),
        json!({"n": {"$lte": 2.5}}),
        json!({"n": {"$gt": "1"}}),
        json!({"n": {"$in": [1, 3, "3"]}}),
        json!({"n": {"$nin": [1, null]}}),
        json!({"email": "a@x.io"}),
        json!({"email": {"$in": ["a@x.io", "e@x.io"]}}),
        json!({"email": {"$exists": false}}),
        json!({"flag": true}),
        json!({"flag": {"$ne": true}}),
        json!({"name": {"$regex": "^red", "$options": "i"}}),
        json!({"name": {"$not": {"$regex": "shoes"}}}),
        json!({"tags": "a"}),
        json!({"tags": {"$all": ["a", "b"]}}),
        json!({"tags": {"$size": 0}}),
        json!({"tags": {"$size": 3}}),
        json!({"tags": {"$in": ["solo", "c"]}}),
        json!({"items.sku": "A"}),
        json!({"items": {"$elemMatch": {"sku": "B", "q": {"$gt": 3}}}}),
        json!({"items.q": {"$gte": 5}}),
        json!({"nested.x": {"$gt": 1}}),
        json!({"nested.x": {"$exists": true}}),
        json!({"$or": [{"n": 1}, {"email": "e@x.io"}]}),
        json!({"$and": [{"n": {"$type_free": 1}}]}),
        json!({"$nor": [{"flag": true}, {"n": {"$gt": 50}}]}),
        json!({"$and": [{"tags": "a"}, {"n": {"$lt": 10}}]}),
        json!({"_id": id(3)}),
        json!({"_id": {"$in": [id(0), id(7)]}}),
    ]
}

pub async fn documents_round_trip_with_revisions(backend: &dyn Backend) {
    let store = loaded(backend, "docs").await;
    let doc = &dataset()[0];
    let stored = store.get(&spec(), &id(0)).await.unwrap().expect("stored");
    assert_eq!(&stored.doc, doc);
    assert_eq!(stored.revision, 0);
    assert_eq!(store.get(&spec(), &id(99)).await.unwrap(), None);

    let mut changed = doc.clone();
    changed["n"] = json!(42);
    assert_eq!(
        store.replace(&spec(), &id(0), 0, &changed).await.unwrap(),
        WriteOutcome::Written
    );
    assert_eq!(
        store.replace(&spec(), &id(0), 0, &changed).await.unwrap(),
        WriteOutcome::Conflict,
        "stale revision"
    );
    assert_eq!(
        store.replace(&spec(), &id(99), 0, &changed).await.unwrap(),
        WriteOutcome::NotFound
    );
    let stored = store.get(&spec(), &id(0)).await.unwrap().unwrap();
    assert_eq!((stored.doc["n"].clone(), stored.revision), (json!(42), 1));

    assert!(store.delete(&spec(), &id(0)).await.unwrap());
    assert!(!store.delete(&spec(), &id(0)).await.unwrap());
    assert_eq!(store.count(&spec(), &Filter::All).await.unwrap(), 7);
    store.close().await;
}

pub async fn duplicates_name_their_index(backend: &dyn Backend) {
    let store = loaded(backend, "dups").await;
    let again = json!({"_id": id(1)});
    assert!(matches!(
        store.insert(&spec(), &again).await,
        Err(StoreError::Duplicate { ref index, .. }) if index == "_id_"
    ));
    let same_email = json!({"_id": id(50), "email": "a@x.io"});
    assert!(matches!(
        store.insert(&spec(), &same_email).await,
        Err(StoreError::Duplicate { ref index, .. }) if index == "email_1"
    ));
    // Sparse unique: documents without an email do not collide.
    store
        .insert(&spec(), &json!({"_id": id(51)}))
        .await
        .unwrap();
    store
        .insert(&spec(), &json!({"_id": id(52)}))
        .await
        .unwrap();
    // A replace that would duplicate is refused too.
    let mut clash = dataset()[1].clone();
    clash["email"] = json!("a@x.io");
    assert!(matches!(
        store.replace(&spec(), &id(1), 0, &clash).await,
        Err(StoreError::Duplicate { ref index, .. }) if index == "email_1"
    ));
    store.close().await;
}

pub async fn every_operator_answers_as_the_filter_matches(backend: &dyn Backend) {
    let store = loaded(backend, "ops").await;
    let data = dataset();
    for raw in filters() {
        let filter = match Filter::parse(&raw, &Limits::default()) {
            Ok(f) => f,
            // `$type_free` stands for an unknown operator: refused at parse, not by the store.
            Err(e) => {
                assert!(e.to_string().contains("$type_free"), "{raw}: {e}");
                continue;
            }
        };
        let expected: Vec<String> = ids(&data
            .iter()
            .filter(|d| filter.matches(d))
            .cloned()
            .collect::<Vec<_>>());
        let found = ids(&find(store.as_ref(), &filter, &Sort::default(), 0, 1000).await);
        assert_eq!(found, expected, "filter {raw}");
        let count = store.count(&spec(), &filter).await.unwrap();
        assert_eq!(count as usize, expected.len(), "count of {raw}");
    }
    // Anchors, so the oracle itself is pinned to MongoDB's answers.
    let anchor = |raw: Value| Filter::parse(&raw, &Limits::default()).unwrap();
    let store_ref = store.as_ref();
    let found =
        |f: Filter| async move { ids(&find(store_ref, &f, &Sort::default(), 0, 100).await) };
    assert_eq!(
        found(anchor(json!({"tags": "a"}))).await,
        [id(0), id(3), id(4)]
    );
    assert_eq!(
        found(anchor(json!({"n": {"$gt": 1}}))).await,
        [id(1), id(2), id(7)],
        "numbers only"
    );
    assert_eq!(
        found(anchor(json!({"n": null}))).await,
        [id(4), id(5)],
        "null matches missing"
    );
    assert_eq!(
        found(anchor(json!({"items.sku": "A"}))).await,
        [id(0), id(6)]
    );
    store.close().await;
}

pub async fn text_search_uses_the_text_index(backend: &dyn Backend) {
    if !backend.supports_text_indexes().await {
        println!(
            "SKIPPED text_search_uses_the_text_index: the {} server builds no text indexes",
            backend.kind()
        );
        return;
    }
    let store = loaded(backend, "text").await;
    let search =
        |q: &str| Filter::parse(&json!({"$text": {"$search": q}}), &Limits::default()).unwrap();
    let found = ids(&find(store.as_ref(), &search("red"), &Sort::default(), 0, 100).await);
    assert_eq!(found, [id(0), id(2), id(5)], "case-insensitive whole words");
    let found = ids(&find(
        store.as_ref(),
        &search("shoes -blue"),
        &Sort::default(),
        0,
        100,
    )
    .await);
    assert_eq!(found, [id(0)]);
    // A control character separates words, as in the documents; it is never a store
    // error (FTS5 ends a string at a NUL).
    for q in [
        "red\u{0}",
        "\"red\u{0}\"",
        "\u{0}red\u{1}",
        "-\u{0}blue red",
    ] {
        let found = ids(&find(store.as_ref(), &search(q), &Sort::default(), 0, 100).await);
        assert_eq!(found, [id(0), id(2), id(5)], "{q:?}");
    }
    assert!(
        find(store.as_ref(), &search("\u{0}"), &Sort::default(), 0, 100)
            .await
            .is_empty()
    );
    // The index follows writes.
    let mut renamed = dataset()[3].clone();
    renamed["name"] = json!("red scarf");
    assert_eq!(
        store.replace(&spec(), &id(3), 0, &renamed).await.unwrap(),
        WriteOutcome::Written
    );
    store.delete(&spec(), &id(0)).await.unwrap();
    let found = ids(&find(store.as_ref(), &search("red"), &Sort::default(), 0, 100).await);
    assert_eq!(found, [id(2), id(3), id(5)]);
    store.close().await;
}

pub async fn sort_orders_across_types_and_paginates(backend: &dyn Backend) {
    let store = loaded(backend, "sort").await;
    for raw in [
        json!({"n": 1}),
        json!({"n": -1}),
        json!({"name": 1, "n": -1}),
        json!({"tags": 1}),
        json!({"nested.x": -1}),
    ] {
        let sort = Sort::parse(&raw).unwrap();
        let mut data = dataset();
        data.sort_by(|a, b| sort.compare(a, b));
        let all = find(store.as_ref(), &Filter::All, &sort, 0, 1000).await;
        assert_eq!(ids(&all), ids(&data), "sort {raw}");
        let page = find(store.as_ref(), &Filter::All, &sort, 2, 3).await;
        assert_eq!(ids(&page), ids(&data[2..5]), "page of sort {raw}");
    }
    // Numbers before strings, missing/null first: MongoDB's order.
    let by_n = find(
        store.as_ref(),
        &Filter::All,
        &Sort::parse(&json!({"n": 1})).unwrap(),
        0,
        100,
    )
    .await;
    let order: Vec<Value> = by_n
        .iter()
        .map(|d| d.get("n").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(
        order,
        [
            json!(null),
            json!(null),
            json!(-7),
            json!(1),
            json!(2.5),
            json!(3),
            json!(100),
            json!("3")
        ]
    );
    // Pagination without a sort keeps insertion order, with exact and inexact filters.
    let page = find(store.as_ref(), &Filter::All, &Sort::default(), 3, 2).await;
    assert_eq!(ids(&page), [id(3), id(4)]);
    let tags = Filter::parse(&json!({"tags": {"$exists": true}}), &Limits::default()).unwrap();
    let page = find(store.as_ref(), &tags, &Sort::default(), 1, 2).await;
    assert_eq!(ids(&page), [id(1), id(2)]);
    // Any skip and limit a client can send: a page past the end is empty, not an error
    // (SQL engines take signed 64-bit bounds), whether the engine or the store paginates.
    let by_n = Sort::parse(&json!({"n": 1})).unwrap();
    for (filter, sort) in [(&Filter::All, &by_n), (&tags, &Sort::default())] {
        assert!(
            find(store.as_ref(), filter, sort, u64::MAX, 10)
                .await
                .is_empty()
        );
        assert!(
            find(store.as_ref(), filter, sort, 1 << 63, u64::MAX)
                .await
                .is_empty()
        );
        let all = find(store.as_ref(), filter, sort, 0, u64::MAX).await;
        assert!(!all.is_empty());
    }
    store.close().await;
}

pub async fn concurrent_read_modify_writes_lose_nothing(backend: &dyn Backend) {
    let store = loaded(backend, "race").await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            async move {
                loop {
                    let stored = store.get(&spec(), &id(7)).await.unwrap().unwrap();
                    let mut doc = stored.doc.clone();
                    doc["n"] = json!(doc["n"].as_i64().unwrap() + 1);
                    match store
                        .replace(&spec(), &id(7), stored.revision, &doc)
                        .await
                        .unwrap()
                    {
                        WriteOutcome::Written => return,
                        WriteOutcome::Conflict => continue,
                        WriteOutcome::NotFound => panic!("document vanished"),
                    }
                }
            }
        })
        .collect();
    futures_join_all(tasks).await;
    let stored = store.get(&spec(), &id(7)).await.unwrap().unwrap();
    assert_eq!(stored.doc["n"], json!(150), "100 + 50 increments");
    assert_eq!(stored.revision, 50);
    store.close().await;
}

/// Polls the futures to completion concurrently (no runtime needed here).
async fn futures_join_all<F: Future<Output = ()>>(futures: Vec<F>) {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in &mut pinned {
            if let Some(fut) = slot {
                if fut.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
}
