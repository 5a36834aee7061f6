//! Resolving dotted document paths (`"price.amount"`, `"items.productId"`)
//! against a schema, as MongoDB reads them: arrays are transparent.

use crate::field::{FieldDef, FieldType, Schema};

pub(crate) enum Target<'a> {
    Field(&'a FieldDef),
    /// The implicit `_id` of the model or of a sub-document.
    Id,
    /// Somewhere below a `Mixed` value or a `Map` key: anything goes.
    Open,
}

pub(crate) fn resolve<'a>(schema: &'a Schema, path: &str) -> Option<Target<'a>> {
    let segs: Vec<&str> = path.split('.').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return None;
    }
    in_schema(schema, &segs)
}

fn in_schema<'a>(schema: &'a Schema, segs: &[&str]) -> Option<Target<'a>> {
    let (first, rest) = segs.split_first()?;
    if *first == "_id" && schema.id {
        return rest.is_empty().then_some(Target::Id);
    }
    in_field(schema.field(first)?, rest)
}

fn in_field<'a>(field: &'a FieldDef, segs: &[&str]) -> Option<Target<'a>> {
    if segs.is_empty() {
        return Some(Target::Field(field));
    }
    match &field.ty {
        FieldType::Object(s) | FieldType::SubDocs(s) => in_schema(s, segs),
        FieldType::Array(el) => in_field(el, segs),
        // The first segment is a map key, whatever it is.
        FieldType::Map(value) => match segs.get(1..) {
            Some([]) => Some(Target::Open),
            Some(rest) => in_field(value, rest),
            None => None,
        },
        FieldType::Mixed => Some(Target::Open),
        _ => None,
    }
}

/// Every path a schema declares, for "did you mean" hints.
pub(crate) fn all_paths(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    collect(schema, "", &mut out);
    out
}

fn collect(schema: &Schema, prefix: &str, out: &mut Vec<String>) {
    if schema.id {
        out.push(format!("{prefix}_id"));
    }
    for (name, field) in &schema.fields {
        let path = format!("{prefix}{name}");
        out.push(path.clone());
        collect_field(field, &path, out);
    }
}

fn collect_field(field: &FieldDef, path: &str, out: &mut Vec<String>) {
    match &field.ty {
        FieldType::Object(s) | FieldType::SubDocs(s) => collect(s, &format!("{path}."), out),
        FieldType::Array(el) => collect_field(el, path, out),
        _ => {}
    }
}
