//! Fingerprints of generated models: the same model, however it is written, has one
//! fingerprint; a change of meaning gives another. And no input, not even bytes that are
//! not UTF-8 text, panics the parser.

use dmr_model::{ModelDef, ModelError, parse_model};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::props::valid_model;

fn fingerprint(src: &str) -> Result<String, ModelError> {
    parse_model(src, "gen.json").map(|def| def.fingerprint)
}

/// The model with every key order that carries no meaning reversed: the top level,
/// `options`, and each index's options. (Field order is meaning: it is kept.)
fn reordered(model: &Value) -> Value {
    fn reversed(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let mut top = reversed(model);
    top["options"] = reversed(&top["options"]);
    if let Some(indexes) = top["indexes"].as_array_mut() {
        for index in indexes {
            let options = reversed(&index["options"]);
            *index = reversed(index);
            if !options.is_null() {
                index["options"] = options;
            }
        }
    }
    top
}

/// The generated models the parser accepts (the generator also makes some it refuses,
/// fields named `type` among them, for the tests of the error paths).
fn model() -> impl Strategy<Value = Value> {
    valid_model().prop_filter("a model the parser accepts", |m| {
        parse_model(&m.to_string(), "gen.json").is_ok()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn one_model_one_fingerprint(model in model()) {
        let pretty = serde_json::to_string_pretty(&model).unwrap();
        let def = parse_model(&pretty, "gen.json").unwrap_or_else(|e| panic!("{e}\n{pretty}"));
        prop_assert_eq!(def.fingerprint.len(), 16);
        prop_assert_eq!(fingerprint(&model.to_string()), Ok(def.fingerprint.clone()), "compact");
        prop_assert_eq!(
            fingerprint(&reordered(&model).to_string()),
            Ok(def.fingerprint.clone()),
            "reordered keys"
        );
        // Parsing is deterministic, and the normalised form is the same model.
        prop_assert_eq!(fingerprint(&pretty), Ok(def.fingerprint.clone()));
        let again = ModelDef::from_source_json(&def.source_json(), "db").unwrap();
        prop_assert_eq!(&again.fingerprint, &def.fingerprint);
    }

    #[test]
    fn a_new_field_is_a_new_fingerprint(model in model(), ty in prop::sample::select(vec!["String", "Number", "Date", "Boolean"])) {
        let before = fingerprint(&model.to_string()).unwrap();
        let mut changed = model.clone();
        changed["schema"]["added_field"] = json!(ty);
        prop_assert_ne!(fingerprint(&changed.to_string()).unwrap(), before.clone());
        let mut renamed = model;
        renamed["model"] = json!("Renamed");
        prop_assert_ne!(fingerprint(&renamed.to_string()).unwrap(), before);
    }

    #[test]
    fn arbitrary_bytes_give_a_located_error_or_a_model(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let src = String::from_utf8_lossy(&bytes);
        match parse_model(&src, "bytes.json") {
            Err(ModelError { line, column, .. }) => prop_assert!(line >= 1 && column >= 1),
            Ok(def) => prop_assert_eq!(def.fingerprint.len(), 16),
        }
    }

    #[test]
    fn models_inside_random_json_never_panic(model in valid_model(), junk in crate::props::json_value(), at in "[a-z]{1,8}") {
        // A valid model with one unknown or wrong-typed key: an error naming its place, or
        // (where the key is ignored) a model.
        let mut v: Value = model;
        v[&at] = junk;
        let src = serde_json::to_string_pretty(&v).unwrap();
        if let Err(ModelError { line, .. }) = parse_model(&src, "gen.json") {
            prop_assert!(line >= 1 && line <= src.lines().count().max(1));
        }
    }
}
