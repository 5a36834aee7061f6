//! The parameters of the document. Each extractor documents what it validates
//! (`params(Tenant)` in a handler's `#[utoipa::path]`), with the rules the validators
//! apply, built from their constants (the unit tests below hold them to the validators).

use dmr_store::MAX_TENANT_ID_LEN;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{ContentBuilder, Ref, Required};
use utoipa::{IntoParams, ToSchema};

use super::query::{Filter, ProjectionSpec, SortSpec};

use crate::extract::{DocumentId, KeyId, Tenant, TenantModel};
use crate::routes::reserved_tenant_words;

/// Characters and length of a tenant id, without the reserved words.
pub(crate) fn tenant_id_chars() -> String {
    format!("[A-Za-z0-9_-]{{1,{MAX_TENANT_ID_LEN}}}")
}

/// What the edge accepts as a tenant id (`dmr_store::TenantId::parse`, and not a word of
/// `routes::reserved_tenant_words`) as an ECMA-262 pattern: the reserved words are
/// excluded with a lookahead.
pub(crate) fn tenant_id_pattern() -> String {
    format!(
        "^(?!(?:{})$){}$",
        reserved_tenant_words().join("|"),
        tenant_id_chars()
    )
}

/// `dmr_model::is_valid_model_name`.
pub(crate) const MODEL_NAME_PATTERN: &str = "^[A-Za-z][A-Za-z0-9_]{0,63}$";

/// `dmr_model::object_id::is_valid`: 24 hexadecimal characters (either case).
pub(crate) const DOCUMENT_ID_PATTERN: &str = "^[0-9a-fA-F]{24}$";

fn string(pattern: String, min: usize, max: usize) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(min))
        .max_length(Some(max))
        .into()
}

fn path_param(name: &str, description: &str, schema: Schema, example: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .example(Some(example.into()))
        .build()
}

fn tenant_param() -> Parameter {
    path_param(
        "tenant_id",
        &format!(
            "Tenant id: 1-{MAX_TENANT_ID_LEN} characters of `[A-Za-z0-9_-]`, not one of the \
             route words {}. Anything else is 400 `invalid_tenant_id`, before any store is \
             touched. A valid tenant is created on first use.",
            reserved_tenant_words()
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        string(tenant_id_pattern(), 1, MAX_TENANT_ID_LEN),
        "tenant123",
    )
}

fn model_param() -> Parameter {
    path_param(
        "model_name",
        "Model name, as its model file names it: a letter, then letters, digits or `_`, \
         64 characters at most (else 400 `invalid_model_name`). A name no model file \
         defines is 404 `model_not_found`.",
        string(MODEL_NAME_PATTERN.to_owned(), 1, 64),
        "User",
    )
}

impl IntoParams for Tenant {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![tenant_param()]
    }
}

impl IntoParams for TenantModel {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![tenant_param(), model_param()]
    }
}

impl IntoParams for KeyId {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param(
            "key_id",
            "The key's public id, as its issue and the listing show it; a tenant without \
             that key is 404 `api_key_not_found`.",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .into(),
            "9c1e0f6a2b3d4e5f",
        )]
    }
}

impl IntoParams for DocumentId {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param(
            "id",
            "Document id (`_id`): an ObjectId, 24 hexadecimal characters; anything else is \
             400 `invalid_document_id`. Answers carry it in lower case.",
            string(DOCUMENT_ID_PATTERN.to_owned(), 24, 24),
            "65f1c0ffee0123456789abcd",
        )]
    }
}

/// A query parameter whose value is JSON (`?filter={"age":{"$gte":21}}`), of one of the
/// query-language schemas.
fn json_query_param<T: ToSchema>(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(T::name())))
                .build(),
        )
        .build()
}

fn whole_number_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Int64,
                )))
                .minimum(Some(0)),
        ))
        .build()
}

/// `filter` alone: `GET .../documents/count`.
pub(crate) struct FilterParam;

fn filter_param() -> Parameter {
    json_query_param::<Filter>(
        "filter",
        "A filter, as JSON. Values are cast by the model (400 `validation_failed` when \
         they cannot be); malformed JSON is 400 `invalid_json`.",
    )
}

impl IntoParams for FilterParam {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![filter_param()]
    }
}

/// `filter`, `sort`, `projection`, `skip`, `limit`: `GET .../documents`. Any other
/// parameter is 400 `invalid_query`.
pub(crate) struct ListParams;

impl IntoParams for ListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            filter_param(),
            json_query_param::<SortSpec>("sort", "Sort keys, as JSON."),
            json_query_param::<ProjectionSpec>("projection", "A projection, as JSON."),
            whole_number_param("skip", "Documents to skip (default 0)."),
            whole_number_param(
                "limit",
                "Most documents to return (default `DEFAULT_PAGE_SIZE`); over \
                 `MAX_PAGE_SIZE` is 400 `limit_exceeded`.",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use regex::Regex;
    use utoipa::openapi::RefOr;

    use super::*;

    fn pattern_of(param: &Parameter) -> String {
        match &param.schema {
            Some(RefOr::T(Schema::Object(object))) => object.pattern.clone().unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Strings near the rules: the pattern's alphabet, a few others, the reserved words.
    fn near_miss() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9_-]{0,50}",
            "[A-Za-z0-9_.$/ é-]{0,8}",
            "[0-9a-fA-Fg]{22,26}",
            prop::sample::select(reserved_tenant_words().to_vec()).prop_map(str::to_owned),
            Just("test".to_owned()),
        ]
    }

    fn regex(pattern: &str) -> Regex {
        Regex::new(pattern).expect("a pattern Rust's regex can read")
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn tenant_pattern_is_the_validator(s in near_miss()) {
            // Rust's regex has no lookahead: the character rule and the reserved words are
            // checked apart, and the document's pattern is built from exactly these parts.
            let chars = regex(&format!("^{}$", tenant_id_chars()));
            let documented = chars.is_match(&s) && !reserved_tenant_words().contains(&s.as_str());
            prop_assert_eq!(documented, crate::edge::tenant_named(&s).is_ok(), "{:?}", s);
        }

        #[test]
        fn model_pattern_is_the_validator(s in near_miss()) {
            prop_assert_eq!(
                regex(MODEL_NAME_PATTERN).is_match(&s),
                dmr_model::is_valid_model_name(&s),
                "{:?}", s
            );
        }

        #[test]
        fn document_id_pattern_is_the_validator(s in near_miss()) {
            prop_assert_eq!(
                regex(DOCUMENT_ID_PATTERN).is_match(&s),
                dmr_model::object_id::is_valid(&s),
                "{:?}", s
            );
        }
    }

    #[test]
    fn parameters_carry_the_patterns() {
        let tenant = &Tenant::into_params(|| None)[0];
        assert_eq!(tenant.name, "tenant_id");
        assert_eq!(pattern_of(tenant), tenant_id_pattern());
        assert!(tenant_id_pattern().contains("(?!(?:cache|connection|health|schemas|stats)$)"));
        let [tenant, model] = &TenantModel::into_params(|| None)[..] else {
            panic!("two parameters")
        };
        assert_eq!(pattern_of(tenant), tenant_id_pattern());
        assert_eq!(pattern_of(model), MODEL_NAME_PATTERN);
        assert_eq!(
            pattern_of(&DocumentId::into_params(|| None)[0]),
            DOCUMENT_ID_PATTERN
        );
        // The test route's body names a model too.
        let body = serde_json::to_value(
            <crate::handlers::models::TestRequest as utoipa::PartialSchema>::schema(),
        )
        .unwrap();
        assert_eq!(
            body["properties"]["modelName"]["pattern"],
            MODEL_NAME_PATTERN
        );
    }
}
