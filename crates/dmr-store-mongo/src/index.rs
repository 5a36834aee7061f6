//! Index specs exactly as Mongoose sends them for the same schema (keys in order, the same
//! name, `unique` / `sparse` / `expireAfterSeconds` only when set), and the comparison that
//! lets a database the Node registry created be used as it is: an existing index with the
//! same name, keys and meaning is that index, whatever else it carries (Mongoose's
//! `background: true` makes some servers refuse an otherwise identical `createIndexes`).

use std::time::Duration;

use dmr_model::{IndexDef, IndexOrder};
use mongodb::IndexModel;
use mongodb::bson::{Bson, Document};
use mongodb::options::IndexOptions;

pub(crate) fn index_model(index: &IndexDef) -> IndexModel {
    let keys: Document = index
        .keys
        .iter()
        .map(|key| {
            let direction = match key.order {
                IndexOrder::Asc => Bson::Int32(1),
                IndexOrder::Desc => Bson::Int32(-1),
                IndexOrder::Text => Bson::String("text".to_owned()),
            };
            (key.path.clone(), direction)
        })
        .collect();
    let options = IndexOptions::builder()
        .name(index.name.clone())
        .unique(index.unique.then_some(true))
        .sparse(index.sparse.then_some(true))
        .expire_after(index.expire_after_seconds.map(Duration::from_secs))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// Whether an existing index is the one the model wants: same keys (text indexes, which
/// the server stores as `_fts`/`_ftsx`, by name alone) and the same `unique`, `sparse` and
/// TTL. Other options (Mongoose's `background`, which some servers still compare) do not
/// make it another index.
pub(crate) fn same_index(existing: &IndexModel, wanted: &IndexDef) -> bool {
    let options = existing.options.as_ref();
    let flag = |f: fn(&IndexOptions) -> Option<bool>| options.and_then(f).unwrap_or(false);
    let ttl = options.and_then(|o| o.expire_after).map(|d| d.as_secs());
    let keys_match = if wanted.is_text() {
        existing.keys.get("_fts").is_some()
    } else {
        existing.keys.len() == wanted.keys.len()
            && existing
                .keys
                .iter()
                .zip(&wanted.keys)
                .all(|((path, direction), key)| {
                    let expected = match key.order {
                        IndexOrder::Asc => 1.0,
                        IndexOrder::Desc => -1.0,
                        IndexOrder::Text => return false,
                    };
                    path == &key.path && number(direction) == Some(expected)
                })
    };
    keys_match
        && flag(|o| o.unique) == wanted.unique
        && flag(|o| o.sparse) == wanted.sparse
        && ttl == wanted.expire_after_seconds
}

/// An index direction as stored: Int32, Int64 or Double, depending on who made it.
fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmr_model::IndexKey;
    use mongodb::bson::doc;

    #[test]
    fn specs_carry_only_what_mongoose_sets() {
        let index = IndexDef {
            name: "email_1_createdAt_-1".into(),
            keys: vec![
                IndexKey {
                    path: "email".into(),
                    order: IndexOrder::Asc,
                },
                IndexKey {
                    path: "createdAt".into(),
                    order: IndexOrder::Desc,
                },
            ],
            unique: true,
            sparse: false,
            expire_after_seconds: None,
        };
        let model = index_model(&index);
        assert_eq!(model.keys, doc! {"email": 1, "createdAt": -1});
        let options = model.options.unwrap();
        assert_eq!(options.name.as_deref(), Some("email_1_createdAt_-1"));
        assert_eq!(options.unique, Some(true));
        assert_eq!(options.sparse, None);
        assert_eq!(options.expire_after, None);
    }

    #[test]
    fn an_existing_index_matches_by_keys_and_the_options_that_change_its_meaning() {
        let wanted = IndexDef {
            name: "email_1".into(),
            keys: vec![IndexKey {
                path: "email".into(),
                order: IndexOrder::Asc,
            }],
            unique: true,
            sparse: false,
            expire_after_seconds: None,
        };
        #[allow(deprecated, reason = "what Mongoose sends")]
        let mongoose = IndexModel::builder()
            .keys(doc! {"email": 1.0})
            .options(
                IndexOptions::builder()
                    .name("email_1".to_owned())
                    .unique(true)
                    .background(true)
                    .build(),
            )
            .build();
        assert!(
            same_index(&mongoose, &wanted),
            "background and a Double direction are the same index"
        );
        let not_unique = IndexModel::builder().keys(doc! {"email": 1}).build();
        assert!(!same_index(&not_unique, &wanted));
        let descending = IndexModel::builder()
            .keys(doc! {"email": -1})
            .options(IndexOptions::builder().unique(true).build())
            .build();
        assert!(!same_index(&descending, &wanted));
    }
}
