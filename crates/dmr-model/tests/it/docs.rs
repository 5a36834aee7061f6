//! Every JSON example in docs/model-files.md parses (fragments are wrapped
//! in a model that declares what they refer to).

use dmr_model::parse_model;

const DOC: &str = include_str!("../../../../docs/model-files.md");

/// Fields the virtual and index examples refer to.
const CONTEXT_FIELDS: &str = r#"
  "firstName": "String", "lastName": "String", "nickname": "String", "username": "String",
  "email": "String", "isActive": "Boolean", "title": "String", "body": "String",
  "status": "String", "lastSeen": "Date", "tags": ["String"],
  "price": { "amount": "Number" },
  "inventory": { "quantity": "Number", "reserved": "Number" },
  "items": [{ "quantity": "Number" }]
"#;

fn json_blocks(doc: &str) -> Vec<&str> {
    doc.split("```json\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("unclosed block")])
        .collect()
}

fn wrap(block: &str) -> String {
    let t = block.trim_start();
    if t.starts_with('{') {
        block.to_owned()
    } else if t.starts_with("\"options\"") {
        format!(r#"{{"model": "Doc", "schema": {{}}, {block}}}"#)
    } else if t.starts_with("\"indexes\"") || t.starts_with("\"virtuals\"") {
        format!(
            r#"{{"model": "Doc", "options": {{"timestamps": true}}, "schema": {{{CONTEXT_FIELDS}}}, {block}}}"#
        )
    } else {
        format!(r#"{{"model": "Doc", "schema": {{{block}}}}}"#)
    }
}

#[test]
fn examples_parse() {
    let blocks = json_blocks(DOC);
    assert!(blocks.len() >= 12, "found only {} examples", blocks.len());
    for block in blocks {
        let src = wrap(block);
        if let Err(e) = parse_model(&src, "docs/model-files.md") {
            panic!("{e}\n{src}");
        }
    }
}

#[test]
fn documented_values_hold() {
    let src = wrap(
        r#""currency": { "type": "String", "default": " usd ", "trim": true, "uppercase": true }"#,
    );
    let def = parse_model(&src, "d").unwrap();
    let json = def.source_json();
    assert_eq!(json["schema"]["currency"]["default"], "USD");
    let src = wrap(r#""indexes": [{ "fields": { "title": "text", "body": "text" } }]"#);
    let def = parse_model(&src, "d").unwrap();
    assert_eq!(def.indexes[0].name, "title_text_body_text");
}
