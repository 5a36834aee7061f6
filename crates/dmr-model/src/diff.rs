//! What changed between two versions of a model, and whether the change is breaking: a
//! change is breaking when some document valid under the old version would be rejected
//! under the new one (or would be read from elsewhere).

use std::fmt;

use serde_json::Value;

use crate::field::{FieldDef, FieldOptions, FieldType, Schema};
use crate::model::{ModelDef, Strict};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Dotted path of the field, or `(model)` for model-level changes.
    pub path: String,
    /// What changed, as a stable word a program can match on.
    pub kind: ChangeKind,
    pub breaking: bool,
    pub description: String,
}

/// What a [`Change`] is. Whether it is breaking also depends on the model (a removed
/// field breaks only under `strict: throw`; a bound breaks when it rejects more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    CollectionRenamed,
    StrictModeChanged,
    TimestampsChanged,
    FieldAdded,
    RequiredFieldAdded,
    FieldRemoved,
    TypeChanged,
    TypeWidened,
    NowRequired,
    NoLongerRequired,
    EnumAdded,
    EnumRemoved,
    EnumValuesRemoved,
    EnumValuesAdded,
    BoundTightened,
    BoundRelaxed,
    MatchChanged,
    MatchRemoved,
    SettersChanged,
    DefaultChanged,
    SubdocumentIdChanged,
    IndexAdded,
    UniqueIndexAdded,
    IndexRemoved,
    VirtualsChanged,
}

impl ChangeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CollectionRenamed => "collection_renamed",
            Self::StrictModeChanged => "strict_mode_changed",
            Self::TimestampsChanged => "timestamps_changed",
            Self::FieldAdded => "field_added",
            Self::RequiredFieldAdded => "required_field_added",
            Self::FieldRemoved => "field_removed",
            Self::TypeChanged => "type_changed",
            Self::TypeWidened => "type_widened",
            Self::NowRequired => "now_required",
            Self::NoLongerRequired => "no_longer_required",
            Self::EnumAdded => "enum_added",
            Self::EnumRemoved => "enum_removed",
            Self::EnumValuesRemoved => "enum_values_removed",
            Self::EnumValuesAdded => "enum_values_added",
            Self::BoundTightened => "bound_tightened",
            Self::BoundRelaxed => "bound_relaxed",
            Self::MatchChanged => "match_changed",
            Self::MatchRemoved => "match_removed",
            Self::SettersChanged => "setters_changed",
            Self::DefaultChanged => "default_changed",
            Self::SubdocumentIdChanged => "subdocument_id_changed",
            Self::IndexAdded => "index_added",
            Self::UniqueIndexAdded => "unique_index_added",
            Self::IndexRemoved => "index_removed",
            Self::VirtualsChanged => "virtuals_changed",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = if self.breaking {
            "BREAKING  "
        } else {
            "compatible"
        };
        write!(f, "{tag}  {}: {}", self.path, self.description)
    }
}

const MODEL: &str = "(model)";

/// Every change from `old` to `new`, model-level first, then fields in schema order.
pub fn diff(old: &ModelDef, new: &ModelDef) -> Vec<Change> {
    let mut changes = Changes(Vec::new());
    if old.collection != new.collection {
        changes.breaking(
            MODEL,
            ChangeKind::CollectionRenamed,
            format!(
                "collection {:?} -> {:?}: stored documents are read from elsewhere",
                old.collection, new.collection
            ),
        );
    }
    match (old.strict, new.strict) {
        (a, b) if a == b => {}
        (_, Strict::Throw) => changes.breaking(
            MODEL,
            ChangeKind::StrictModeChanged,
            "strict mode now throws on unknown fields",
        ),
        (a, b) => changes.compatible(
            MODEL,
            ChangeKind::StrictModeChanged,
            format!("strict mode {a:?} -> {b:?}"),
        ),
    }
    if old.timestamps != new.timestamps {
        changes.compatible(
            MODEL,
            ChangeKind::TimestampsChanged,
            format!("timestamps {} -> {}", old.timestamps, new.timestamps),
        );
    }
    schema(&mut changes, "", &old.schema, &new.schema, new.strict);
    for index in &new.indexes {
        if !old.indexes.iter().any(|o| o.keys == index.keys) {
            let rejects = index.unique;
            let kind = if rejects {
                ChangeKind::UniqueIndexAdded
            } else {
                ChangeKind::IndexAdded
            };
            changes.push(
                MODEL,
                kind,
                rejects,
                format!(
                    "index {} added{}",
                    index.name,
                    if rejects {
                        " (unique: duplicates are rejected)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    for index in &old.indexes {
        if !new.indexes.iter().any(|n| n.keys == index.keys) {
            changes.compatible(
                MODEL,
                ChangeKind::IndexRemoved,
                format!("index {} removed", index.name),
            );
        }
    }
    let names = |d: &ModelDef| {
        d.virtuals
            .iter()
            .map(|v| v.name.clone())
            .collect::<Vec<_>>()
    };
    if names(old) != names(new) || old.virtuals != new.virtuals {
        changes.compatible(MODEL, ChangeKind::VirtualsChanged, "virtuals changed");
    }
    changes.0
}

struct Changes(Vec<Change>);

impl Changes {
    fn push(
        &mut self,
        path: &str,
        kind: ChangeKind,
        breaking: bool,
        description: impl Into<String>,
    ) {
        self.0.push(Change {
            path: path.to_owned(),
            kind,
            breaking,
            description: description.into(),
        });
    }

    fn breaking(&mut self, path: &str, kind: ChangeKind, description: impl Into<String>) {
        self.push(path, kind, true, description);
    }

    fn compatible(&mut self, path: &str, kind: ChangeKind, description: impl Into<String>) {
        self.push(path, kind, false, description);
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn schema(changes: &mut Changes, prefix: &str, old: &Schema, new: &Schema, strict: Strict) {
    for (name, new_field) in &new.fields {
        let path = join(prefix, name);
        match old.field(name) {
            Some(old_field) => field(changes, &path, old_field, new_field, strict),
            None => {
                let fills_itself = new_field.opts.default.is_some()
                    || matches!(new_field.ty, FieldType::Array(_) | FieldType::SubDocs(_));
                if new_field.opts.required && !fills_itself {
                    changes.breaking(
                        &path,
                        ChangeKind::RequiredFieldAdded,
                        "new required field without a default",
                    );
                } else {
                    changes.compatible(&path, ChangeKind::FieldAdded, "field added");
                }
            }
        }
    }
    for (name, _) in &old.fields {
        if new.field(name).is_none() {
            let path = join(prefix, name);
            if strict == Strict::Throw {
                changes.breaking(
                    &path,
                    ChangeKind::FieldRemoved,
                    "field removed: documents that have it are now rejected (strict: throw)",
                );
            } else {
                changes.compatible(
                    &path,
                    ChangeKind::FieldRemoved,
                    "field removed: its values are no longer stored",
                );
            }
        }
    }
    if old.id != new.id {
        changes.compatible(
            prefix,
            ChangeKind::SubdocumentIdChanged,
            format!("sub-document _id {} -> {}", old.id, new.id),
        );
    }
}

fn field(changes: &mut Changes, path: &str, old: &FieldDef, new: &FieldDef, strict: Strict) {
    match (&old.ty, &new.ty) {
        (FieldType::Object(a), FieldType::Object(b))
        | (FieldType::SubDocs(a), FieldType::SubDocs(b)) => {
            schema(changes, path, a, b, strict);
        }
        (FieldType::Array(a), FieldType::Array(b)) | (FieldType::Map(a), FieldType::Map(b)) => {
            field(changes, &format!("{path}.$"), a, b, strict);
        }
        (a, b) if a == b => {}
        (_, FieldType::Mixed) => changes.compatible(
            path,
            ChangeKind::TypeWidened,
            format!("type {} -> Mixed", old.ty.name()),
        ),
        (a, b) => changes.breaking(
            path,
            ChangeKind::TypeChanged,
            format!("type {} -> {}", a.name(), b.name()),
        ),
    }
    options(changes, path, &old.opts, &new.opts);
}

fn options(changes: &mut Changes, path: &str, old: &FieldOptions, new: &FieldOptions) {
    if new.required && !old.required {
        if new.default.is_some() {
            changes.compatible(
                path,
                ChangeKind::NowRequired,
                "now required (new documents get the default)",
            );
        } else {
            changes.breaking(path, ChangeKind::NowRequired, "now required");
        }
    } else if old.required && !new.required {
        changes.compatible(path, ChangeKind::NoLongerRequired, "no longer required");
    }
    enum_values(
        changes,
        path,
        old.enum_values.as_deref(),
        new.enum_values.as_deref(),
    );
    bound(changes, path, "min", old.min, new.min, |o, n| n > o);
    bound(changes, path, "max", old.max, new.max, |o, n| n < o);
    bound(
        changes,
        path,
        "minlength",
        old.minlength.map(|v| v as f64),
        new.minlength.map(|v| v as f64),
        |o, n| n > o,
    );
    bound(
        changes,
        path,
        "maxlength",
        old.maxlength.map(|v| v as f64),
        new.maxlength.map(|v| v as f64),
        |o, n| n < o,
    );
    let (old_match, new_match) = (old.match_pattern.as_ref(), new.match_pattern.as_ref());
    if old_match != new_match {
        match new_match {
            Some(_) => changes.breaking(
                path,
                ChangeKind::MatchChanged,
                format!("match {old_match:?} -> {new_match:?}"),
            ),
            None => changes.compatible(path, ChangeKind::MatchRemoved, "match removed"),
        }
    }
    if (old.trim, old.lowercase, old.uppercase) != (new.trim, new.lowercase, new.uppercase) {
        changes.compatible(
            path,
            ChangeKind::SettersChanged,
            "setters (trim/lowercase/uppercase) changed: new writes are normalised differently",
        );
    }
    if old.default != new.default {
        changes.compatible(path, ChangeKind::DefaultChanged, "default changed");
    }
}

/// A narrowed enum (a value removed, or an enum where there was none) is breaking.
fn enum_values(changes: &mut Changes, path: &str, old: Option<&[Value]>, new: Option<&[Value]>) {
    match (old, new) {
        (None, None) => {}
        (None, Some(_)) => changes.breaking(path, ChangeKind::EnumAdded, "enum added"),
        (Some(_), None) => changes.compatible(path, ChangeKind::EnumRemoved, "enum removed"),
        (Some(old), Some(new)) => {
            let removed: Vec<&Value> = old.iter().filter(|v| !new.contains(v)).collect();
            let added: Vec<&Value> = new.iter().filter(|v| !old.contains(v)).collect();
            if !removed.is_empty() {
                changes.breaking(
                    path,
                    ChangeKind::EnumValuesRemoved,
                    format!("enum values removed: {}", list(&removed)),
                );
            }
            if !added.is_empty() {
                changes.compatible(
                    path,
                    ChangeKind::EnumValuesAdded,
                    format!("enum values added: {}", list(&added)),
                );
            }
        }
    }
}

fn list(values: &[&Value]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bound added, or moved so that it rejects more, is breaking.
fn bound(
    changes: &mut Changes,
    path: &str,
    name: &str,
    old: Option<f64>,
    new: Option<f64>,
    stricter: impl Fn(f64, f64) -> bool,
) {
    match (old, new) {
        (None, Some(n)) => changes.breaking(
            path,
            ChangeKind::BoundTightened,
            format!("{name} {n} added"),
        ),
        (Some(o), None) => changes.compatible(
            path,
            ChangeKind::BoundRelaxed,
            format!("{name} {o} removed"),
        ),
        (Some(o), Some(n)) if o != n => {
            let tightened = stricter(o, n);
            let kind = if tightened {
                ChangeKind::BoundTightened
            } else {
                ChangeKind::BoundRelaxed
            };
            changes.push(path, kind, tightened, format!("{name} {o} -> {n}"))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(schema: &str, extra: &str) -> ModelDef {
        let src = format!(r#"{{"model":"M","collection":"ms","schema":{schema}{extra}}}"#);
        crate::parse_model(&src, "m.json").unwrap()
    }

    fn breaking(old: &str, new: &str) -> Vec<String> {
        diff(&model(old, ""), &model(new, ""))
            .into_iter()
            .filter(|c| c.breaking)
            .map(|c| format!("{}: {}", c.path, c.description))
            .collect()
    }

    #[test]
    fn identical_models_have_no_changes() {
        let s = r#"{"a":{"type":"String","enum":["x","y"],"required":true}}"#;
        assert!(diff(&model(s, ""), &model(s, "")).is_empty());
    }

    #[test]
    fn new_required_field_without_default_is_breaking() {
        assert_eq!(
            breaking(
                r#"{"a":"String"}"#,
                r#"{"a":"String","b":{"type":"String","required":true}}"#
            ),
            ["b: new required field without a default"]
        );
        assert!(
            breaking(
                r#"{"a":"String"}"#,
                r#"{"a":"String","b":{"type":"String","required":true,"default":"x"}}"#
            )
            .is_empty()
        );
        assert!(breaking(r#"{"a":"String"}"#, r#"{"a":"String","b":"Number"}"#).is_empty());
    }

    #[test]
    fn narrowed_enums_and_ranges_are_breaking_widened_are_not() {
        let e = |values: &str| format!(r#"{{"s":{{"type":"String","enum":{values}}}}}"#);
        assert_eq!(
            breaking(&e(r#"["a","b"]"#), &e(r#"["a"]"#)),
            [r#"s: enum values removed: "b""#]
        );
        assert!(breaking(&e(r#"["a"]"#), &e(r#"["a","b"]"#)).is_empty());

        let n = |range: &str| format!(r#"{{"n":{{"type":"Number"{range}}}}}"#);
        assert_eq!(
            breaking(&n(r#","min":0"#), &n(r#","min":1"#)),
            ["n: min 0 -> 1"]
        );
        assert!(breaking(&n(r#","min":1"#), &n(r#","min":0"#)).is_empty());
        assert_eq!(
            breaking(&n(r#","max":10"#), &n(r#","max":5"#)),
            ["n: max 10 -> 5"]
        );
        assert_eq!(breaking(&n(""), &n(r#","max":5"#)), ["n: max 5 added"]);
        assert!(breaking(&n(r#","max":5"#), &n("")).is_empty());
    }

    #[test]
    fn type_changes_are_breaking_except_to_mixed() {
        assert_eq!(
            breaking(r#"{"a":"String"}"#, r#"{"a":"Number"}"#),
            ["a: type String -> Number"]
        );
        assert!(breaking(r#"{"a":"String"}"#, r#"{"a":"Mixed"}"#).is_empty());
    }

    #[test]
    fn nested_and_subdocument_paths_are_compared() {
        assert_eq!(
            breaking(
                r#"{"price":{"amount":{"type":"Number","min":0}},"items":[{"q":{"type":"Number","min":1}}]}"#,
                r#"{"price":{"amount":{"type":"Number","min":1}},"items":[{"q":{"type":"Number","min":2}}]}"#
            ),
            ["price.amount: min 0 -> 1", "items.q: min 1 -> 2"]
        );
        assert_eq!(
            breaking(r#"{"tags":["String"]}"#, r#"{"tags":["Number"]}"#),
            ["tags.$: type String -> Number"]
        );
    }

    #[test]
    fn model_level_changes() {
        let old = model(r#"{"a":"String"}"#, "");
        let moved = crate::parse_model(
            r#"{"model":"M","collection":"other","schema":{"a":"String"}}"#,
            "m",
        )
        .unwrap();
        assert!(diff(&old, &moved)[0].breaking);
        let throw = model(r#"{"a":"String"}"#, r#","options":{"strict":"throw"}"#);
        assert!(diff(&old, &throw)[0].breaking);
        let unique = model(r#"{"a":{"type":"String","unique":true}}"#, "");
        let changes = diff(&old, &unique);
        assert!(
            changes
                .iter()
                .any(|c| c.breaking && c.description.contains("unique")),
            "{changes:?}"
        );
    }
}
