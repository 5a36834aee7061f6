//! The seed's three models, as shipped in /models.

use dmr_model::{DefaultValue, FieldType, IndexOrder, ModelDef, ModelSet, Strict, parse_model};
use serde_json::{Value, json};

use crate::{ORDER, PRODUCT, USER};

fn parse(src: &str, origin: &str) -> ModelDef {
    parse_model(src, origin).unwrap_or_else(|e| panic!("{e}"))
}

/// (name, [(path, order)], unique) of an index.
type Summary = (String, Vec<(String, IndexOrder)>, bool);

fn index_summary(def: &ModelDef) -> Vec<Summary> {
    def.indexes
        .iter()
        .map(|i| {
            assert!(!i.sparse, "{} is sparse", i.name);
            assert_eq!(i.expire_after_seconds, None, "{} has a TTL", i.name);
            let keys = i.keys.iter().map(|k| (k.path.clone(), k.order)).collect();
            (i.name.clone(), keys, i.unique)
        })
        .collect()
}

fn idx(name: &str, keys: &[(&str, IndexOrder)], unique: bool) -> Summary {
    let keys = keys.iter().map(|(p, o)| ((*p).to_owned(), *o)).collect();
    (name.to_owned(), keys, unique)
}

fn field_names(def: &ModelDef) -> Vec<&str> {
    def.schema.fields.iter().map(|(n, _)| n.as_str()).collect()
}

use IndexOrder::{Asc, Desc, Text};

#[test]
fn user() {
    let u = parse(USER, "models/User.json");
    assert_eq!(u.name, "User");
    assert_eq!(u.collection, "users");
    assert!(u.timestamps);
    assert_eq!(u.strict, Strict::Drop);
    assert!(u.schema.id);
    assert_eq!(
        field_names(&u),
        [
            "email",
            "username",
            "firstName",
            "lastName",
            "role",
            "isActive",
            "lastLogin",
            "metadata",
            "createdAt",
            "updatedAt"
        ]
    );
    // `unique` + `index` on one field is ONE unique index, as in Mongoose.
    assert_eq!(
        index_summary(&u),
        [
            idx("email_1", &[("email", Asc)], true),
            idx("username_1", &[("username", Asc)], true),
            idx("role_1", &[("role", Asc)], false),
            idx("isActive_1", &[("isActive", Asc)], false),
            idx(
                "email_1_isActive_1",
                &[("email", Asc), ("isActive", Asc)],
                false
            ),
            idx("createdAt_-1", &[("createdAt", Desc)], false),
        ]
    );

    let email = u.schema.field("email").unwrap();
    assert_eq!(email.ty, FieldType::String);
    let o = &email.opts;
    assert!(o.required && o.unique && o.lowercase && o.trim);
    assert_eq!(o.index, Some(Asc));
    let username = &u.schema.field("username").unwrap().opts;
    assert!(username.required && username.unique && username.trim && !username.lowercase);
    for name in ["firstName", "lastName"] {
        let o = &u.schema.field(name).unwrap().opts;
        assert!(o.required && o.trim, "{name}");
    }
    let role = &u.schema.field("role").unwrap().opts;
    assert_eq!(
        role.enum_values,
        Some(vec![json!("admin"), json!("user"), json!("moderator")])
    );
    assert_eq!(role.default, Some(DefaultValue::Literal(json!("user"))));
    let active = u.schema.field("isActive").unwrap();
    assert_eq!(active.ty, FieldType::Boolean);
    assert_eq!(
        active.opts.default,
        Some(DefaultValue::Literal(json!(true)))
    );
    let last_login = u.schema.field("lastLogin").unwrap();
    assert_eq!(last_login.ty, FieldType::Date);
    assert_eq!(
        last_login.opts.default,
        Some(DefaultValue::Literal(Value::Null))
    );
    match &u.schema.field("metadata").unwrap().ty {
        FieldType::Map(of) => assert_eq!(of.ty, FieldType::Mixed),
        other => panic!("metadata is {other:?}"),
    }
    assert_eq!(u.schema.field("createdAt").unwrap().ty, FieldType::Date);

    let full_name = u.virtual_def("fullName").unwrap();
    let doc = json!({"firstName": "Ada", "lastName": "Lovelace"});
    assert_eq!(full_name.eval(&doc), json!("Ada Lovelace"));
    assert_eq!(full_name.eval(&json!({"firstName": "Ada"})), json!("Ada "));
}

#[test]
fn product() {
    let p = parse(PRODUCT, "models/Product.json");
    assert_eq!(p.collection, "products");
    assert!(p.timestamps);
    assert_eq!(
        index_summary(&p),
        [
            idx("sku_1", &[("sku", Asc)], true),
            idx("name_text", &[("name", Text)], false),
            idx("category_1", &[("category", Asc)], false),
            idx("status_1", &[("status", Asc)], false),
            idx(
                "category_1_status_1",
                &[("category", Asc), ("status", Asc)],
                false
            ),
            idx(
                "price.amount_1_status_1",
                &[("price.amount", Asc), ("status", Asc)],
                false
            ),
            idx("tags_1", &[("tags", Asc)], false),
        ]
    );
    let sku = &p.schema.field("sku").unwrap().opts;
    assert!(sku.required && sku.unique && sku.uppercase && sku.trim);

    let FieldType::Object(price) = &p.schema.field("price").unwrap().ty else {
        panic!("price is not a nested object");
    };
    assert!(!price.id);
    let amount = price.field("amount").unwrap();
    assert!(amount.opts.required);
    assert_eq!(amount.opts.min, Some(0.0));
    let currency = &price.field("currency").unwrap().opts;
    assert!(currency.uppercase);
    assert_eq!(currency.default, Some(DefaultValue::Literal(json!("USD"))));

    let quantity = p.schema.lookup("inventory.quantity").unwrap();
    assert!(quantity.opts.required);
    assert_eq!(quantity.opts.min, Some(0.0));
    assert_eq!(quantity.opts.default, Some(DefaultValue::Literal(json!(0))));
    let warehouse = p.schema.lookup("inventory.warehouse").unwrap();
    assert_eq!(
        warehouse.opts.default,
        Some(DefaultValue::Literal(json!("main")))
    );

    let FieldType::SubDocs(attributes) = &p.schema.field("attributes").unwrap().ty else {
        panic!("attributes are not sub-documents");
    };
    assert!(attributes.id);
    assert_eq!(attributes.field("name").unwrap().ty, FieldType::String);
    assert_eq!(attributes.field("value").unwrap().ty, FieldType::Mixed);

    let FieldType::Array(tag) = &p.schema.field("tags").unwrap().ty else {
        panic!("tags is not an array");
    };
    assert_eq!(tag.ty, FieldType::String);
    assert!(tag.opts.lowercase && tag.opts.trim);

    let FieldType::SubDocs(images) = &p.schema.field("images").unwrap().ty else {
        panic!("images are not sub-documents");
    };
    assert!(images.id, "sub-documents have an _id by default");
    assert_eq!(images.field("isPrimary").unwrap().ty, FieldType::Boolean);

    let status = &p.schema.field("status").unwrap().opts;
    assert_eq!(status.default, Some(DefaultValue::Literal(json!("draft"))));
    assert_eq!(status.enum_values.as_ref().unwrap().len(), 4);
    assert_eq!(p.schema.field("name").unwrap().opts.index, Some(Text));

    let available = p.virtual_def("availableQuantity").unwrap();
    let doc = json!({"inventory": {"quantity": 10, "reserved": 3}});
    assert_eq!(available.eval(&doc), json!(7));
}

#[test]
fn order() {
    let o = parse(ORDER, "models/Order.json");
    assert_eq!(o.collection, "orders");
    assert!(o.timestamps);
    assert_eq!(
        index_summary(&o),
        [
            idx("orderNumber_1", &[("orderNumber", Asc)], true),
            idx("customerId_1", &[("customerId", Asc)], false),
            idx("items.productId_1", &[("items.productId", Asc)], false),
            idx("status_1", &[("status", Asc)], false),
            idx(
                "customerId_1_createdAt_-1",
                &[("customerId", Asc), ("createdAt", Desc)],
                false
            ),
            idx(
                "status_1_createdAt_-1",
                &[("status", Asc), ("createdAt", Desc)],
                false
            ),
            idx(
                "payment.status_1_status_1",
                &[("payment.status", Asc), ("status", Asc)],
                false
            ),
        ]
    );

    let FieldType::SubDocs(items) = &o.schema.field("items").unwrap().ty else {
        panic!("items are not sub-documents");
    };
    assert!(!items.id, "items are declared with \"_id\": false");
    let quantity = items.field("quantity").unwrap();
    assert!(quantity.opts.required);
    assert_eq!(quantity.opts.min, Some(1.0));
    assert_eq!(items.field("productId").unwrap().ty, FieldType::ObjectId);
    assert_eq!(
        items.field("discount").unwrap().opts.default,
        Some(DefaultValue::Literal(json!(0)))
    );

    let method = o.schema.lookup("payment.method").unwrap();
    assert!(method.opts.required);
    assert_eq!(method.opts.enum_values.as_ref().unwrap().len(), 5);
    assert_eq!(
        o.schema.lookup("shipping.address.postalCode").unwrap().ty,
        FieldType::String
    );
    assert_eq!(
        o.schema.lookup("shipping.method").unwrap().opts.default,
        Some(DefaultValue::Literal(json!("standard")))
    );
    assert!(o.schema.lookup("totals.total").unwrap().opts.required);
    assert_eq!(o.schema.lookup("totals.tax").unwrap().ty, FieldType::Number);

    let order_number = &o.schema.field("orderNumber").unwrap().opts;
    assert!(order_number.required && order_number.unique);
    let Some(DefaultValue::Generate(generator)) = &order_number.default else {
        panic!("orderNumber has no generator");
    };
    assert_eq!(generator.template(), "ORD-{now:36}-{random:36:5}");
    assert!(generator.uppercase());
    let mut n = 0u64;
    let mut random = || {
        n += 7;
        n
    };
    let number = generator.generate(1_700_000_000_000, &mut random);
    assert_eq!(number, "ORD-LOYW3V28-7ELSZ");
    // ^ORD-[0-9A-Z]+-[0-9A-Z]{5}$ for any randomness
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for now in [0, 1, 1_234_567_890_123, u64::MAX] {
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let s = generator.generate(now, &mut random);
        let parts: Vec<&str> = s.split('-').collect();
        let upper_alnum = |p: &str| {
            p.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        };
        assert_eq!(parts.len(), 3, "{s}");
        assert_eq!(parts[0], "ORD");
        assert!(!parts[1].is_empty() && upper_alnum(parts[1]), "{s}");
        assert!(parts[2].len() == 5 && upper_alnum(parts[2]), "{s}");
    }

    let count = o.virtual_def("itemCount").unwrap();
    let doc = json!({"items": [{"quantity": 2}, {"quantity": 3}, {"quantity": 4}]});
    assert_eq!(count.eval(&doc), json!(9));
    assert_eq!(count.eval(&json!({"items": []})), json!(0));
}

#[test]
fn as_a_set() {
    let set = ModelSet::from_sources(vec![
        ("models/User.json".into(), USER.into()),
        ("models/Product.json".into(), PRODUCT.into()),
        ("models/Order.json".into(), ORDER.into()),
    ])
    .unwrap();
    assert_eq!(set.len(), 3);
    assert!(!set.is_empty());
    assert_eq!(
        set.names().collect::<Vec<_>>(),
        ["Order", "Product", "User"]
    );
    assert_eq!(set.get("Product").unwrap().collection, "products");
    assert!(set.get("product").is_none());
    let collections: Vec<&str> = set.iter().map(|m| m.collection.as_str()).collect();
    assert_eq!(collections, ["orders", "products", "users"]);
}

#[test]
fn key_spec_for_the_store() {
    let o = parse(ORDER, "models/Order.json");
    let spec = o.indexes[4].key_spec();
    assert_eq!(spec.to_string(), r#"{"customerId":1,"createdAt":-1}"#);
}
