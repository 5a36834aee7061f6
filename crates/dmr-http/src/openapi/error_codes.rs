//! The error-code table as the document shows it: `ErrorCode` lists every code with its
//! status and type, `ErrorType` every type. Both are read from the table, so a new code
//! shows up without an edit here. (The table's crate knows no OpenAPI, hence these stand-ins
//! named as the table's types.)

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{ErrorCode, ErrorType};

/// The schema of `error.code`.
pub struct ErrorCodeSchema;

impl PartialSchema for ErrorCodeSchema {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|code| {
                format!(
                    "`{}` ({}, {})",
                    code.as_str(),
                    code.status(),
                    code.error_type().as_str()
                )
            })
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .description(Some(format!(
                "Stable error code; clients match on it. {}.",
                table.join(", ")
            )))
            .into()
    }
}

impl ToSchema for ErrorCodeSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// The schema of `error.type`.
pub struct ErrorTypeSchema;

impl PartialSchema for ErrorTypeSchema {
    fn schema() -> RefOr<Schema> {
        let types: Vec<String> = ErrorType::ALL
            .iter()
            .map(|kind| format!("`{}`: {}.", kind.as_str(), kind.description()))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorType::ALL.iter().map(|kind| kind.as_str())))
            .description(Some(format!(
                "What the client can do about the error; as stable as its code. {}",
                types.join(" ")
            )))
            .into()
    }
}

impl ToSchema for ErrorTypeSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorType")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enum_values(schema: RefOr<Schema>) -> Vec<String> {
        let RefOr::T(Schema::Object(object)) = schema else {
            panic!("not an object schema");
        };
        object
            .enum_values
            .unwrap_or_default()
            .into_iter()
            .map(|value| value.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_schemas_list_the_whole_table() {
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|code| code.as_str()).collect();
        assert_eq!(enum_values(ErrorCodeSchema::schema()), codes);
        let types: Vec<&str> = ErrorType::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(enum_values(ErrorTypeSchema::schema()), types);
    }
}
