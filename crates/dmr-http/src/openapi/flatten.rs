//! serde's `flatten` as one closed object. utoipa writes a struct with a flattened field as
//! `allOf: [the field's schema, {the struct's own fields}]` and leaves
//! `additionalProperties` off, since in an `allOf` each part's `additionalProperties:
//! false` would refuse the other parts' fields. serde writes exactly the union of the
//! parts' fields, so each such `allOf` is merged here into the one object it describes:
//! every part's properties, each part's required ones (none of a flattened `Option`, which
//! writes nothing when `None`), closed when every flattened part is.

use std::collections::BTreeMap;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, AllOf, Object, Schema, SchemaType, Type};

const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// Replaces every component that is a flattening struct's `allOf` by the merged object. A
/// shape this does not know is left as it is (a test holds the document free of `allOf`).
pub(crate) fn merge_flattened(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let flattening: Vec<String> = schemas
        .iter()
        .filter(|(_, schema)| matches!(schema, RefOr::T(Schema::AllOf(_))))
        .map(|(name, _)| name.clone())
        .collect();
    for name in flattening {
        if let Some(merged) = object_of(&schemas[&name], schemas) {
            schemas.insert(name, RefOr::T(Schema::Object(merged)));
        }
    }
}

/// What a part of a flattening struct contributes.
struct Part {
    object: Object,
    /// A flattened `Option<T>`: T's fields may all be absent.
    optional: bool,
}

/// The object a schema describes, following references and merging `allOf`s; `None` for
/// anything else.
fn object_of(schema: &RefOr<Schema>, schemas: &BTreeMap<String, RefOr<Schema>>) -> Option<Object> {
    match schema {
        RefOr::Ref(reference) => {
            let name = reference.ref_location.strip_prefix(COMPONENT_PREFIX)?;
            object_of(schemas.get(name)?, schemas)
        }
        RefOr::T(Schema::Object(object))
            if object.schema_type == SchemaType::Type(Type::Object) =>
        {
            Some(object.clone())
        }
        RefOr::T(Schema::AllOf(all_of)) => merge(all_of, schemas),
        RefOr::T(_) => None,
    }
}

fn part_of(schema: &RefOr<Schema>, schemas: &BTreeMap<String, RefOr<Schema>>) -> Option<Part> {
    // utoipa writes `Option<T>` as `oneOf: [T, null]`.
    if let RefOr::T(Schema::OneOf(one_of)) = schema {
        let [a, b] = one_of.items.as_slice() else {
            return None;
        };
        let inner = match (is_null(a), is_null(b)) {
            (false, true) => a,
            (true, false) => b,
            _ => return None,
        };
        return Some(Part {
            object: object_of(inner, schemas)?,
            optional: true,
        });
    }
    Some(Part {
        object: object_of(schema, schemas)?,
        optional: false,
    })
}

fn merge(all_of: &AllOf, schemas: &BTreeMap<String, RefOr<Schema>>) -> Option<Object> {
    let mut merged = Object::with_type(Type::Object);
    merged.description = all_of.description.clone();
    let mut closed = true;
    for item in &all_of.items {
        let Part { object, optional } = part_of(item, schemas)?;
        // A flattened part is closed when its own schema says so; the struct's own fields
        // (the inline part, without `additionalProperties`) are all there is of it.
        closed &= matches!(
            (item, object.additional_properties.as_deref()),
            (_, Some(AdditionalProperties::FreeForm(false))) | (RefOr::T(Schema::Object(_)), None)
        );
        if !optional {
            for name in object.required {
                if !merged.required.contains(&name) {
                    merged.required.push(name);
                }
            }
        }
        merged.properties.extend(object.properties);
    }
    if closed {
        merged.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    }
    Some(merged)
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object)) if object.schema_type == SchemaType::Type(Type::Null))
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use serde_json::{Value, json};
    use utoipa::ToSchema;

    use super::*;
    use crate::routes::openapi_document;

    #[allow(
        dead_code,
        reason = "schema fixtures: only their derived schemas are read"
    )]
    mod fixtures {
        use super::*;

        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Inner {
            pub a: u32,
            pub b: Option<String>,
        }

        #[derive(Serialize, ToSchema)]
        pub struct Open {
            pub c: u32,
        }

        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Outer {
            #[serde(flatten)]
            pub inner: Inner,
            pub own: bool,
        }

        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct OptionalInner {
            #[serde(flatten)]
            pub inner: Option<Inner>,
            pub own: bool,
        }

        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct OverOpen {
            #[serde(flatten)]
            pub open: Open,
            pub own: bool,
        }

        /// Flattens a flattening struct.
        #[derive(Serialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Nested {
            #[serde(flatten)]
            pub outer: Outer,
            pub more: u8,
        }
    }
    use fixtures::*;

    fn merged<T: ToSchema>() -> Value {
        let mut schemas = BTreeMap::new();
        let mut refs = Vec::new();
        T::schemas(&mut refs);
        schemas.extend(refs);
        schemas.insert(T::name().into_owned(), T::schema());
        merge_flattened(&mut schemas);
        serde_json::to_value(&schemas[T::name().as_ref()]).unwrap()
    }

    #[test]
    fn a_flattened_struct_is_one_closed_object() {
        let schema = merged::<Outer>();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["a", "own"]));
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(properties, ["a", "b", "own"]);
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema.get("allOf").is_none(), "{schema}");
    }

    #[test]
    fn a_flattened_option_adds_its_fields_but_requires_none() {
        let schema = merged::<OptionalInner>();
        assert_eq!(schema["required"], json!(["own"]));
        assert!(schema["properties"]["a"].is_object(), "{schema}");
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn an_open_part_leaves_the_whole_open() {
        let schema = merged::<OverOpen>();
        assert_eq!(schema["required"], json!(["c", "own"]));
        assert!(schema.get("additionalProperties").is_none(), "{schema}");
    }

    #[test]
    fn flattening_nests() {
        let schema = merged::<Nested>();
        assert_eq!(schema["required"], json!(["a", "own", "more"]));
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn the_document_has_no_all_of_left() {
        let document = serde_json::to_string(&openapi_document()).unwrap();
        assert!(!document.contains("\"allOf\""));
    }
}
