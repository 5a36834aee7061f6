//! Schemas of the query language (docs/query-language.md): filters, updates, sorts and
//! projections. They give the shape of what the parsers take, so a reader sees the
//! operators and the fuzz run generates them (not just arbitrary objects). The parsers
//! are the authority: anything outside these shapes is a 400 naming the problem.

use serde_json::{Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A schema written as JSON Schema. The unit test below holds each one to its JSON, so the
/// fallback (any object) is never what the document says.
fn from_json(schema: Value) -> RefOr<Schema> {
    serde_json::from_value(schema)
        .unwrap_or_else(|_| ObjectBuilder::new().schema_type(Type::Object).into())
}

/// Any JSON value. (Spelled out: utoipa reads no schema without a `type`.)
fn any() -> Value {
    json!({ "type": ["string", "number", "boolean", "null", "array", "object"] })
}

/// The conditions an operator object may hold.
fn operators() -> Value {
    json!({
        "type": "object",
        "minProperties": 1,
        "properties": {
            "$eq": any(), "$ne": any(), "$gt": any(), "$gte": any(), "$lt": any(), "$lte": any(),
            "$in": { "type": "array" },
            "$nin": { "type": "array" },
            "$all": { "type": "array" },
            "$exists": { "type": ["boolean", "integer"] },
            "$regex": { "type": "string" },
            "$options": { "type": "string", "pattern": "^[imsx]*$" },
            "$size": { "type": "integer", "minimum": 0 },
            "$elemMatch": { "type": "object" },
            "$not": { "type": "object" }
        },
        "additionalProperties": false
    })
}

/// A MongoDB-style filter.
pub struct Filter;

impl Filter {
    fn json() -> Value {
        let filters = json!({ "type": "array", "minItems": 1, "items": { "type": "object" } });
        json!({
            "type": "object",
            "description": "A MongoDB-style filter (docs/query-language.md): each key a \
                field path (dotted: `price.amount`, `items.0.sku`) holding a value \
                (equality; an array field matches an element) or operator conditions; \
                `$and`, `$or`, `$nor` take filters, `$text` searches the model's text \
                index. `$where`, `$function`, `$accumulator`, `$expr` and unknown \
                operators are 400 `invalid_query`; nesting and size are bounded by \
                `MAX_FILTER_DEPTH` and `MAX_FILTER_NODES`.",
            "properties": {
                "$and": filters,
                "$or": filters,
                "$nor": filters,
                "$text": {
                    "type": "object",
                    "properties": { "$search": { "type": "string" } },
                    "required": ["$search"],
                    "additionalProperties": false
                }
            },
            "additionalProperties": {
                "anyOf": [
                    { "type": ["string", "number", "boolean", "null"] },
                    { "type": "array" },
                    operators()
                ]
            },
            "examples": [{ "role": "admin", "age": { "$gte": 21 } }]
        })
    }
}

impl PartialSchema for Filter {
    fn schema() -> RefOr<Schema> {
        from_json(Self::json())
    }
}

impl ToSchema for Filter {}

/// Update operators, or a plain object (a `$set`).
pub struct Update;

impl Update {
    fn json() -> Value {
        let paths = json!({ "type": "object" });
        json!({
            "type": "object",
            "description": "Update operators (`$set $unset $inc $push $pull $addToSet`; \
                `$push` and `$addToSet` take `$each`), or a plain object of fields, which \
                is a `$set`. The result is validated by the model as a whole.",
            "properties": {
                "$set": paths,
                "$unset": paths,
                "$inc": { "type": "object", "additionalProperties": { "type": "number" } },
                "$push": paths,
                "$pull": paths,
                "$addToSet": paths
            },
            "examples": [{ "$inc": { "inventory.quantity": 1 }, "$set": { "status": "active" } }]
        })
    }
}

impl PartialSchema for Update {
    fn schema() -> RefOr<Schema> {
        from_json(Self::json())
    }
}

impl ToSchema for Update {}

/// Sort keys, most significant first.
pub struct SortSpec;

impl SortSpec {
    fn json() -> Value {
        json!({
            "type": ["object", "string"],
            "description": "`{\"a\": 1, \"b\": -1}` (`1`/`-1`, or `asc`/`desc`/`ascending`/\
                `descending`), or Mongoose's string form `\"a -b\"`; at most 32 keys.",
            "additionalProperties": {
                "type": ["integer", "string"],
                "enum": [1, -1, "asc", "desc", "ascending", "descending"]
            },
            "examples": [{ "createdAt": -1 }]
        })
    }
}

impl PartialSchema for SortSpec {
    fn schema() -> RefOr<Schema> {
        from_json(Self::json())
    }
}

impl ToSchema for SortSpec {}

/// Fields to include or exclude.
pub struct ProjectionSpec;

impl ProjectionSpec {
    fn json() -> Value {
        json!({
            "type": "object",
            "description": "Fields to include (`1`) or to exclude (`0`), not both (except \
                `\"_id\": 0`).",
            "additionalProperties": { "type": ["integer", "boolean"], "enum": [0, 1, true, false] },
            "examples": [{ "email": 1, "username": 1 }]
        })
    }
}

impl PartialSchema for ProjectionSpec {
    fn schema() -> RefOr<Schema> {
        from_json(Self::json())
    }
}

impl ToSchema for ProjectionSpec {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each schema is the JSON it was written as: nothing dropped, nothing fallen back
    /// to "any object".
    #[test]
    fn the_schemas_are_what_they_say() {
        for (name, written, schema) in [
            ("Filter", Filter::json(), Filter::schema()),
            ("Update", Update::json(), Update::schema()),
            ("SortSpec", SortSpec::json(), SortSpec::schema()),
            (
                "ProjectionSpec",
                ProjectionSpec::json(),
                ProjectionSpec::schema(),
            ),
        ] {
            assert_eq!(serde_json::to_value(&schema).unwrap(), written, "{name}");
        }
        let filter = serde_json::to_value(Filter::schema()).unwrap();
        assert_eq!(
            filter["additionalProperties"]["anyOf"][2]["properties"]["$options"]["pattern"],
            "^[imsx]*$"
        );
        assert_eq!(
            filter["properties"]["$text"]["required"],
            json!(["$search"])
        );
    }
}
