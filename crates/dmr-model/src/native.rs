//! Which paths hold a type JSON has no literal for. Documents travel as JSON (ObjectIds as
//! 24 hex digits, Dates as ISO-8601 strings); a store with native types (MongoDB's BSON)
//! asks the schema where to convert, so its documents look exactly like Mongoose's.

use crate::field::{FieldDef, FieldType, Schema};
use crate::paths::{self, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NativeType {
    ObjectId,
    Date,
}

impl Schema {
    /// The native type at a dotted path (arrays transparent: `items.productId`,
    /// `tags` of an array of Dates), `None` for every other path, including those below
    /// `Mixed` values, whose types the schema does not know.
    pub fn native_type(&self, dotted: &str) -> Option<NativeType> {
        match paths::resolve(self, dotted)? {
            Target::Id => Some(NativeType::ObjectId),
            Target::Field(field) => leaf(field),
            // A Map's value (`byDay.monday`) resolves as open; its type is the Map's `of`.
            Target::Open => {
                let (parent, _key) = dotted.rsplit_once('.')?;
                match paths::resolve(self, parent)? {
                    Target::Field(FieldDef {
                        ty: FieldType::Map(value),
                        ..
                    }) => leaf(value),
                    _ => None,
                }
            }
        }
    }
}

fn leaf(field: &FieldDef) -> Option<NativeType> {
    match &field.ty {
        FieldType::ObjectId => Some(NativeType::ObjectId),
        FieldType::Date => Some(NativeType::Date),
        FieldType::Array(element) => leaf(element),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_dates_and_arrays_of_them_are_native() {
        let def = crate::parse_model(
            r#"{"model": "Order", "options": {"timestamps": true}, "schema": {
                "customerId": {"type": "ObjectId"},
                "items": [{"productId": "ObjectId", "qty": "Number"}],
                "dates": ["Date"],
                "meta": "Mixed",
                "byDay": {"type": "Map", "of": "Date"},
                "note": "String"
            }}"#,
            "order.json",
        )
        .unwrap();
        let s = &def.schema;
        assert_eq!(s.native_type("_id"), Some(NativeType::ObjectId));
        assert_eq!(s.native_type("customerId"), Some(NativeType::ObjectId));
        assert_eq!(s.native_type("items.productId"), Some(NativeType::ObjectId));
        assert_eq!(s.native_type("items._id"), Some(NativeType::ObjectId));
        assert_eq!(s.native_type("createdAt"), Some(NativeType::Date));
        assert_eq!(s.native_type("dates"), Some(NativeType::Date));
        assert_eq!(s.native_type("byDay.monday"), Some(NativeType::Date));
        for other in ["items.qty", "note", "meta", "meta.x", "nope", "items"] {
            assert_eq!(s.native_type(other), None, "{other}");
        }
    }
}
