//! The seed's three models processing realistic documents, output exact.

use serde_json::{Value, json};

use crate::write_support::{NOW, NOW_ISO, at, insert_err, insert_ok, model, oid, summary};
use crate::{ORDER, PRODUCT, USER};

#[test]
fn user_insert() {
    let user = model(USER);
    let out = insert_ok(
        &user,
        &json!({
            "email": "  Alice@Example.COM ",
            "username": " alice ",
            "firstName": " Alice",
            "lastName": "Smith ",
            "metadata": {"plan": "pro", "seats": 3, "flags": {"beta": true}, "empty": {}},
            "notInSchema": "dropped",
            "__v": 7
        }),
    );
    assert_eq!(
        out,
        json!({
            "_id": oid(1),
            "email": "alice@example.com",
            "username": "alice",
            "firstName": "Alice",
            "lastName": "Smith",
            "role": "user",
            "isActive": true,
            "lastLogin": null,
            // A Map of Mixed is kept as given, empty objects included.
            "metadata": {"plan": "pro", "seats": 3, "flags": {"beta": true}, "empty": {}},
            "createdAt": NOW_ISO,
            "updatedAt": NOW_ISO,
            "__v": 0
        })
    );
    // _id first, schema order, __v last, as Mongoose writes it.
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys.first().map(|k| k.as_str()), Some("_id"));
    assert_eq!(keys.last().map(|k| k.as_str()), Some("__v"));
}

#[test]
fn user_rejections() {
    let user = model(USER);
    let e = insert_err(
        &user,
        &json!({"email": "   ", "firstName": "A", "lastName": "B", "role": "root", "isActive": "maybe"}),
    );
    assert_eq!(
        summary(&e),
        [
            ("email".into(), "required".into(), "Path `email` is required.".into()),
            ("username".into(), "required".into(), "Path `username` is required.".into()),
            (
                "role".into(),
                "enum".into(),
                "`root` is not a valid enum value for path `role`.".into()
            ),
            (
                "isActive".into(),
                "Boolean".into(),
                "Cast to Boolean failed for value \"maybe\" (type string) at path \"isActive\" because of \"CastError\"".into()
            ),
        ]
    );
    assert_eq!(e.errors[0].value, json!(""), "trimmed before required");
}

#[test]
fn product_insert() {
    let product = model(PRODUCT);
    let out = insert_ok(
        &product,
        &json!({
            "sku": " ab-123 ",
            "name": "  Widget ",
            "description": "A widget",
            "category": "tools",
            "price": {"amount": "19.99"},
            "attributes": [{"name": "color", "value": {"rgb": [1, 2, 3]}}],
            "tags": [" Foo ", "BAR", 42],
            "images": [{"url": "https://x.test/1.png", "alt": "one", "isPrimary": "true", "extra": 1}],
            "status": "active"
        }),
    );
    assert_eq!(
        out,
        json!({
            "_id": oid(1),
            "sku": "AB-123",
            "name": "Widget",
            "description": "A widget",
            "category": "tools",
            "price": {"amount": 19.99, "currency": "USD"},
            "inventory": {"quantity": 0, "reserved": 0, "warehouse": "main"},
            "attributes": [{"_id": oid(2), "name": "color", "value": {"rgb": [1, 2, 3]}}],
            "tags": ["foo", "bar", "42"],
            "images": [{"_id": oid(3), "url": "https://x.test/1.png", "alt": "one", "isPrimary": true}],
            "status": "active",
            "publishedAt": null,
            "createdAt": NOW_ISO,
            "updatedAt": NOW_ISO,
            "__v": 0
        })
    );
}

#[test]
fn product_minimal_gets_every_default() {
    let product = model(PRODUCT);
    let out = insert_ok(
        &product,
        &json!({"sku": "a", "name": "n", "description": "d", "category": "c", "price": {"amount": 0}}),
    );
    assert_eq!(
        out["inventory"],
        json!({"quantity": 0, "reserved": 0, "warehouse": "main"})
    );
    assert_eq!(out["price"]["currency"], "USD");
    assert_eq!(out["attributes"], json!([]));
    assert_eq!(out["tags"], json!([]));
    assert_eq!(out["images"], json!([]));
    assert_eq!(out["status"], "draft");
}

#[test]
fn product_nested_required_and_min() {
    let product = model(PRODUCT);
    let e = insert_err(
        &product,
        &json!({"sku": "a", "name": "n", "description": "d", "category": "c",
                "inventory": {"quantity": -1, "reserved": -2}}),
    );
    assert_eq!(
        summary(&e),
        [
            (
                "price.amount".into(),
                "required".into(),
                "Path `price.amount` is required.".into()
            ),
            (
                "inventory.quantity".into(),
                "min".into(),
                "Path `inventory.quantity` (-1) is less than minimum allowed value (0).".into()
            ),
            (
                "inventory.reserved".into(),
                "min".into(),
                "Path `inventory.reserved` (-2) is less than minimum allowed value (0).".into()
            ),
        ]
    );
}

fn order_doc(items: usize) -> Value {
    let items: Vec<Value> = (0..items)
        .map(|i| {
            json!({
                "productId": format!("65a1b2c3d4e5f60718293a{:02X}", i),
                "sku": format!("W-{i}"),
                "name": "Widget",
                "quantity": if i == 0 { json!("2") } else { json!(1) },
                "price": 9.5
            })
        })
        .collect();
    json!({
        "customerId": "507F1F77BCF86CD799439011",
        "items": items,
        "payment": {"method": "credit_card", "paidAt": "2024-01-02T03:04:05.678+01:00"},
        "shipping": {"method": "express"},
        "totals": {"subtotal": 24, "tax": 2.4, "shipping": "5", "total": 31.4},
        "notes": 12,
        "metadata": {"source": "web", "utm": {"campaign": null}}
    })
}

#[test]
fn order_insert() {
    let order = model(ORDER);
    let out = insert_ok(&order, &order_doc(2));
    assert_eq!(
        out,
        json!({
            "_id": oid(1),
            // now in base 36, then the injected randoms 3, 4, 5, 6, 7.
            "orderNumber": "ORD-LOYW3V28-34567",
            "customerId": "507f1f77bcf86cd799439011",
            "items": [
                {"productId": "65a1b2c3d4e5f60718293a00", "sku": "W-0", "name": "Widget",
                 "quantity": 2, "price": 9.5, "discount": 0},
                {"productId": "65a1b2c3d4e5f60718293a01", "sku": "W-1", "name": "Widget",
                 "quantity": 1, "price": 9.5, "discount": 0}
            ],
            "status": "pending",
            "payment": {"method": "credit_card", "status": "pending", "paidAt": "2024-01-02T02:04:05.678Z"},
            // No address given: the empty nested object is minimized away.
            "shipping": {"method": "express"},
            "totals": {"subtotal": 24, "tax": 2.4, "shipping": 5, "discount": 0, "total": 31.4},
            "notes": "12",
            "metadata": {"source": "web", "utm": {"campaign": null}},
            "createdAt": NOW_ISO,
            "updatedAt": NOW_ISO,
            "__v": 0
        })
    );
}

#[test]
fn order_number_is_generated_from_the_context() {
    let order = model(ORDER);
    let re = regex::Regex::new("^ORD-[0-9A-Z]+-[0-9A-Z]{5}$").unwrap();
    for seed in [0u64, 7, u64::MAX / 3] {
        let mut state = seed;
        let mut random = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 11
        };
        let mut ctx = dmr_model::WriteContext {
            now_millis: NOW + seed % 1000,
            random: &mut random,
        };
        let out = order.prepare_insert(&order_doc(1), &mut ctx).unwrap();
        let n = out["orderNumber"].as_str().unwrap();
        assert!(re.is_match(n), "{n}");
    }
    // A given order number is kept.
    let mut doc = order_doc(1);
    doc["orderNumber"] = json!("ORD-GIVEN-1");
    assert_eq!(insert_ok(&order, &doc)["orderNumber"], "ORD-GIVEN-1");
}

#[test]
fn order_sub_document_errors() {
    let order = model(ORDER);
    let mut doc = order_doc(2);
    doc["items"][0]["quantity"] = json!(0);
    doc["items"][1].as_object_mut().unwrap().remove("sku");
    doc["items"][1]["discount"] = json!(-1);
    let e = insert_err(&order, &doc);
    assert_eq!(
        summary(&e),
        [
            (
                "items.0.quantity".into(),
                "min".into(),
                "Path `items.0.quantity` (0) is less than minimum allowed value (1).".into()
            ),
            (
                "items.1.sku".into(),
                "required".into(),
                "Path `items.1.sku` is required.".into()
            ),
            (
                "items.1.discount".into(),
                "min".into(),
                "Path `items.1.discount` (-1) is less than minimum allowed value (0).".into()
            ),
        ]
    );
    assert!(
        e.to_string()
            .starts_with("Order validation failed: items.0.quantity: ")
    );
}

#[test]
fn virtuals_of_the_shipped_models() {
    let user = model(USER);
    let mut u = insert_ok(
        &user,
        &json!({"email": "a@b.c", "username": "a", "firstName": "Ada", "lastName": "Lovelace"}),
    );
    user.apply_virtuals(&mut u);
    assert_eq!(u["fullName"], "Ada Lovelace");
    assert_eq!(u["id"], u["_id"], "Mongoose's implicit id virtual");

    let product = model(PRODUCT);
    let mut p = insert_ok(
        &product,
        &json!({"sku": "a", "name": "n", "description": "d", "category": "c", "price": {"amount": 1},
                "inventory": {"quantity": 10, "reserved": 3}, "images": [{"url": "u"}]}),
    );
    product.apply_virtuals(&mut p);
    assert_eq!(p["availableQuantity"], 7);
    assert_eq!(p["images"][0]["id"], p["images"][0]["_id"]);

    let order = model(ORDER);
    let mut o = insert_ok(&order, &order_doc(3));
    order.apply_virtuals(&mut o);
    assert_eq!(o["itemCount"], 4);
    assert!(
        o["items"][0].get("id").is_none(),
        "items have no _id, so no id"
    );
}

#[test]
fn replace_keeps_identity_and_creation() {
    let user = model(USER);
    let first = insert_ok(
        &user,
        &json!({"email": "a@b.c", "username": "a", "firstName": "A", "lastName": "B"}),
    );
    let replaced = at(crate::write_support::LATER, |ctx| {
        user.prepare_replace(
            &json!({"_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "email": "NEW@b.c", "username": "a",
                    "firstName": "A", "lastName": "B", "createdAt": "2000-01-01", "__v": 9}),
            &first,
            ctx,
        )
    })
    .unwrap();
    assert_eq!(replaced["_id"], first["_id"]);
    assert_eq!(replaced["createdAt"], first["createdAt"]);
    assert_eq!(replaced["updatedAt"], crate::write_support::LATER_ISO);
    assert_eq!(replaced["__v"], 0);
    assert_eq!(replaced["email"], "new@b.c");
    assert_eq!(replaced["role"], "user", "defaults apply to a replacement");
}
