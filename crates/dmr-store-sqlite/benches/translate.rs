//! Filter translation: a client's JSON filter parsed (with limits) and turned into the
//! SQL the engine runs. `cargo bench -p dmr-store-sqlite --bench translate`.

use dmr_model::{IndexDef, IndexKey, IndexOrder};
use dmr_query::{Filter, Limits};
use dmr_store::CollectionSpec;
use serde_json::json;

fn main() {
    divan::main();
}

fn spec() -> CollectionSpec {
    CollectionSpec {
        name: "orders".into(),
        indexes: vec![IndexDef {
            name: "customerId_1".into(),
            keys: vec![IndexKey {
                path: "customerId".into(),
                order: IndexOrder::Asc,
            }],
            unique: false,
            sparse: false,
            expire_after_seconds: None,
        }],
        scalar_paths: vec![
            "customerId".into(),
            "status".into(),
            "totals.total".into(),
            "payment.status".into(),
        ],
        text_paths: Vec::new(),
        schema: Default::default(),
    }
}

#[divan::bench]
fn parse_and_translate(bencher: divan::Bencher) {
    let spec = spec();
    let raw = json!({
        "customerId": "000000000000000000000007",
        "status": {"$in": ["pending", "processing"]},
        "totals.total": {"$gte": 10, "$lt": 500},
        "$or": [{"payment.status": "completed"}, {"items.quantity": {"$gt": 2}}],
    });
    bencher.bench(|| {
        let filter = Filter::parse(divan::black_box(&raw), &Limits::default()).unwrap();
        dmr_store_sqlite::query::translate(&spec, &filter).unwrap()
    });
}
