//! Casting the value of one dotted path, for update operators and query
//! filters (Mongoose's `castUpdate` / `cast` per path).

use serde_json::Value;

use crate::cast;
use crate::doc_path::DocPath;
use crate::field::{FieldDef, FieldType, Schema};
use crate::model::{ModelDef, Strict};
use crate::prepare::WriteContext;
use crate::validation_error::FieldError;
use crate::walk::{Walker, embedded_error};

/// What a dotted path names.
enum Target<'s> {
    /// A field's value (an array as a whole for an array field).
    Field(&'s FieldDef),
    /// One element of an array: `tags.3`, `tags.$`.
    Element(&'s FieldDef),
    /// One sub-document: `items.0`, `items.$[i]`.
    SubDoc(&'s Schema),
    Id,
    Version,
    /// Below a Mixed value: anything goes.
    Open,
    Unknown,
}

impl ModelDef {
    /// Casts `value` for the dotted `path`: `price.amount`, `items.quantity`
    /// (through a sub-document array), `items.0.quantity`, `items.$.quantity`
    /// (positional `$`, `$[]`, `$[name]` count as an index), `metadata.anyKey`
    /// (a Map value), `tags` (the whole array: a single value becomes a
    /// one-element array) or `tags.3` (one element). Setters apply; defaults
    /// and validators do not.
    ///
    /// `Ok(Some(v))`: the cast value. `Ok(None)`: the path is not in the
    /// schema and strict mode drops it. `Err`: a CastError (the first one,
    /// for objects and arrays), or a StrictModeError when strict mode is "throw".
    pub fn cast_path(&self, path: &str, value: &Value) -> Result<Option<Value>, FieldError> {
        self.cast_path_in(path, value, None)
    }

    /// Like [`ModelDef::cast_path`], but sub-documents in the value (`$push`
    /// to `items`, `$set` of `items` or `items.0`) are new ones and get their
    /// defaults and `_id`, as Mongoose gives them.
    pub fn cast_path_with(
        &self,
        path: &str,
        value: &Value,
        ctx: &mut WriteContext,
    ) -> Result<Option<Value>, FieldError> {
        self.cast_path_in(path, value, Some(ctx))
    }

    fn cast_path_in(
        &self,
        path: &str,
        value: &Value,
        ctx: Option<&mut WriteContext>,
    ) -> Result<Option<Value>, FieldError> {
        let segs: Vec<&str> = path.split('.').collect();
        let target = if segs.iter().any(|s| s.is_empty()) {
            Target::Unknown
        } else {
            resolve(&self.schema, &segs)
        };
        let mut w = Walker::new(self.strict, ctx);
        w.subdoc_defaults = true;
        let at = DocPath::Given(path);
        let out = match target {
            Target::Field(def) | Target::Element(def) => w.cast(def, value, &at),
            Target::SubDoc(schema) => match value {
                Value::Object(m) => Ok(Value::Object(w.subdoc(schema, m, &at))),
                Value::Null => Ok(Value::Null),
                other => Err(embedded_error(other, &at)),
            },
            Target::Id => cast::object_id(value, &at),
            Target::Version => cast::number(value, &at),
            Target::Open => Ok(value.clone()),
            Target::Unknown => {
                return match self.strict {
                    Strict::Drop => Ok(None),
                    Strict::Throw => Err(FieldError::strict(path, value.clone())),
                    Strict::Off => Ok(Some(value.clone())),
                };
            }
        };
        let value = out?;
        match w.take_errors().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(Some(value)),
        }
    }
}

/// An array index as update operators write one.
fn is_index(seg: &str) -> bool {
    (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()))
        || seg == "$"
        || (seg.starts_with("$[") && seg.ends_with(']'))
}

fn resolve<'s>(root: &'s Schema, segs: &[&str]) -> Target<'s> {
    let mut schema = root;
    let mut i = 0;
    loop {
        // At a (sub-)document: the next segment names a field.
        let seg = segs[i];
        let last = i + 1 == segs.len();
        if seg == "_id" && schema.id {
            return if last { Target::Id } else { Target::Unknown };
        }
        if seg == "__v" && std::ptr::eq(schema, root) {
            return if last {
                Target::Version
            } else {
                Target::Unknown
            };
        }
        let Some(mut def) = schema.field(seg) else {
            return Target::Unknown;
        };
        i += 1;
        let mut element = false;
        // Through the field's type until a schema or the end of the path.
        loop {
            if i == segs.len() {
                return if element {
                    Target::Element(def)
                } else {
                    Target::Field(def)
                };
            }
            match &def.ty {
                FieldType::Object(s) => {
                    schema = s;
                    break;
                }
                FieldType::SubDocs(s) => {
                    if is_index(segs[i]) {
                        i += 1;
                        if i == segs.len() {
                            return Target::SubDoc(s);
                        }
                    }
                    schema = s;
                    break;
                }
                FieldType::Array(el) => {
                    if is_index(segs[i]) {
                        i += 1;
                    }
                    def = el;
                    element = true;
                }
                // Any key is a Map key.
                FieldType::Map(of) => {
                    i += 1;
                    def = of;
                    element = false;
                }
                FieldType::Mixed => return Target::Open,
                _ => return Target::Unknown,
            }
        }
    }
}
