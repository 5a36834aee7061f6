//! Documents: validated writes and queries on a tenant's collection. Every write goes
//! through the model (casting, defaults, validators, as Mongoose does); every filter and
//! update value is cast through the model first; reads get virtuals.

use std::sync::Arc;

use dmr_model::{FieldType, ModelDef, WriteContext, object_id};
use dmr_query::{Filter, Limits, Projection, Sort, Update};
use dmr_store::{FindQuery, StoreError, WriteOutcome};
use serde_json::Value;

use crate::compiled::CompiledModel;
use crate::entropy::{now_millis, random_u64};
use crate::error::RegistryError;
use crate::registry::Registry;

/// How many times an update re-reads a document that changed under it.
const UPDATE_ATTEMPTS: usize = 64;

/// Bounds on what one request may ask of a query.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_page_size: u64,
    pub default_page_size: u64,
    pub filter: Limits,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_page_size: 1000,
            default_page_size: 100,
            filter: Limits::default(),
        }
    }
}

/// A list request as the client sent it (JSON values not yet parsed).
#[derive(Debug, Clone, Default)]
pub struct FindRequest {
    pub filter: Option<Value>,
    pub sort: Option<Value>,
    pub projection: Option<Value>,
    pub skip: Option<u64>,
    pub limit: Option<u64>,
}

/// One document's outcome in a bulk insert.
#[derive(Debug)]
pub struct BulkItem {
    pub index: usize,
    pub result: Result<Value, RegistryError>,
}

fn with_context<T>(work: impl FnOnce(&mut WriteContext) -> T) -> T {
    let mut random = random_u64;
    let mut ctx = WriteContext {
        now_millis: now_millis(),
        random: &mut random,
    };
    work(&mut ctx)
}

fn check_id(id: &str) -> Result<String, RegistryError> {
    if object_id::is_valid(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(RegistryError::InvalidDocumentId(id.to_owned()))
    }
}

/// The document as a client reads it: virtuals added.
fn output(def: &ModelDef, mut doc: Value) -> Value {
    def.apply_virtuals(&mut doc);
    doc
}

/// A store's duplicate-key error, with the model's paths and the offending values.
fn duplicate(def: &ModelDef, error: StoreError, doc: &Value) -> RegistryError {
    let StoreError::Duplicate { index, .. } = &error else {
        return error.into();
    };
    let paths: Vec<String> = match def.indexes.iter().find(|i| &i.name == index) {
        Some(def_index) => def_index.keys.iter().map(|k| k.path.clone()).collect(),
        None => vec!["_id".to_owned()],
    };
    let value = paths
        .iter()
        .map(|p| (p.clone(), lookup(doc, p).cloned().unwrap_or(Value::Null)))
        .collect::<serde_json::Map<_, _>>();
    RegistryError::Duplicate {
        index: index.clone(),
        paths,
        value: Value::Object(value),
    }
}

fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, key| v.get(key))
}

/// Field errors found outside a whole-document validation (casting one path), in the
/// same Mongoose shape.
fn rejected(def: &ModelDef, errors: Vec<dmr_model::FieldError>) -> RegistryError {
    RegistryError::Validation(dmr_model::ValidationError {
        model: def.name.clone(),
        errors,
    })
}

/// Casts a filter value for its path: an array path compared with one value casts it as
/// an element (`{tags: "x"}` matches arrays containing "x"); `_id` must be an ObjectId.
fn cast_filter_value(def: &ModelDef, path: &str, value: Value) -> Result<Value, RegistryError> {
    if path == "_id" {
        return match &value {
            Value::String(s) if object_id::is_valid(s) => Ok(Value::String(s.to_ascii_lowercase())),
            _ => Err(RegistryError::InvalidDocumentId(value.to_string())),
        };
    }
    let element = !value.is_array()
        && def
            .schema
            .lookup(path)
            .is_some_and(|f| matches!(f.ty, FieldType::Array(_) | FieldType::SubDocs(_)));
    let target = if element {
        format!("{path}.0")
    } else {
        path.to_owned()
    };
    match def.cast_path(&target, &value) {
        Ok(Some(cast)) => Ok(cast),
        // Unknown paths are queried as given (Mongoose's strictQuery: false).
        Ok(None) => Ok(value),
        Err(e) => Err(rejected(def, vec![e])),
    }
}

impl Registry {
    pub fn query_limits(&self) -> QueryLimits {
        self.inner.query_limits
    }

    /// Runs `work` on the compiled model; a store closed under it is reopened once.
    async fn on_model<T, F, Fut>(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        work: F,
    ) -> Result<T, RegistryError>
    where
        F: Fn(Arc<CompiledModel>) -> Fut,
        Fut: Future<Output = Result<T, RegistryError>>,
    {
        let compiled = self.model(tenant, model).await?;
        match work(Arc::clone(&compiled)).await {
            Err(RegistryError::Store(StoreError::Closed)) => {
                self.forget(tenant, &compiled).await;
                work(self.model(tenant, model).await?).await
            }
            other => other,
        }
    }

    pub async fn create_document(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        body: &Value,
    ) -> Result<Value, RegistryError> {
        self.on_model(tenant, model, |compiled| async move {
            let def = &compiled.def;
            let doc = with_context(|ctx| def.prepare_insert(body, ctx))?;
            compiled
                .open
                .store
                .insert(&compiled.spec, &doc)
                .await
                .map_err(|e| duplicate(def, e, &doc))?;
            Ok(output(def, doc))
        })
        .await
    }

    /// Inserts each document on its own: one failing does not stop the others.
    pub async fn create_documents(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        bodies: &[Value],
    ) -> Result<Vec<BulkItem>, RegistryError> {
        self.model(tenant, model).await?;
        let mut items = Vec::with_capacity(bodies.len());
        for (index, body) in bodies.iter().enumerate() {
            items.push(BulkItem {
                index,
                result: self.create_document(tenant, model, body).await,
            });
        }
        Ok(items)
    }

    pub async fn get_document(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        id: &str,
    ) -> Result<Value, RegistryError> {
        let id = check_id(id)?;
        self.on_model(tenant, model, |compiled| {
            let id = id.clone();
            async move {
                match compiled.open.store.get(&compiled.spec, &id).await? {
                    Some(stored) => Ok(output(&compiled.def, stored.doc)),
                    None => Err(RegistryError::DocumentNotFound(id)),
                }
            }
        })
        .await
    }

    fn parse_filter(
        &self,
        compiled: &CompiledModel,
        raw: Option<&Value>,
        limits: &QueryLimits,
    ) -> Result<Filter, RegistryError> {
        let Some(raw) = raw else {
            return Ok(Filter::All);
        };
        let filter = Filter::parse(raw, &limits.filter)?;
        // No text index declared, or the engine refused to build it (some servers have none).
        let text_index_missing = compiled.spec.text_paths.is_empty()
            || compiled
                .def
                .indexes
                .iter()
                .filter(|i| i.is_text())
                .any(|i| compiled.ensured.failed.iter().any(|f| f.index == i.name));
        if filter.text_search().is_some() && text_index_missing {
            return Err(RegistryError::TextIndexRequired(compiled.def.name.clone()));
        }
        filter.map_values(&mut |path, value| cast_filter_value(&compiled.def, path, value))
    }

    pub async fn find_documents(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        request: &FindRequest,
    ) -> Result<Vec<Value>, RegistryError> {
        let limits = self.inner.query_limits;
        let limit = request.limit.unwrap_or(limits.default_page_size);
        if limit > limits.max_page_size {
            return Err(RegistryError::LimitExceeded(format!(
                "limit {limit} is over the maximum page size {}",
                limits.max_page_size
            )));
        }
        let sort = match &request.sort {
            Some(raw) => Sort::parse(raw)?,
            None => Sort::default(),
        };
        let projection = match &request.projection {
            Some(raw) => Some(Projection::parse(raw)?),
            None => None,
        };
        self.on_model(tenant, model, |compiled| {
            let (sort, projection) = (&sort, &projection);
            async move {
                let filter = self.parse_filter(&compiled, request.filter.as_ref(), &limits)?;
                let query = FindQuery {
                    filter: &filter,
                    sort,
                    skip: request.skip.unwrap_or(0),
                    limit,
                };
                let docs = compiled.open.store.find(&compiled.spec, &query).await?;
                Ok(docs
                    .into_iter()
                    .map(|doc| {
                        let doc = output(&compiled.def, doc);
                        match projection {
                            Some(p) => p.apply(&doc),
                            None => doc,
                        }
                    })
                    .collect())
            }
        })
        .await
    }

    pub async fn count_documents(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        filter: Option<&Value>,
    ) -> Result<u64, RegistryError> {
        let limits = self.inner.query_limits;
        self.on_model(tenant, model, |compiled| async move {
            let filter = self.parse_filter(&compiled, filter, &limits)?;
            Ok(compiled.open.store.count(&compiled.spec, &filter).await?)
        })
        .await
    }

    /// Replaces the whole document (its `_id` and `createdAt` are kept), validated.
    pub async fn replace_document(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        id: &str,
        body: &Value,
    ) -> Result<Value, RegistryError> {
        let id = check_id(id)?;
        self.on_model(tenant, model, |compiled| {
            let id = id.clone();
            async move {
                let def = &compiled.def;
                self.rewrite(&compiled, &id, |existing| {
                    Ok(with_context(|ctx| {
                        def.prepare_replace(body, existing, ctx)
                    })?)
                })
                .await
            }
        })
        .await
    }

    /// Applies update operators (`$set`, `$inc`, ...; a plain object is a `$set`), then
    /// validates the result as a whole (Mongoose's `runValidators`) and refreshes
    /// `updatedAt`.
    pub async fn update_document(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        id: &str,
        body: &Value,
    ) -> Result<Value, RegistryError> {
        let id = check_id(id)?;
        let limits = self.inner.query_limits;
        self.on_model(tenant, model, |compiled| {
            let id = id.clone();
            async move {
                let def = &compiled.def;
                let mut update = Update::parse(body, &limits.filter)?;
                // Strict mode: paths the schema does not know are dropped (or refused).
                let mut refused = Vec::new();
                update
                    .ops
                    .retain(|op| match def.cast_path(op.path(), &Value::Null) {
                        Ok(Some(_)) => true,
                        Ok(None) => false,
                        Err(e) if e.name == "StrictModeError" => {
                            refused.push(e);
                            false
                        }
                        Err(_) => true,
                    });
                if !refused.is_empty() {
                    return Err(rejected(def, refused));
                }
                let update = with_context(|ctx| {
                    update.map_values(
                        &mut |path, value| match def.cast_path_with(path, &value, ctx) {
                            Ok(Some(cast)) => Ok(cast),
                            Ok(None) => Ok(value),
                            Err(e) => Err(rejected(def, vec![e])),
                        },
                    )
                })?;
                self.rewrite(&compiled, &id, |existing| {
                    let mut doc = existing.clone();
                    update.apply(&mut doc)?;
                    Ok(with_context(|ctx| def.validate_updated(&doc, ctx))?)
                })
                .await
            }
        })
        .await
    }

    /// Read, change, write back if nobody wrote in between; else again.
    async fn rewrite(
        &self,
        compiled: &CompiledModel,
        id: &str,
        change: impl Fn(&Value) -> Result<Value, RegistryError>,
    ) -> Result<Value, RegistryError> {
        let store = &compiled.open.store;
        for _ in 0..UPDATE_ATTEMPTS {
            let Some(stored) = store.get(&compiled.spec, id).await? else {
                return Err(RegistryError::DocumentNotFound(id.to_owned()));
            };
            let mut changed = change(&stored.doc)?;
            // `__v` counts the document's writes, on every engine (Mongoose's
            // `optimisticConcurrency`; MongoDB's store compares and sets it).
            if let Some(fields) = changed.as_object_mut() {
                fields.insert("__v".to_owned(), Value::from(stored.revision + 1));
            }
            match store
                .replace(&compiled.spec, id, stored.revision, &changed)
                .await
                .map_err(|e| duplicate(&compiled.def, e, &changed))?
            {
                WriteOutcome::Written => return Ok(output(&compiled.def, changed)),
                WriteOutcome::Conflict => continue,
                WriteOutcome::NotFound => {
                    return Err(RegistryError::DocumentNotFound(id.to_owned()));
                }
            }
        }
        Err(RegistryError::WriteConflict)
    }

    pub async fn delete_document(
        &self,
        tenant: &dmr_store::TenantId,
        model: &str,
        id: &str,
    ) -> Result<(), RegistryError> {
        let id = check_id(id)?;
        self.on_model(tenant, model, |compiled| {
            let id = id.clone();
            async move {
                if compiled.open.store.delete(&compiled.spec, &id).await? {
                    Ok(())
                } else {
                    Err(RegistryError::DocumentNotFound(id))
                }
            }
        })
        .await
    }
}
