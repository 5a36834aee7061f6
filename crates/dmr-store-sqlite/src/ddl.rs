//! SQL text for collections and indexes. Index expressions are literals (SQLite does not
//! accept bound parameters in CREATE INDEX), so every identifier and path is quoted here
//! and nowhere else.

use dmr_model::{IndexDef, IndexOrder};
use dmr_store::StoreError;

/// `"name"` with embedded quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The JSON path `$."a"."b"` for the dotted path `a.b`, as an SQL string literal.
pub(crate) fn json_path_literal(collection: &str, dotted: &str) -> Result<String, StoreError> {
    let mut path = String::from("$");
    for segment in dotted.split('.') {
        if segment.is_empty() || segment.contains('"') || segment.contains('\\') {
            return Err(StoreError::Definition {
                collection: collection.to_owned(),
                reason: format!("path {dotted:?} cannot be indexed"),
            });
        }
        path.push_str(".\"");
        path.push_str(segment);
        path.push('"');
    }
    Ok(format!("'{}'", path.replace('\'', "''")))
}

/// `rev` counts the document's writes: `replace` names the revision it read.
pub(crate) fn create_table(collection: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (_id TEXT PRIMARY KEY NOT NULL, doc BLOB NOT NULL, rev INTEGER NOT NULL DEFAULT 0)",
        quote_ident(collection)
    )
}

/// Tables created before documents had revisions get the column.
pub(crate) fn has_rev_column(collection: &str) -> String {
    format!(
        "SELECT count(*) FROM pragma_table_info({}) WHERE name = 'rev'",
        quote_literal(collection)
    )
}

pub(crate) fn add_rev_column(collection: &str) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN rev INTEGER NOT NULL DEFAULT 0",
        quote_ident(collection)
    )
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The FTS5 table holding a collection's text-indexed fields.
pub(crate) fn text_table(collection: &str) -> String {
    format!("{collection}$text")
}

/// A contentless FTS5 table keyed by the collection's rowid, kept in sync by triggers, so
/// `$text` is answered by the index within the same transaction as every write.
pub(crate) struct TextIndex {
    /// The FTS table and its triggers, idempotent.
    pub create: Vec<String>,
    /// Fills the index from the rows already there (run when the table is new).
    pub backfill: String,
}

pub(crate) fn text_index(collection: &str, paths: &[String]) -> Result<TextIndex, StoreError> {
    let fts = quote_ident(&text_table(collection));
    let table = quote_ident(collection);
    let body = |doc: &str| -> Result<String, StoreError> {
        let parts = paths
            .iter()
            .map(|p| {
                Ok(format!(
                    "coalesce(json_extract({doc}, {}), '')",
                    json_path_literal(collection, p)?
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(parts.join(" || ' ' || "))
    };
    let new_body = body("new.doc")?;
    let trigger = |suffix: &str| quote_ident(&format!("{collection}$text_{suffix}"));
    Ok(TextIndex {
        create: vec![
            format!(
                "CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(body, content='', contentless_delete=1)"
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS {} AFTER INSERT ON {table} BEGIN \
                 INSERT INTO {fts} (rowid, body) VALUES (new.rowid, {new_body}); END",
                trigger("insert")
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS {} AFTER DELETE ON {table} BEGIN \
                 DELETE FROM {fts} WHERE rowid = old.rowid; END",
                trigger("delete")
            ),
            format!(
                "CREATE TRIGGER IF NOT EXISTS {} AFTER UPDATE ON {table} BEGIN \
                 DELETE FROM {fts} WHERE rowid = old.rowid; \
                 INSERT INTO {fts} (rowid, body) VALUES (new.rowid, {new_body}); END",
                trigger("update")
            ),
        ],
        backfill: format!(
            "INSERT INTO {fts} (rowid, body) SELECT rowid, {} FROM {table}",
            body("doc")?
        ),
    })
}

/// SQLite index names share one namespace per file, so they are prefixed with the
/// collection: `users.email_1`.
pub(crate) fn index_name(collection: &str, index: &IndexDef) -> String {
    format!("{collection}.{}", index.name)
}

/// An expression index over `jsonb_extract(doc, path)` per key. Text keys become plain
/// expression indexes (equality and prefix use); full-text search arrives with FTS5 in the
/// documents layer. Sparse indexes become partial indexes over documents that have at
/// least one of the keys, as MongoDB's sparse indexes do.
pub(crate) fn create_index(collection: &str, index: &IndexDef) -> Result<String, StoreError> {
    let mut columns = Vec::with_capacity(index.keys.len());
    let mut present = Vec::with_capacity(index.keys.len());
    for key in &index.keys {
        let expr = format!(
            "jsonb_extract(doc, {})",
            json_path_literal(collection, &key.path)?
        );
        let order = match key.order {
            IndexOrder::Desc => " DESC",
            IndexOrder::Asc | IndexOrder::Text => "",
        };
        columns.push(format!("{expr}{order}"));
        present.push(format!("{expr} IS NOT NULL"));
    }
    let unique = if index.unique { "UNIQUE " } else { "" };
    let partial = if index.sparse {
        format!(" WHERE {}", present.join(" OR "))
    } else {
        String::new()
    };
    Ok(format!(
        "CREATE {unique}INDEX IF NOT EXISTS {} ON {} ({}){partial}",
        quote_ident(&index_name(collection, index)),
        quote_ident(collection),
        columns.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_model::IndexKey;

    fn index(keys: &[(&str, IndexOrder)], unique: bool, sparse: bool) -> IndexDef {
        IndexDef {
            name: "n".into(),
            keys: keys
                .iter()
                .map(|(p, o)| IndexKey {
                    path: (*p).into(),
                    order: *o,
                })
                .collect(),
            unique,
            sparse,
            expire_after_seconds: None,
        }
    }

    #[test]
    fn compound_unique_sparse_index_sql() {
        let sql = create_index(
            "orders",
            &index(
                &[
                    ("payment.status", IndexOrder::Asc),
                    ("createdAt", IndexOrder::Desc),
                ],
                true,
                true,
            ),
        )
        .unwrap();
        assert_eq!(
            sql,
            "CREATE UNIQUE INDEX IF NOT EXISTS \"orders.n\" ON \"orders\" \
             (jsonb_extract(doc, '$.\"payment\".\"status\"'), jsonb_extract(doc, '$.\"createdAt\"') DESC) \
             WHERE jsonb_extract(doc, '$.\"payment\".\"status\"') IS NOT NULL OR jsonb_extract(doc, '$.\"createdAt\"') IS NOT NULL"
        );
    }

    #[test]
    fn quoting_cannot_be_escaped() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(json_path_literal("c", "it's").unwrap(), "'$.\"it''s\"'");
        assert!(json_path_literal("c", "a\"b").is_err());
        assert!(json_path_literal("c", "a..b").is_err());
    }
}
