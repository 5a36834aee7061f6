//! Index specs exactly as Mongoose sends them for the same schema (keys in order, the same
//! name, `unique` / `sparse` / `expireAfterSeconds` only when set), so a database the Node
//! registry created is used as it is: `createIndexes` finds the same index and does nothing.

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
}
