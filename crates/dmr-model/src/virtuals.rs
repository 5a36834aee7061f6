//! Declarative virtuals: a small MongoDB-aggregation-like expression
//! language instead of Mongoose's JavaScript getters.

use serde_json::{Map, Value};

use crate::ctx::Ctx;
use crate::defaults::{describe, number_value};
use crate::error::ModelError;
use crate::field::Schema;
use crate::locate::JPath;
use crate::naming::field_name_problem;
use crate::paths;
use crate::suggest::hint;

type Result<T> = std::result::Result<T, ModelError>;

/// A computed, read-only field.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualDef {
    pub name: String,
    pub expr: Expr,
}

impl VirtualDef {
    /// The virtual's value for a document.
    pub fn eval(&self, doc: &Value) -> Value {
        self.expr.eval(doc)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `"$a.b"`: the value at a dotted path; through arrays, the array of values.
    Path(String),
    Literal(Value),
    /// An array of expressions, evaluated element by element.
    Array(Vec<Expr>),
    Concat(Vec<Expr>),
    Add(Vec<Expr>),
    Subtract(Vec<Expr>),
    Multiply(Vec<Expr>),
    Divide(Vec<Expr>),
    /// Sum of the numbers the argument yields (an array's numeric elements,
    /// or a single number); 0 when there are none.
    Sum(Box<Expr>),
    Size(Box<Expr>),
    /// The first argument that is not null or missing, else the last.
    IfNull(Vec<Expr>),
}

const OPERATORS: [&str; 9] = [
    "$concat",
    "$add",
    "$subtract",
    "$multiply",
    "$divide",
    "$sum",
    "$size",
    "$ifNull",
    "$literal",
];

impl Expr {
    pub fn eval(&self, doc: &Value) -> Value {
        match self {
            Expr::Path(p) => {
                let segs: Vec<&str> = p.split('.').collect();
                lookup(doc, &segs).unwrap_or(Value::Null)
            }
            Expr::Literal(v) => v.clone(),
            Expr::Array(items) => Value::Array(items.iter().map(|e| e.eval(doc)).collect()),
            Expr::Concat(items) => {
                Value::String(items.iter().map(|e| concat_piece(&e.eval(doc))).collect())
            }
            Expr::Add(items) => arithmetic(items, doc, |a, b| Some(a + b)),
            Expr::Subtract(items) => arithmetic(items, doc, |a, b| Some(a - b)),
            Expr::Multiply(items) => arithmetic(items, doc, |a, b| Some(a * b)),
            Expr::Divide(items) => arithmetic(items, doc, |a, b| (b != 0.0).then(|| a / b)),
            Expr::Sum(arg) => {
                let total = match arg.eval(doc) {
                    Value::Number(n) => n.as_f64().unwrap_or(0.0),
                    Value::Array(items) => items.iter().filter_map(Value::as_f64).sum(),
                    _ => 0.0,
                };
                number_value(total)
            }
            Expr::Size(arg) => match arg.eval(doc) {
                Value::Array(items) => Value::from(items.len()),
                _ => Value::Null,
            },
            Expr::IfNull(items) => {
                let (last, first) = match items.split_last() {
                    Some(split) => split,
                    None => return Value::Null,
                };
                first
                    .iter()
                    .map(|e| e.eval(doc))
                    .find(|v| !v.is_null())
                    .unwrap_or_else(|| last.eval(doc))
            }
        }
    }
}

/// MongoDB path semantics: through an array, the path applies to each
/// element and elements lacking it are skipped.
fn lookup(v: &Value, segs: &[&str]) -> Option<Value> {
    let Some((first, rest)) = segs.split_first() else {
        return Some(v.clone());
    };
    match v {
        Value::Object(m) => lookup(m.get(*first)?, rest),
        Value::Array(items) => Some(Value::Array(
            items.iter().filter_map(|el| lookup(el, segs)).collect(),
        )),
        _ => None,
    }
}

/// How a value joins a `$concat`: strings as they are, numbers and booleans
/// as JavaScript prints them, null or missing as "" (deliberately not the
/// "undefined" the seed's JavaScript getter printed), anything else as JSON.
fn concat_piece(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(_) => match number_value(v.as_f64().unwrap_or(f64::NAN)) {
            Value::Null => v.to_string(),
            n => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Left fold over numbers; any non-number (or division by zero) gives null.
fn arithmetic(items: &[Expr], doc: &Value, op: fn(f64, f64) -> Option<f64>) -> Value {
    let mut numbers = items.iter().map(|e| {
        let v = e.eval(doc);
        v.as_f64().filter(|_| v.is_number())
    });
    let Some(Some(mut acc)) = numbers.next() else {
        return Value::Null;
    };
    for n in numbers {
        match n.and_then(|n| op(acc, n)) {
            Some(next) => acc = next,
            None => return Value::Null,
        }
    }
    number_value(acc)
}

/// The `"virtuals"` object: `{ name: expression }`.
pub(crate) fn parse_virtuals(
    ctx: &Ctx,
    v: &Value,
    path: &JPath,
    schema: &Schema,
) -> Result<Vec<VirtualDef>> {
    let Value::Object(m) = v else {
        return Err(ctx.value_err(
            path,
            format!(
                "must be an object of {{ \"name\": expression }}, not {}",
                describe(v)
            ),
        ));
    };
    let mut out = Vec::new();
    for (name, e) in m {
        let p = path.key(name);
        if let Some(problem) = field_name_problem(name) {
            return Err(ctx.key_err(&p, problem));
        }
        if schema.field(name).is_some() || (name == "_id" && schema.id) {
            return Err(ctx.key_err(&p, format!("virtual \"{name}\" has the name of a field")));
        }
        out.push(VirtualDef {
            name: name.clone(),
            expr: parse_expr(ctx, e, &p, schema)?,
        });
    }
    Ok(out)
}

fn parse_expr(ctx: &Ctx, v: &Value, path: &JPath, schema: &Schema) -> Result<Expr> {
    match v {
        Value::String(s) if s.starts_with('$') => {
            let p = &s[1..];
            if paths::resolve(schema, p).is_none() {
                let known = paths::all_paths(schema);
                return Err(ctx.value_err(
                    path,
                    format!(
                        "path \"{p}\" is not in the schema{}",
                        hint(p, known.iter().map(String::as_str))
                    ),
                ));
            }
            Ok(Expr::Path(p.to_owned()))
        }
        Value::Array(items) => Ok(Expr::Array(list(ctx, items, path, schema)?)),
        Value::Object(m) => parse_operator(ctx, m, path, schema),
        other => Ok(Expr::Literal(other.clone())),
    }
}

fn parse_operator(
    ctx: &Ctx,
    m: &Map<String, Value>,
    path: &JPath,
    schema: &Schema,
) -> Result<Expr> {
    let mut entries = m.iter();
    let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
        return Err(ctx.value_err(
            path,
            "an expression object has exactly one operator key, e.g. { \"$concat\": [...] }; \
             write { \"$literal\": {...} } for a literal object",
        ));
    };
    let ap = path.key(op);
    let args = |min: usize| -> Result<Vec<Expr>> {
        match arg {
            Value::Array(items) if items.len() >= min => list(ctx, items, &ap, schema),
            _ => Err(ctx.value_err(
                &ap,
                format!("takes an array of at least {min} expression(s)"),
            )),
        }
    };
    Ok(match op.as_str() {
        "$literal" => Expr::Literal(arg.clone()),
        "$concat" => Expr::Concat(args(1)?),
        "$add" => Expr::Add(args(2)?),
        "$subtract" => Expr::Subtract(args(2)?),
        "$multiply" => Expr::Multiply(args(2)?),
        "$divide" => Expr::Divide(args(2)?),
        "$ifNull" => Expr::IfNull(args(2)?),
        "$sum" => Expr::Sum(Box::new(parse_expr(ctx, arg, &ap, schema)?)),
        // MongoDB's single-argument form: `{"$size": "$x"}` or `{"$size": ["$x"]}`.
        "$size" => match arg {
            Value::Array(items) if items.len() == 1 => {
                Expr::Size(Box::new(parse_expr(ctx, &items[0], &ap.index(0), schema)?))
            }
            Value::Array(_) => return Err(ctx.value_err(&ap, "takes exactly one expression")),
            _ => Expr::Size(Box::new(parse_expr(ctx, arg, &ap, schema)?)),
        },
        _ => {
            return Err(ctx.key_err(
                &ap,
                format!(
                    "unknown operator \"{op}\"{}; supported: {}",
                    hint(op, OPERATORS),
                    OPERATORS.join(", ")
                ),
            ));
        }
    })
}

fn list(ctx: &Ctx, items: &[Value], path: &JPath, schema: &Schema) -> Result<Vec<Expr>> {
    items
        .iter()
        .enumerate()
        .map(|(i, e)| parse_expr(ctx, e, &path.index(i), schema))
        .collect()
}

/// An expression in the normalised definition; parses back to itself.
pub(crate) fn to_json(e: &Expr) -> Value {
    let op = |name: &str, v: Value| {
        let mut m = Map::new();
        m.insert(name.to_owned(), v);
        Value::Object(m)
    };
    let all = |items: &[Expr]| Value::Array(items.iter().map(to_json).collect());
    match e {
        Expr::Path(p) => Value::String(format!("${p}")),
        Expr::Literal(v) => match v {
            Value::String(s) if s.starts_with('$') => op("$literal", v.clone()),
            Value::Array(_) | Value::Object(_) => op("$literal", v.clone()),
            _ => v.clone(),
        },
        Expr::Array(items) => all(items),
        Expr::Concat(items) => op("$concat", all(items)),
        Expr::Add(items) => op("$add", all(items)),
        Expr::Subtract(items) => op("$subtract", all(items)),
        Expr::Multiply(items) => op("$multiply", all(items)),
        Expr::Divide(items) => op("$divide", all(items)),
        Expr::IfNull(items) => op("$ifNull", all(items)),
        Expr::Sum(arg) => op("$sum", to_json(arg)),
        Expr::Size(arg) => op("$size", Value::Array(vec![to_json(arg)])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> Expr {
        Expr::Path(p.to_owned())
    }

    #[test]
    fn concat_treats_missing_as_empty() {
        let e = Expr::Concat(vec![path("a"), Expr::Literal(json!(" ")), path("b")]);
        assert_eq!(
            e.eval(&json!({"a": "Ada", "b": "Lovelace"})),
            json!("Ada Lovelace")
        );
        assert_eq!(e.eval(&json!({"a": "Ada"})), json!("Ada "));
        assert_eq!(e.eval(&json!({"a": 1.0, "b": true})), json!("1 true"));
        assert_eq!(e.eval(&json!({"a": 2.5, "b": [1]})), json!("2.5 [1]"));
    }

    #[test]
    fn arithmetic_is_null_on_non_numbers() {
        let sub = Expr::Subtract(vec![path("q"), path("r")]);
        assert_eq!(sub.eval(&json!({"q": 10, "r": 3})), json!(7));
        assert_eq!(sub.eval(&json!({"q": 10})), Value::Null);
        assert_eq!(sub.eval(&json!({"q": 10, "r": "3"})), Value::Null);
        let div = Expr::Divide(vec![path("q"), path("r")]);
        assert_eq!(div.eval(&json!({"q": 10, "r": 4})), json!(2.5));
        assert_eq!(div.eval(&json!({"q": 10, "r": 0})), Value::Null);
        let mul = Expr::Multiply(vec![path("q"), Expr::Literal(json!(3)), path("r")]);
        assert_eq!(mul.eval(&json!({"q": 2, "r": 5})), json!(30));
        let add = Expr::Add(vec![path("q"), path("r")]);
        assert_eq!(add.eval(&json!({"q": 0.5, "r": 0.25})), json!(0.75));
    }

    #[test]
    fn paths_through_arrays() {
        let doc = json!({"items": [{"quantity": 2}, {"quantity": 3}, {"sku": "x"}]});
        assert_eq!(path("items.quantity").eval(&doc), json!([2, 3]));
        let sum = Expr::Sum(Box::new(path("items.quantity")));
        assert_eq!(sum.eval(&doc), json!(5));
        assert_eq!(sum.eval(&json!({})), json!(0));
        assert_eq!(Expr::Size(Box::new(path("items"))).eval(&doc), json!(3));
        assert_eq!(Expr::Size(Box::new(path("nope"))).eval(&doc), Value::Null);
    }

    #[test]
    fn if_null_takes_the_first_present() {
        let e = Expr::IfNull(vec![path("a"), path("b"), Expr::Literal(json!("none"))]);
        assert_eq!(e.eval(&json!({"b": 2})), json!(2));
        assert_eq!(e.eval(&json!({"a": null})), json!("none"));
        assert_eq!(e.eval(&json!({"a": 0})), json!(0));
    }
}
