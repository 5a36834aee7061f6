//! Schemas of the tenants' documents. Their fields are the model's, which the model files
//! define at run time, so the document states what every model shares: a JSON object,
//! with an `_id` once stored.

use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use super::params::DOCUMENT_ID_PATTERN;

/// A stored document as the model outputs it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Document(pub serde_json::Value);

impl PartialSchema for Document {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A stored document: `_id`, the model's fields (cast, with defaults), \
                 `createdAt`/`updatedAt` when the model has timestamps, and its virtuals.",
            ))
            .property(
                "_id",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(DOCUMENT_ID_PATTERN)),
            )
            .required("_id")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for Document {}

/// A document as a client sends it (never constructed: it documents a request body).
pub struct DocumentBody;

impl PartialSchema for DocumentBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A JSON object with the model's fields (docs/model-files.md). Paths the model \
                 does not know are dropped, or refused with `strict: \"throw\"`.",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for DocumentBody {}

/// A document in a page of results: a projection may leave out any field, `_id` too.
pub struct ProjectedDocument;

impl PartialSchema for ProjectedDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A stored document, projected; virtuals are added (a projection may leave \
                 out any field, `_id` too).",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for ProjectedDocument {}
