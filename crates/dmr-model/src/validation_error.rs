//! Why a document was rejected, in Mongoose's shapes and words, so clients
//! written against the Node service read our errors unchanged.

use std::fmt;

use dmr_error_code::{CodedError, ErrorCode};
use serde_json::{Map, Value};

use crate::js;

/// One failing path: a Mongoose `ValidatorError`, `CastError` or
/// `StrictModeError`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// `"ValidatorError"`, `"CastError"` or `"StrictModeError"`
    /// (`"ObjectParameterError"` when the document is not an object at all).
    pub name: &'static str,
    /// The validator (`required`, `enum`, `min`, `max`, `minlength`,
    /// `maxlength`, `regexp`, `unique`), the cast target (`Number`, `string`,
    /// `date`, `Boolean`, `ObjectId`, `Map`, `Object`, `embedded`, `[Number]`,
    /// ...), or `strict`.
    pub kind: String,
    /// Dotted, with array indexes: `items.0.quantity`.
    pub path: String,
    /// The offending value (`null` where Mongoose's is `undefined`).
    pub value: Value,
    pub message: String,
}

impl FieldError {
    /// Mongoose's CastError: `Cast to Number failed for value "abc" (type
    /// string) at path "price.amount"`, with `because of "X"` when Mongoose
    /// names the underlying error (`reason`).
    pub(crate) fn cast(
        kind: impl Into<String>,
        value: Value,
        path: &str,
        reason: Option<&str>,
    ) -> Self {
        let kind = kind.into();
        let because = reason.map_or(String::new(), |r| format!(" because of \"{r}\""));
        let message = format!(
            "Cast to {kind} failed for value {} (type {}) at path \"{path}\"{because}",
            js::string_value(&value),
            js::type_name(&value)
        );
        FieldError {
            name: "CastError",
            kind,
            path: path.to_owned(),
            value,
            message,
        }
    }

    pub(crate) fn validator(kind: &str, path: &str, value: Value, message: String) -> Self {
        FieldError {
            name: "ValidatorError",
            kind: kind.to_owned(),
            path: path.to_owned(),
            value,
            message,
        }
    }

    pub(crate) fn strict(path: &str, value: Value) -> Self {
        FieldError {
            name: "StrictModeError",
            kind: "strict".to_owned(),
            path: path.to_owned(),
            value,
            message: format!("Field `{path}` is not in schema and strict mode is set to throw."),
        }
    }

    /// The JSON Mongoose's `toJSON` gives. ValidatorErrors carry
    /// `properties`; CastErrors `stringValue` and `valueType`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_owned(), v);
        };
        put("name", Value::from(self.name));
        put("message", Value::from(self.message.clone()));
        if self.name == "ValidatorError" {
            let mut p = Map::new();
            p.insert("message".to_owned(), Value::from(self.message.clone()));
            p.insert("type".to_owned(), Value::from(self.kind.clone()));
            p.insert("path".to_owned(), Value::from(self.path.clone()));
            p.insert("value".to_owned(), self.value.clone());
            put("properties", Value::Object(p));
        }
        put("kind", Value::from(self.kind.clone()));
        put("path", Value::from(self.path.clone()));
        put("value", self.value.clone());
        if self.name == "CastError" {
            put("valueType", Value::from(js::type_name(&self.value)));
            put("stringValue", Value::from(js::string_value(&self.value)));
        }
        Value::Object(m)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A rejected document: every failing path, strict-mode errors first, then
/// in schema order. `Display` is Mongoose's message:
/// `User validation failed: email: Path `email` is required., age: ...`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ValidationError {
    pub model: String,
    pub errors: Vec<FieldError>,
}

impl ValidationError {
    /// A duplicate key reported by a store, shaped as mongoose-unique-validator
    /// reports it (a ValidatorError of kind `unique`), because that is what
    /// clients of Mongoose services handle; Mongoose itself would surface
    /// the driver's `MongoServerError` E11000.
    pub fn unique(model: &str, path: &str, value: Value) -> Self {
        let message = format!(
            "Path `{path}` must be unique. Value: `{}`",
            js::to_string(Some(&value))
        );
        ValidationError {
            model: model.to_owned(),
            errors: vec![FieldError::validator("unique", path, value, message)],
        }
    }

    /// `<Model> validation failed`, Mongoose's `_message`.
    pub fn summary(&self) -> String {
        format!("{} validation failed", self.model)
    }

    /// `{"errors": {path: FieldError json, ...}, "_message", "name":
    /// "ValidationError", "message"}`, as Mongoose's `toJSON`.
    pub fn to_json(&self) -> Value {
        let errors: Map<String, Value> = self
            .errors
            .iter()
            .map(|e| (e.path.clone(), e.to_json()))
            .collect();
        let mut m = Map::new();
        m.insert("errors".to_owned(), Value::Object(errors));
        m.insert("_message".to_owned(), Value::from(self.summary()));
        m.insert("name".to_owned(), Value::from("ValidationError"));
        m.insert("message".to_owned(), Value::from(self.to_string()));
        Value::Object(m)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for (i, e) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { ", " })?;
            if !e.path.is_empty() {
                write!(f, "{}: ", e.path)?;
            }
            f.write_str(&e.message)?;
        }
        Ok(())
    }
}

impl CodedError for ValidationError {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::ValidationFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cast_error_shape() {
        let e = FieldError::cast("Number", json!("abc"), "price.amount", None);
        assert_eq!(
            e.message,
            "Cast to Number failed for value \"abc\" (type string) at path \"price.amount\""
        );
        assert_eq!(
            e.to_json(),
            json!({
                "name": "CastError",
                "message": e.message,
                "kind": "Number",
                "path": "price.amount",
                "value": "abc",
                "valueType": "string",
                "stringValue": "\"abc\"",
            })
        );
        let e = FieldError::cast("ObjectId", json!({"a": 1}), "x", Some("BSONError"));
        assert_eq!(
            e.message,
            "Cast to ObjectId failed for value \"{ a: 1 }\" (type Object) at path \"x\" because of \"BSONError\""
        );
    }

    #[test]
    fn validation_error_message_and_json() {
        let err = ValidationError {
            model: "User".to_owned(),
            errors: vec![
                FieldError::validator(
                    "required",
                    "email",
                    Value::Null,
                    "Path `email` is required.".to_owned(),
                ),
                FieldError::strict("foo", json!(1)),
            ],
        };
        assert_eq!(
            err.to_string(),
            "User validation failed: email: Path `email` is required., foo: Field `foo` is not in schema and strict mode is set to throw."
        );
        let j = err.to_json();
        assert_eq!(j["name"], "ValidationError");
        assert_eq!(j["_message"], "User validation failed");
        assert_eq!(j["message"], err.to_string());
        assert_eq!(j["errors"]["email"]["properties"]["type"], "required");
        assert_eq!(j["errors"]["foo"]["name"], "StrictModeError");
    }

    #[test]
    fn unique() {
        let e = ValidationError::unique("User", "email", json!("a@b.c"));
        assert_eq!(
            e.to_string(),
            "User validation failed: email: Path `email` must be unique. Value: `a@b.c`"
        );
        assert_eq!(e.errors[0].kind, "unique");
    }
}
