//! The query language on arbitrary input. The input is JSON: `[query, document]` puts a
//! query against a document; any other value is both. Every parser (filter, update, sort,
//! projection) must return a value or a typed error, and whatever parses must evaluate
//! without panicking; a failed update must leave the document as it was.
#![no_main]

use dmr_query::{Filter, Limits, Projection, QueryError, Sort, Update};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let (query, doc) = match &input {
        Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
        other => (other, other),
    };
    let limits = Limits::default();
    if let Ok(filter) = Filter::parse(query, &limits) {
        filter.matches(doc);
        filter.conjuncts();
        filter.text_search();
        let _ = filter.map_values(&mut |_: &str, v: Value| Ok::<_, ()>(v));
    }
    if let Ok(update) = Update::parse(query, &limits) {
        let mut target = if doc.is_object() {
            doc.clone()
        } else {
            json!({ "v": doc })
        };
        let before = target.clone();
        match update.apply(&mut target) {
            Ok(()) => assert!(target.is_object()),
            Err(e) => {
                assert!(matches!(e, QueryError::Apply { .. }), "{e:?}");
                assert_eq!(target, before, "a failed update changed the document");
            }
        }
    }
    if let Ok(sort) = Sort::parse(query) {
        assert!(sort.compare(doc, doc).is_eq());
    }
    if let Ok(projection) = Projection::parse(query) {
        projection.apply(doc);
    }
});
