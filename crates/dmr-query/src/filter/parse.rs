//! From a MongoDB query document to a [`Filter`].

use dmr_model::Pattern;
use serde_json::{Map, Value};

use super::{Cond, ElemMatch, Filter};
use crate::error::QueryError;
use crate::limits::{Budget, Limits};
use crate::{literal, operators, path};

pub(super) fn parse(v: &Value, limits: &Limits) -> Result<Filter, QueryError> {
    operators::reject_forbidden(v)?;
    let mut parser = Parser {
        budget: Budget::new(limits),
        texts: 0,
    };
    parser.filter(v, "", 1, Place::Top)
}

/// Where a filter object sits, which decides whether `$text` may appear.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Top,
    InTopAnd,
    Nested,
}

pub(crate) struct Parser {
    pub(crate) budget: Budget,
    texts: usize,
}

impl Parser {
    pub(crate) fn new(limits: &Limits) -> Parser {
        Parser {
            budget: Budget::new(limits),
            texts: 0,
        }
    }

    /// A filter nested in something else (`$pull`'s sub-document match):
    /// no `$text` there.
    pub(crate) fn nested_filter(
        &mut self,
        v: &Value,
        at: &str,
        depth: usize,
    ) -> Result<Filter, QueryError> {
        self.filter(v, at, depth, Place::Nested)
    }

    fn filter(
        &mut self,
        v: &Value,
        at: &str,
        depth: usize,
        place: Place,
    ) -> Result<Filter, QueryError> {
        self.budget.depth(depth)?;
        let Value::Object(map) = v else {
            return Err(QueryError::invalid(at, "a filter must be an object"));
        };
        self.budget.node()?;
        let mut parts = Vec::with_capacity(map.len());
        for (key, value) in map {
            parts.push(self.clause(key, value, depth, place)?);
        }
        Ok(match parts.len() {
            0 => Filter::All,
            1 => parts.remove(0),
            _ => Filter::And(parts),
        })
    }

    fn clause(
        &mut self,
        key: &str,
        value: &Value,
        depth: usize,
        place: Place,
    ) -> Result<Filter, QueryError> {
        match key {
            "$and" | "$or" | "$nor" => {
                let items = match value {
                    Value::Array(items) if !items.is_empty() => items,
                    _ => {
                        return Err(QueryError::invalid(
                            key,
                            format!("{key} needs a non-empty array of filter objects"),
                        ));
                    }
                };
                let inner = if key == "$and" && place == Place::Top {
                    Place::InTopAnd
                } else {
                    Place::Nested
                };
                let parts = items
                    .iter()
                    .map(|item| self.filter(item, key, depth + 1, inner))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(match key {
                    "$and" => Filter::And(parts),
                    "$or" => Filter::Or(parts),
                    _ => Filter::Nor(parts),
                })
            }
            "$text" => self.text(value, place),
            _ if key.starts_with('$') => Err(operators::unknown(key)),
            _ => {
                path::check(key)?;
                let conds = self.path_value(key, value, depth + 1)?;
                self.budget.node()?;
                Ok(Filter::Path {
                    path: key.to_owned(),
                    conds,
                })
            }
        }
    }

    fn text(&mut self, value: &Value, place: Place) -> Result<Filter, QueryError> {
        if place == Place::Nested {
            return Err(QueryError::invalid(
                "$text",
                "$text is only allowed at the top level of a filter or in a top-level $and",
            ));
        }
        self.texts += 1;
        if self.texts > 1 {
            return Err(QueryError::invalid(
                "$text",
                "only one $text is allowed in a filter",
            ));
        }
        self.budget.node()?;
        let Value::Object(map) = value else {
            return Err(QueryError::invalid(
                "$text",
                "$text needs an object like {\"$search\": \"words\"}",
            ));
        };
        let mut search = None;
        for (key, operand) in map {
            match (key.as_str(), operand) {
                ("$search", Value::String(s)) => search = Some(s.clone()),
                ("$search", _) => {
                    return Err(QueryError::invalid("$text", "$search needs a string"));
                }
                ("$language" | "$caseSensitive" | "$diacriticSensitive", _) => {
                    return Err(QueryError::invalid(
                        "$text",
                        format!("{key} is not supported"),
                    ));
                }
                _ if key.starts_with('$') => return Err(operators::unknown(key)),
                _ => {
                    return Err(QueryError::invalid(
                        "$text",
                        format!("unexpected field '{key}' in $text"),
                    ));
                }
            }
        }
        let search = search.ok_or_else(|| QueryError::invalid("$text", "$text needs $search"))?;
        Ok(Filter::Text { search })
    }

    /// The value of a path clause: an operator object or a literal (equality).
    /// `depth` is the level of that value.
    pub(crate) fn path_value(
        &mut self,
        at: &str,
        value: &Value,
        depth: usize,
    ) -> Result<Vec<Cond>, QueryError> {
        match value {
            Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => {
                self.conds(map, at, depth)
            }
            _ => Ok(vec![Cond::Eq(self.literal(value, at, depth)?)]),
        }
    }

    /// An operator object such as `{$gt: 1, $lt: 5}` at nesting `depth`.
    pub(crate) fn conds(
        &mut self,
        map: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<Vec<Cond>, QueryError> {
        self.budget.depth(depth)?;
        if let Some(field) = map.keys().find(|k| !k.starts_with('$')) {
            return Err(QueryError::invalid(
                at,
                format!("cannot mix operators and fields in one object (found '{field}')"),
            ));
        }
        let regex = map.get("$regex");
        let options = map.get("$options");
        if options.is_some() && regex.is_none() {
            return Err(QueryError::invalid(at, "$options needs $regex"));
        }
        let mut out = Vec::with_capacity(map.len());
        for (op, operand) in map {
            self.budget.node()?;
            let cond = match op.as_str() {
                "$eq" => Cond::Eq(self.literal(operand, at, depth + 1)?),
                "$ne" => Cond::Ne(self.literal(operand, at, depth + 1)?),
                "$gt" => Cond::Gt(self.literal(operand, at, depth + 1)?),
                "$gte" => Cond::Gte(self.literal(operand, at, depth + 1)?),
                "$lt" => Cond::Lt(self.literal(operand, at, depth + 1)?),
                "$lte" => Cond::Lte(self.literal(operand, at, depth + 1)?),
                "$in" => Cond::In(self.list(op, operand, at, depth + 1)?),
                "$nin" => Cond::Nin(self.list(op, operand, at, depth + 1)?),
                "$all" => Cond::All(self.list(op, operand, at, depth + 1)?),
                "$exists" => Cond::Exists(match operand {
                    Value::Bool(b) => *b,
                    Value::Number(n) => n.as_f64() != Some(0.0),
                    _ => return Err(QueryError::invalid(at, "$exists needs true or false")),
                }),
                "$regex" => Cond::Regex(regex_cond(operand, options, at)?),
                "$options" => continue,
                "$size" => Cond::Size(size(operand, at)?),
                "$elemMatch" => Cond::ElemMatch(self.elem_match(operand, at, depth + 1)?),
                "$not" => match operand {
                    Value::Object(inner)
                        if !inner.is_empty() && inner.keys().all(|k| k.starts_with('$')) =>
                    {
                        Cond::Not(self.conds(inner, at, depth + 1)?)
                    }
                    _ => {
                        return Err(QueryError::invalid(
                            at,
                            "$not needs an operator object such as {\"$gt\": 5} or {\"$regex\": \"^a\"}",
                        ));
                    }
                },
                "$and" | "$or" | "$nor" | "$text" => {
                    return Err(QueryError::invalid(
                        at,
                        format!("{op} is only valid at the top of a filter, not on a field"),
                    ));
                }
                other => return Err(operators::unknown(other)),
            };
            out.push(cond);
        }
        Ok(out)
    }

    fn elem_match(
        &mut self,
        operand: &Value,
        at: &str,
        depth: usize,
    ) -> Result<ElemMatch, QueryError> {
        let Value::Object(map) = operand else {
            return Err(QueryError::invalid(at, "$elemMatch needs an object"));
        };
        // MongoDB's rule: a leading field-level operator means conditions on
        // the elements themselves; anything else is a filter on object elements.
        let first = map.keys().next().map(String::as_str);
        match first {
            Some(k) if k.starts_with('$') && !matches!(k, "$and" | "$or" | "$nor") => {
                Ok(ElemMatch::Conds(self.conds(map, at, depth)?))
            }
            _ => Ok(ElemMatch::Filter(Box::new(self.filter(
                operand,
                at,
                depth,
                Place::Nested,
            )?))),
        }
    }

    fn list(
        &mut self,
        op: &str,
        operand: &Value,
        at: &str,
        depth: usize,
    ) -> Result<Vec<Value>, QueryError> {
        let Value::Array(items) = operand else {
            return Err(QueryError::invalid(at, format!("{op} needs an array")));
        };
        self.literal(operand, at, depth)?;
        Ok(items.clone())
    }

    pub(crate) fn literal(
        &mut self,
        v: &Value,
        at: &str,
        depth: usize,
    ) -> Result<Value, QueryError> {
        literal::check(v, at, depth, &mut self.budget)?;
        Ok(v.clone())
    }
}

/// Bound on a `$regex`'s compiled program: a hostile pattern cannot take megabytes per
/// query.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

fn regex_cond(source: &Value, options: Option<&Value>, at: &str) -> Result<Pattern, QueryError> {
    let Value::String(source) = source else {
        return Err(QueryError::invalid(at, "$regex needs a string"));
    };
    let options = match options {
        None => "",
        Some(Value::String(s)) => s,
        Some(_) => return Err(QueryError::invalid(at, "$options needs a string")),
    };
    Pattern::with_options(source, options, REGEX_SIZE_LIMIT)
        .map_err(|e| QueryError::invalid(at, e.to_string()))
}

fn size(operand: &Value, at: &str) -> Result<usize, QueryError> {
    let n = match operand {
        Value::Number(n) => n.as_u64().or_else(|| {
            // MongoDB accepts whole floats (`2.0`).
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        }),
        _ => None,
    };
    n.and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| QueryError::invalid(at, "$size needs a non-negative integer"))
}
