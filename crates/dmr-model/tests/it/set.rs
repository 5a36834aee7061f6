//! ModelSet: every error of every file, and names unique across files.

use dmr_model::ModelSet;

use crate::{USER, pos};

fn src(origin: &str, text: &str) -> (String, String) {
    (origin.to_owned(), text.to_owned())
}

#[test]
fn duplicate_model_name_is_reported_in_the_second_file() {
    let second = "{\n  \"collection\": \"people\",\n  \"model\": \"User\",\n  \"schema\": {}\n}";
    let errors = ModelSet::from_sources(vec![
        src("models/User.json", USER),
        src("models/User2.json", second),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(e.origin, "models/User2.json");
    assert_eq!((e.line, e.column), (3, 12));
    assert_eq!(
        e.reason,
        "duplicate model name \"User\" (already defined in models/User.json)"
    );
}

#[test]
fn duplicate_collection_names() {
    let explicit = r#"{"model": "Person", "collection": "users", "schema": {}}"#;
    let defaulted = r#"{"model": "Users", "schema": {}}"#;
    let errors = ModelSet::from_sources(vec![
        src("models/User.json", USER),
        src("models/Person.json", explicit),
        src("models/Users.json", defaulted),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].origin, "models/Person.json");
    assert_eq!(
        (errors[0].line, errors[0].column),
        pos(explicit, "\"users\"")
    );
    assert_eq!(
        errors[0].reason,
        "model \"Person\" uses collection \"users\", already used by models/User.json"
    );
    // No "collection" key: the error points at "model", whose name gave "users".
    assert_eq!(errors[1].origin, "models/Users.json");
    assert_eq!(
        (errors[1].line, errors[1].column),
        pos(defaulted, "\"Users\"")
    );
}

#[test]
fn model_names_clash_case_insensitively() {
    let errors = ModelSet::from_sources(vec![
        src("a.json", r#"{"model": "Item", "schema": {}}"#),
        src(
            "b.json",
            r#"{"model": "ITEM", "collection": "other", "schema": {}}"#,
        ),
    ])
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].origin, "b.json");
}

#[test]
fn collects_every_error_of_every_file() {
    let errors = ModelSet::from_sources(vec![
        src("a.json", "{"),
        src("b.json", r#"{"model": "B", "schema": {"x": "Strng"}}"#),
        src("ok.json", r#"{"model": "Ok", "schema": {}}"#),
        src("c.json", r#"{"schema": {}}"#),
        src(
            "d.json",
            r#"{"model": "Ok", "collection": "oks2", "schema": {}}"#,
        ),
    ])
    .unwrap_err();
    let origins: Vec<&str> = errors.iter().map(|e| e.origin.as_str()).collect();
    assert_eq!(origins, ["a.json", "b.json", "c.json", "d.json"]);
    assert!(errors.iter().all(|e| e.line >= 1 && e.column >= 1));
}

#[test]
fn empty_set() {
    let set = ModelSet::from_sources(Vec::new()).unwrap();
    assert!(set.is_empty());
    assert_eq!(set.len(), 0);
    assert_eq!(set.names().count(), 0);
    assert!(ModelSet::default().is_empty());
}
