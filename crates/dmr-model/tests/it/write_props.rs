//! Whatever the document and whatever the model, processing never panics,
//! every rejection is a well-formed Mongoose ValidationError, and accepted
//! documents are fixed points: validating, replacing or inserting them
//! again gives them back (apart from `updatedAt`).

use dmr_model::{FieldDef, FieldType, ModelDef, Schema, ValidationError, parse_model};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::props::{json_value, valid_model};
use crate::write_support::{LATER, LATER_ISO, NOW, at};
use crate::{ORDER, PRODUCT, USER};

fn shipped() -> impl Strategy<Value = ModelDef> {
    prop::sample::select(vec![USER, PRODUCT, ORDER])
        .prop_map(|src| parse_model(src, "shipped").unwrap())
}

fn generated() -> impl Strategy<Value = ModelDef> {
    valid_model().prop_filter_map("model did not parse", |v| {
        parse_model(&v.to_string(), "gen").ok()
    })
}

/// Values a field of this type may receive: mostly castable, sometimes not.
fn value_for(def: &FieldDef, depth: u32) -> BoxedStrategy<Value> {
    let junk = json_value().boxed();
    let typed: BoxedStrategy<Value> = match &def.ty {
        FieldType::String => prop_oneof![
            "[ a-zA-Z0-9@.]{0,10}".prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            (-5i64..5).prop_map(Value::from),
        ]
        .boxed(),
        FieldType::Number => prop_oneof![
            (-10i64..10).prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            "-?[0-9]{1,4}(\\.[0-9]{1,3})?".prop_map(Value::from),
            prop::sample::select(vec![json!(""), json!(" 7 "), json!("1e3"), json!(true), json!("x")]),
        ]
        .boxed(),
        FieldType::Boolean => prop::sample::select(vec![
            json!(true), json!(false), json!("yes"), json!("no"), json!(1), json!("0"), json!("maybe"),
        ])
        .boxed(),
        FieldType::Date => prop_oneof![
            (-8_640_000_000_000_000i64..8_640_000_000_000_000).prop_map(Value::from),
            "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9])(T[01][0-9]:[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,4})?)?(Z|[+-]0[0-9]:[0-5][0-9])?)?"
                .prop_map(Value::from),
            prop::sample::select(vec![json!(""), json!("1700000000000"), json!("2024"), json!({"$date": 5}), json!("soon")]),
        ]
        .boxed(),
        FieldType::ObjectId => prop_oneof![
            "[0-9a-fA-F]{24}".prop_map(Value::from),
            "[0-9a-f]{24}".prop_map(|s| json!({"$oid": s})),
            Just(json!("not-an-id")),
        ]
        .boxed(),
        FieldType::Mixed => junk.clone(),
        FieldType::Map(of) => prop::collection::vec(("[a-z$.]{0,3}", value_for(of, depth + 1)), 0..3)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()))
            .boxed(),
        FieldType::Array(el) => prop_oneof![
            3 => prop::collection::vec(value_for(el, depth + 1), 0..4).prop_map(Value::Array),
            1 => value_for(el, depth + 1),
        ]
        .boxed(),
        FieldType::Object(s) => object_for(s, depth + 1),
        FieldType::SubDocs(s) => prop_oneof![
            4 => prop::collection::vec(object_for(s, depth + 1), 0..3).prop_map(Value::Array),
            1 => object_for(s, depth + 1),
        ]
        .boxed(),
    };
    prop_oneof![8 => typed, 1 => Just(Value::Null), 1 => junk].boxed()
}

/// An object for a schema: each field present or not, sometimes an extra key.
fn object_for(schema: &Schema, depth: u32) -> BoxedStrategy<Value> {
    if depth > 5 {
        return Just(json!({})).boxed();
    }
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema
        .fields
        .iter()
        .map(|(name, def)| {
            let name = name.clone();
            prop::option::weighted(0.7, value_for(def, depth))
                .prop_map(move |v| v.map(|v| (name.clone(), v)))
                .boxed()
        })
        .collect();
    let extra = prop::option::weighted(
        0.2,
        (
            prop::sample::select(vec!["zz", "_id", "__v", "createdAt", "a.b"]),
            json_value(),
        ),
    );
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut m: Map<String, Value> = fields.into_iter().flatten().collect();
            if let Some((k, v)) = extra {
                m.insert(k.to_owned(), v);
            }
            Value::Object(m)
        })
        .boxed()
}

/// A value meant to pass: typed, within enum, min/max and length limits.
fn clean_value_for(def: &FieldDef, depth: u32) -> BoxedStrategy<Value> {
    let o = &def.opts;
    if let Some(values) = &o.enum_values {
        return prop::sample::select(values.clone()).boxed();
    }
    match &def.ty {
        FieldType::String => {
            let lo = o.minlength.unwrap_or(u64::from(o.required)).min(8);
            let hi = o.maxlength.unwrap_or(8).max(lo);
            proptest::string::string_regex(&format!("[a-z]{{{lo},{hi}}}"))
                .expect("a valid regex")
                .prop_map(Value::from)
                .boxed()
        }
        FieldType::Number => {
            let lo = o.min.unwrap_or(-100.0).ceil() as i64;
            let hi = (o.max.unwrap_or(100.0).floor() as i64).max(lo);
            (lo..=hi).prop_map(Value::from).boxed()
        }
        FieldType::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        FieldType::Date => (0i64..4_000_000_000_000).prop_map(Value::from).boxed(),
        FieldType::ObjectId => "[0-9a-f]{24}".prop_map(Value::from).boxed(),
        FieldType::Mixed => json_value().boxed(),
        FieldType::Map(of) => {
            prop::collection::vec(("[a-z]{1,3}", clean_value_for(of, depth + 1)), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect()))
                .boxed()
        }
        FieldType::Array(el) => prop::collection::vec(clean_value_for(el, depth + 1), 0..3)
            .prop_map(Value::Array)
            .boxed(),
        FieldType::Object(s) => clean_object_for(s, depth + 1),
        FieldType::SubDocs(s) => prop::collection::vec(clean_object_for(s, depth + 1), 0..3)
            .prop_map(Value::Array)
            .boxed(),
    }
}

fn clean_object_for(schema: &Schema, depth: u32) -> BoxedStrategy<Value> {
    if depth > 5 {
        return Just(json!({})).boxed();
    }
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = schema
        .fields
        .iter()
        .filter(|(name, _)| name != "createdAt" && name != "updatedAt")
        .map(|(name, def)| {
            let name = name.clone();
            let value = clean_value_for(def, depth);
            if def.opts.required {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                prop::option::weighted(0.8, value)
                    .prop_map(move |v| v.map(|v| (name.clone(), v)))
                    .boxed()
            }
        })
        .collect();
    fields
        .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
        .boxed()
}

fn model_and_doc(models: BoxedStrategy<ModelDef>) -> impl Strategy<Value = (ModelDef, Value)> {
    models.prop_flat_map(|def| {
        let doc = prop_oneof![
            3 => clean_object_for(&def.schema, 0),
            3 => object_for(&def.schema, 0),
            1 => json_value(),
        ];
        (Just(def), doc)
    })
}

fn well_formed(e: &ValidationError, def: &ModelDef) -> Result<(), TestCaseError> {
    prop_assert!(!e.errors.is_empty());
    prop_assert_eq!(&e.model, &def.name);
    let j = e.to_json();
    prop_assert_eq!(&j["name"], "ValidationError");
    let summary = format!("{} validation failed", def.name);
    prop_assert_eq!(&j["_message"], &Value::from(summary.clone()));
    let message = j["message"].as_str().unwrap_or_default();
    prop_assert!(message.starts_with(&format!("{summary}: ")), "{}", message);
    prop_assert_eq!(message, e.to_string());
    let errors = j["errors"].as_object().expect("errors is an object");
    for f in &e.errors {
        prop_assert!(
            [
                "ValidatorError",
                "CastError",
                "StrictModeError",
                "ObjectParameterError"
            ]
            .contains(&f.name),
            "{}",
            f.name
        );
        prop_assert!(!f.message.is_empty() && !f.kind.is_empty());
        let fj = &errors[&f.path];
        for key in ["name", "message", "kind", "path", "value"] {
            prop_assert!(fj.get(key).is_some(), "{} lacks {}: {}", f.path, key, fj);
        }
        if f.name == "CastError" {
            prop_assert!(
                fj["valueType"].is_string() && fj["stringValue"].is_string(),
                "{}",
                fj
            );
            prop_assert!(f.message.starts_with("Cast to "), "{}", f.message);
        }
        if f.name == "ValidatorError" {
            prop_assert_eq!(&fj["properties"]["message"], &fj["message"]);
        }
    }
    Ok(())
}

/// The contract, for one model and one document.
fn check(def: &ModelDef, doc: &Value) -> Result<(), TestCaseError> {
    let inserted = at(NOW, |ctx| def.prepare_insert(doc, ctx));
    let stored = match inserted {
        Err(e) => return well_formed(&e, def),
        Ok(stored) => stored,
    };
    prop_assert!(stored["_id"].is_string());
    prop_assert_eq!(&stored["__v"], &json!(0));
    // Mongoose's minimize drops a given `{}` from a Mixed path, and the next
    // write fills in that path's default: such documents settle after one
    // more round. Everything else is a fixed point straight away.
    let stored = if has_mixed_default(&def.schema) {
        match at(NOW, |ctx| def.prepare_insert(&stored, ctx)) {
            Ok(again) => again,
            Err(e) => return well_formed(&e, def),
        }
    } else {
        stored
    };
    let mut later = stored.clone();
    if def.timestamps {
        later["updatedAt"] = json!(LATER_ISO);
    }
    let validated = at(LATER, |ctx| def.validate_updated(&stored, ctx));
    prop_assert_eq!(
        validated.as_ref(),
        Ok(&later),
        "validate_updated of {:#}",
        stored
    );
    let replaced = at(LATER, |ctx| def.prepare_replace(&stored, &stored, ctx));
    prop_assert_eq!(replaced.as_ref(), Ok(&later), "replace with {:#}", stored);
    let again = at(NOW, |ctx| def.prepare_insert(&stored, ctx));
    prop_assert_eq!(again.as_ref(), Ok(&stored), "insert of {:#}", stored);
    // Every top-level path casts its own stored value to itself.
    for (k, v) in stored.as_object().unwrap() {
        if def.strict != dmr_model::Strict::Off || def.schema.field(k).is_some() {
            prop_assert_eq!(def.cast_path(k, v), Ok(Some(v.clone())), "cast_path {}", k);
        }
    }
    Ok(())
}

fn has_mixed_default(schema: &Schema) -> bool {
    fn field(def: &FieldDef) -> bool {
        match &def.ty {
            FieldType::Mixed => def.opts.default.is_some(),
            FieldType::Object(s) | FieldType::SubDocs(s) => has_mixed_default(s),
            FieldType::Array(el) | FieldType::Map(el) => field(el),
            _ => false,
        }
    }
    schema.fields.iter().any(|(_, def)| field(def))
}

/// Every dotted path a document has, with its value.
fn paths(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, x)| (k.clone(), x)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (i.to_string(), x))
            .collect(),
        _ => return,
    };
    for (k, x) in children {
        let p = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        out.push((p.clone(), x.clone()));
        paths(x, &p, out);
    }
}

fn cast_paths_never_panic(def: &ModelDef, doc: &Value) -> Result<(), TestCaseError> {
    let mut all = Vec::new();
    paths(doc, "", &mut all);
    all.push(("items.$[].quantity".to_owned(), json!("1")));
    all.push(("tags.$".to_owned(), json!(" X ")));
    for (p, v) in &all {
        match def.cast_path(p, v) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(
                    ["CastError", "StrictModeError"].contains(&e.name),
                    "{}",
                    e.name
                );
                prop_assert!(!e.message.is_empty());
            }
        }
    }
    let update = at(LATER, |ctx| def.validate_updated(doc, ctx));
    if let Err(e) = update {
        well_formed(&e, def)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn shipped_models((def, doc) in model_and_doc(shipped().boxed())) {
        check(&def, &doc)?;
        cast_paths_never_panic(&def, &doc)?;
    }

    #[test]
    fn shipped_models_random_json(def in shipped(), doc in json_value()) {
        check(&def, &doc)?;
        cast_paths_never_panic(&def, &doc)?;
    }

    #[test]
    fn generated_models((def, doc) in model_and_doc(generated().boxed())) {
        check(&def, &doc)?;
        cast_paths_never_panic(&def, &doc)?;
    }
}

/// Sanity check on the generators: they do produce accepted documents.
#[test]
fn generators_reach_accepted_documents() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    for (models, at_least) in [(shipped().boxed(), 60), (generated().boxed(), 30)] {
        let mut runner = TestRunner::deterministic();
        let strategy = model_and_doc(models);
        let accepted = (0..300)
            .filter(|_| {
                let (def, doc) = strategy.new_tree(&mut runner).unwrap().current();
                at(NOW, |ctx| def.prepare_insert(&doc, ctx)).is_ok()
            })
            .count();
        assert!(accepted >= at_least, "only {accepted} of 300 accepted");
    }
}
