//! Whatever the input, the parser returns a located error or a definition
//! that survives its own normalisation; it never panics.

use dmr_model::{ModelDef, ModelError, parse_model};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};

use crate::{ORDER, PRODUCT, USER};

/// Words the parser reacts to, so random documents get past the first check.
const WORDS: &[&str] = &[
    "model",
    "collection",
    "options",
    "schema",
    "indexes",
    "virtuals",
    "timestamps",
    "strict",
    "throw",
    "type",
    "required",
    "default",
    "enum",
    "min",
    "max",
    "minlength",
    "maxlength",
    "match",
    "lowercase",
    "uppercase",
    "trim",
    "unique",
    "index",
    "sparse",
    "expires",
    "of",
    "_id",
    "fields",
    "name",
    "expireAfterSeconds",
    "values",
    "message",
    "String",
    "Number",
    "Boolean",
    "Date",
    "ObjectId",
    "Mixed",
    "Map",
    "Array",
    "text",
    "$now",
    "$generate",
    "{now:36}-{random:36:5}",
    "{bad}",
    "$concat",
    "$add",
    "$subtract",
    "$multiply",
    "$divide",
    "$sum",
    "$size",
    "$ifNull",
    "$literal",
    "$a",
    "$a.b",
    "a",
    "a.b",
    "b",
    "User",
    "1h",
    "system.x",
    "2024-01-31",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..5).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Parses, and checks the contract: a located error, or a definition whose
/// normalised form parses back to an equal definition.
fn check(src: &str) -> Result<(), TestCaseError> {
    match parse_model(src, "p.json") {
        Err(ModelError {
            line,
            column,
            origin,
            ..
        }) => {
            prop_assert_eq!(origin, "p.json");
            prop_assert!(line >= 1 && column >= 1);
            prop_assert!(line <= src.split('\n').count().max(1));
        }
        Ok(def) => {
            prop_assert_eq!(def.fingerprint.len(), 16);
            let again = ModelDef::from_source_json(&def.source_json(), "db");
            prop_assert_eq!(again.as_ref(), Ok(&def), "{}", def.source_json());
        }
    }
    Ok(())
}

/// Every JSON pointer of a value, root included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn shipped() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![USER, PRODUCT, ORDER])
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, char),
    Duplicate(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ch = prop::sample::select("{}[]\":,.$-_ 019aeStrinumx\n\\".chars().collect::<Vec<_>>());
    prop_oneof![
        (any::<Index>(), 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), ch).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<Index>(), 1usize..40).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

/// The shipped files are ASCII, and so is every edit, so byte offsets are
/// character boundaries.
fn apply(src: &str, edits: &[Edit]) -> String {
    let mut s = src.to_owned();
    for e in edits {
        let len = s.len();
        match e {
            Edit::Delete(i, n) => {
                let at = i.index(len.max(1)).min(len);
                s.replace_range(at..(at + n).min(len), "");
            }
            Edit::Insert(i, c) => s.insert(i.index(len + 1), *c),
            Edit::Duplicate(i, n) => {
                let at = i.index(len.max(1)).min(len);
                let piece = s[at..(at + n).min(len)].to_owned();
                s.insert_str(at, &piece);
            }
        }
    }
    s
}

/// A scalar field in one of its many spellings, with options that apply.
fn scalar_field() -> impl Strategy<Value = Value> {
    let string = (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            json!(1),
            json!(-1),
            json!(true),
            json!("text"),
        ])),
        any::<bool>(),
        prop::option::of(prop::sample::subsequence(vec!["a", "b", "c"], 1..3)),
        prop::option::of(0u64..4),
        any::<bool>(),
    )
        .prop_map(
            |(required, trim, index, unique, en, minlength, generated)| {
                let mut m = Map::new();
                m.insert("type".into(), json!("String"));
                if required {
                    m.insert("required".into(), json!([true, "needed"]));
                }
                if trim {
                    m.insert("trim".into(), json!(true));
                    m.insert("lowercase".into(), json!(true));
                }
                if let Some(i) = index {
                    m.insert("index".into(), i);
                }
                if unique {
                    m.insert("unique".into(), json!(true));
                }
                if let Some(n) = minlength {
                    m.insert("minlength".into(), json!([n, "too short"]));
                    m.insert("maxlength".into(), json!(n + 3));
                }
                match en {
                    Some(values) => {
                        m.insert("default".into(), json!(values[0]));
                        m.insert("enum".into(), json!({"values": values, "message": "nope"}));
                    }
                    None if generated => {
                        m.insert(
                            "default".into(),
                            json!({"$generate": "X-{now:36}-{random:16:4}"}),
                        );
                    }
                    None => {}
                }
                m.insert("match".into(), json!("^[a-z]*$"));
                Value::Object(m)
            },
        );
    let number = (
        prop::option::of(-5i64..5),
        prop::option::of(0.5f64..9.0),
        any::<bool>(),
    )
        .prop_map(|(min, max, sparse)| {
            let mut m = Map::new();
            m.insert("type".into(), json!("Number"));
            if let Some(min) = min {
                m.insert("min".into(), json!(min));
                m.insert("default".into(), json!(min));
            }
            if let Some(max) = max {
                m.insert("max".into(), json!([max + 5.0, "too big"]));
            }
            if sparse {
                m.insert("sparse".into(), json!(true));
            }
            Value::Object(m)
        });
    prop_oneof![
        prop::sample::select(vec![
            "String",
            "Number",
            "Boolean",
            "Date",
            "ObjectId",
            "Mixed",
            "Array",
            "Schema.Types.ObjectId"
        ])
        .prop_map(Value::from),
        string,
        number,
        Just(json!({"type": "Date", "default": "$now", "expires": "1h"})),
        Just(json!({"type": "Date", "default": "2024-01-31T00:00:00Z", "index": -1})),
        Just(json!({"type": "Boolean", "default": false, "required": true})),
        Just(json!({"type": "ObjectId", "default": "0123456789abcdef01234567"})),
        Just(
            json!({"type": "Map", "of": {"type": "String", "trim": true}, "default": {"k": " v "}})
        ),
        Just(json!({"type": "Mixed", "default": {"a": [1, {"$x": null}]}})),
        Just(json!({})),
        Just(json!([])),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "type", "name", "items", "price", "x_1"])
        .prop_map(str::to_owned)
}

/// Fields nested through arrays, nested objects and sub-documents.
fn valid_field() -> impl Strategy<Value = Value> {
    scalar_field().prop_recursive(3, 24, 4, |inner| {
        let fields = |inner: BoxedStrategy<Value>| {
            prop::collection::vec((field_name(), inner), 1..4)
                .prop_map(|kv| kv.into_iter().collect::<Map<_, _>>())
        };
        prop_oneof![
            inner.clone().prop_map(|f| json!([no_default(f)])),
            inner
                .clone()
                .prop_map(|f| json!({"type": [no_default(f)], "required": true})),
            fields(inner.clone()).prop_map(|m| {
                // A lone field called "type" would make this a field object.
                if m.contains_key("type") {
                    json!({"nested": Value::Object(m)})
                } else {
                    Value::Object(m)
                }
            }),
            (fields(inner), any::<bool>()).prop_map(|(mut m, id)| {
                m.insert("_id".into(), json!(id));
                json!([Value::Object(m)])
            }),
        ]
    })
}

/// Array elements cannot have defaults; sub-document fields can.
fn no_default(mut f: Value) -> Value {
    if let Some(m) = f.as_object_mut().filter(|m| m.contains_key("type")) {
        m.remove("default");
    }
    f
}

pub(crate) fn valid_model() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec((field_name(), valid_field()), 1..6),
        any::<bool>(),
        prop::sample::select(vec![json!(true), json!(false), json!("throw")]),
        prop::collection::vec(
            (
                any::<Index>(),
                prop::sample::select(vec![json!(1), json!(-1)]),
            ),
            2..3,
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec!["$concat", "$add", "$ifNull", "$sum", "$size"]),
                any::<Index>(),
            ),
            0..3,
        ),
    )
        .prop_map(|(fields, timestamps, strict, index, virtuals)| {
            let schema: Map<_, _> = fields.into_iter().collect();
            let names: Vec<&String> = schema.keys().collect();
            let virtuals: Map<_, _> = virtuals
                .into_iter()
                .enumerate()
                .map(|(i, (op, at))| {
                    let path = names[at.index(names.len())];
                    let arg = match op {
                        "$sum" | "$size" => json!(format!("${path}")),
                        _ => json!([format!("${path}"), {"$literal": "$"}, 1.5]),
                    };
                    (format!("v{i}"), json!({ op: arg }))
                })
                .collect();
            // Compound, so it never repeats a field-level (single-key) index.
            let fields: Map<_, _> = index
                .into_iter()
                .map(|(at, dir)| (names[at.index(names.len())].clone(), dir))
                .collect();
            let indexes = if fields.len() > 1 {
                json!([{"fields": fields, "options": {"sparse": true, "background": true}}])
            } else {
                json!([])
            };
            json!({
                "model": "Gen",
                "options": {"timestamps": timestamps, "strict": strict},
                "schema": schema,
                "indexes": indexes,
                "virtuals": virtuals,
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_documents(v in json_value()) {
        check(&v.to_string())?;
        check(&serde_json::to_string_pretty(&v).unwrap())?;
    }

    #[test]
    fn random_schemas(schema in json_value(), indexes in json_value(), virtuals in json_value()) {
        let mut top = Map::new();
        top.insert("model".into(), Value::from("M"));
        top.insert("schema".into(), schema);
        let doc = Value::Object(top.clone());
        check(&serde_json::to_string_pretty(&doc).unwrap())?;
        top.insert("indexes".into(), indexes);
        top.insert("virtuals".into(), virtuals);
        check(&serde_json::to_string_pretty(&Value::Object(top)).unwrap())?;
    }

    #[test]
    fn generated_models(v in valid_model()) {
        check(&serde_json::to_string_pretty(&v).unwrap())?;
    }

    #[test]
    fn random_text(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn text_mutations_of_shipped_files(src in shipped(), edits in prop::collection::vec(edit(), 1..4)) {
        check(&apply(src, &edits))?;
    }

    #[test]
    fn value_mutations_of_shipped_files(src in shipped(), at in any::<Index>(), replacement in json_value()) {
        let mut v: Value = serde_json::from_str(src).unwrap();
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let target = &all[at.index(all.len())];
        if let Some(slot) = v.pointer_mut(target) {
            *slot = replacement;
        }
        check(&serde_json::to_string_pretty(&v).unwrap())?;
    }
}
