//! The built-in validators of one path, run on its cast value, with
//! Mongoose's default messages and templating.
//!
//! As in Mongoose, `required` runs first, a missing value is checked by
//! `required` only, the other validators pass `null`, and only the first
//! failing validator of a path is reported. The rest run in a fixed order
//! (enum, min, max, minlength, maxlength, match) where Mongoose follows the
//! order the options were declared in.

use serde_json::Value;

use crate::defaults::enum_contains;
use crate::doc_path::DocPath;
use crate::field::{FieldDef, FieldType};
use crate::js;
use crate::validation_error::FieldError;

/// Whether a field has any validator at all (lets callers skip work).
pub(crate) fn has_rules(def: &FieldDef) -> bool {
    let o = &def.opts;
    o.required
        || o.enum_values.is_some()
        || o.min.is_some()
        || o.max.is_some()
        || o.minlength.is_some()
        || o.maxlength.is_some()
        || o.match_pattern.is_some()
}

/// The first failing validator of the value at `path` (`None`: missing).
pub(crate) fn check(def: &FieldDef, value: Option<&Value>, path: &DocPath) -> Option<FieldError> {
    let o = &def.opts;
    if o.required && !passes_required(&def.ty, value) {
        let msg = o
            .required_message
            .as_deref()
            .unwrap_or("Path `{PATH}` is required.");
        return Some(error("required", path, value, msg, &[]));
    }
    let v = match value {
        None | Some(Value::Null) => return None,
        Some(v) => v,
    };
    if let Some(values) = o
        .enum_values
        .as_ref()
        .filter(|vals| !enum_contains(vals, v))
    {
        let msg = o
            .enum_message
            .as_deref()
            .unwrap_or("`{VALUE}` is not a valid enum value for path `{PATH}`.");
        let list = js::to_string(Some(&Value::Array(values.clone())));
        return Some(error("enum", path, value, msg, &[("ENUMVALUES", list)]));
    }
    if let Some(x) = v.as_f64().filter(|_| v.is_number()) {
        if let Some(min) = o.min.filter(|min| x < *min) {
            let msg = o
                .min_message
                .as_deref()
                .unwrap_or("Path `{PATH}` ({VALUE}) is less than minimum allowed value ({MIN}).");
            return Some(error(
                "min",
                path,
                value,
                msg,
                &[("MIN", js::format_number(min))],
            ));
        }
        if let Some(max) = o.max.filter(|max| x > *max) {
            let msg = o
                .max_message
                .as_deref()
                .unwrap_or("Path `{PATH}` ({VALUE}) is more than maximum allowed value ({MAX}).");
            return Some(error(
                "max",
                path,
                value,
                msg,
                &[("MAX", js::format_number(max))],
            ));
        }
    }
    if let Value::String(s) = v {
        let len = js::utf16_len(s) as u64;
        if let Some(min) = o.minlength.filter(|min| len < *min) {
            let msg = o.minlength_message.as_deref().unwrap_or(
                "Path `{PATH}` (`{VALUE}`) is shorter than the minimum allowed length ({MINLENGTH}).",
            );
            return Some(error(
                "minlength",
                path,
                value,
                msg,
                &[("MINLENGTH", min.to_string())],
            ));
        }
        if let Some(max) = o.maxlength.filter(|max| len > *max) {
            let msg = o.maxlength_message.as_deref().unwrap_or(
                "Path `{PATH}` (`{VALUE}`) is longer than the maximum allowed length ({MAXLENGTH}).",
            );
            return Some(error(
                "maxlength",
                path,
                value,
                msg,
                &[("MAXLENGTH", max.to_string())],
            ));
        }
        // Mongoose's match validator lets "" through.
        if let Some(p) = o
            .match_pattern
            .as_ref()
            .filter(|p| !s.is_empty() && !p.is_match(s))
        {
            let msg = o
                .match_message
                .as_deref()
                .unwrap_or("Path `{PATH}` is invalid ({VALUE}).");
            return Some(error(
                "regexp",
                path,
                value,
                msg,
                &[("REGEXP", format!("/{p}/"))],
            ));
        }
    }
    None
}

/// Mongoose's `checkRequired`: not null or undefined, and for strings not
/// empty. Arrays pass even when empty (Mongoose 8).
fn passes_required(ty: &FieldType, v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if *ty == FieldType::String => !s.is_empty(),
        Some(_) => true,
    }
}

fn error(
    kind: &str,
    path: &DocPath,
    value: Option<&Value>,
    template: &str,
    extra: &[(&str, String)],
) -> FieldError {
    let path = path.to_string();
    let mut props: Vec<(&str, String)> = vec![
        ("TYPE", kind.to_owned()),
        ("PATH", path.clone()),
        ("VALUE", js::to_string(value)),
    ];
    props.extend(extra.iter().cloned());
    FieldError::validator(
        kind,
        &path,
        value.cloned().unwrap_or(Value::Null),
        format_message(template, &props),
    )
}

/// Mongoose's `formatMessage`: each `{PROPERTY}` replaced once (JavaScript's
/// `String#replace` with a string pattern replaces the first occurrence).
fn format_message(template: &str, props: &[(&str, String)]) -> String {
    let mut msg = template.to_owned();
    for (name, value) in props {
        let placeholder = format!("{{{name}}}");
        if let Some(at) = msg.find(&placeholder) {
            msg.replace_range(at..at + placeholder.len(), value);
        }
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templating_replaces_the_first_occurrence() {
        let props = [("PATH", "a".to_owned()), ("VALUE", "{PATH}".to_owned())];
        assert_eq!(
            format_message("{PATH} {PATH} {VALUE}", &props),
            "a {PATH} {PATH}"
        );
        assert_eq!(format_message("no placeholders", &props), "no placeholders");
    }
}
