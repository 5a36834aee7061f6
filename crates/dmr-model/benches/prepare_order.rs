//! `prepare_insert` of realistic documents: a 10-item Order with every
//! field, and a User.
//!
//! Run: `cargo bench -p dmr-model --bench prepare_order`

use divan::{Bencher, black_box};
use dmr_model::{ModelDef, WriteContext, parse_model};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn model(src: &str) -> ModelDef {
    parse_model(src, "bench").expect("shipped model parses")
}

/// Every Order field: ISO date strings, numbers as numbers with a few
/// numeric strings to cast, ids in upper case, padded strings.
fn order() -> Value {
    let items: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "productId": format!("65A1B2C3D4E5F60718293A{i:02X}"),
                "sku": format!("SKU-{i:04}"),
                "name": format!("  Product number {i} "),
                "quantity": if i % 3 == 0 { json!("2") } else { json!(1 + i % 4) },
                "price": 19.99 + f64::from(i),
                "discount": if i % 2 == 0 { json!(0) } else { json!("1.5") }
            })
        })
        .collect();
    json!({
        "customerId": "507F1F77BCF86CD799439011",
        "items": items,
        "status": "processing",
        "payment": {
            "method": "credit_card",
            "status": "completed",
            "transactionId": "  txn_3Nf9aB2eZvKYlo2C1x8QWc0M ",
            "paidAt": "2024-03-05T14:22:05.123Z"
        },
        "shipping": {
            "address": {
                "street": "221B Baker Street",
                "city": "London",
                "state": "Greater London",
                "country": "GB",
                "postalCode": "NW1 6XE"
            },
            "method": "express",
            "trackingNumber": "1Z999AA10123456784",
            "carrier": "UPS",
            "shippedAt": "2024-03-06T09:00:00Z",
            "deliveredAt": "2024-03-07T16:45:10.5+01:00"
        },
        "totals": { "subtotal": 249.9, "tax": "49.98", "shipping": 9.99, "discount": 10, "total": 299.87 },
        "notes": "Leave at the door, please.",
        "metadata": { "source": "web", "campaign": { "utm_source": "newsletter", "utm_medium": "email" }, "giftWrap": false }
    })
}

fn user() -> Value {
    json!({
        "email": "  Alice.Smith@Example.COM ",
        "username": " alice_smith ",
        "firstName": " Alice",
        "lastName": "Smith ",
        "role": "moderator",
        "isActive": "true",
        "lastLogin": "2024-03-05T14:22:05.123Z",
        "metadata": { "plan": "pro", "seats": 5, "features": ["sso", "audit"] }
    })
}

fn prepare(def: &ModelDef, doc: &Value) -> Value {
    let mut n = 0u64;
    let mut random = || {
        n = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
        n
    };
    let mut ctx = WriteContext {
        now_millis: 1_709_648_525_123,
        random: &mut random,
    };
    def.prepare_insert(doc, &mut ctx).expect("valid document")
}

#[divan::bench(sample_count = 2000)]
fn order_10_items(bencher: Bencher) {
    let def = model(include_str!("../../../models/Order.json"));
    let doc = order();
    bencher.bench_local(|| prepare(&def, black_box(&doc)));
}

#[divan::bench(sample_count = 2000)]
fn user_document(bencher: Bencher) {
    let def = model(include_str!("../../../models/User.json"));
    let doc = user();
    bencher.bench_local(|| prepare(&def, black_box(&doc)));
}
