//! MongoDB's order over values, as it looks in our JSON documents.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// BSON's canonical type order, restricted to what JSON can hold. ObjectIds
/// and dates are strings in our documents, so they sort with strings (which is
/// right among themselves: ids are fixed-width hex, dates normalised ISO-8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    /// Null and missing.
    Null,
    Number,
    String,
    Object,
    Array,
    Bool,
}

pub(crate) fn class(v: &Value) -> Class {
    match v {
        Value::Null => Class::Null,
        Value::Number(_) => Class::Number,
        Value::String(_) => Class::String,
        Value::Object(_) => Class::Object,
        Value::Array(_) => Class::Array,
        Value::Bool(_) => Class::Bool,
    }
}

/// MongoDB's comparison order across types: null < numbers (integers and
/// floats compared numerically, so `1 == 1.0`) < strings (binary, i.e. by code
/// point) < objects < arrays < booleans (`false < true`).
///
/// Objects compare like BSON: pair by pair in stored order (type of the value,
/// then field name, then value), then by length — so key order matters.
/// Arrays compare element by element, then by length. A total order.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    let by_class = class(a).cmp(&class(b));
    if by_class != Ordering::Equal {
        return by_class;
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(xs), Value::Array(ys)) => {
            for (x, y) in xs.iter().zip(ys) {
                let o = compare_values(x, y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        (Value::Object(xs), Value::Object(ys)) => {
            for ((kx, x), (ky, y)) in xs.iter().zip(ys) {
                let o = class(x)
                    .cmp(&class(y))
                    .then_with(|| kx.cmp(ky))
                    .then_with(|| compare_values(x, y));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => Ordering::Equal,
    }
}

/// Deep equality in [`compare_values`]' sense (`1 == 1.0`, key order matters).
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    compare_values(a, b) == Ordering::Equal
}

/// A JSON number, exactly: integers up to u64 or i64, or a finite float.
#[derive(Clone, Copy)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

pub(crate) fn num(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(0.0))
    }
}

/// Numeric order without rounding integers through f64.
pub(crate) fn compare_numbers(a: &Number, b: &Number) -> Ordering {
    match (num(a), num(b)) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        // JSON floats are never NaN; -0.0 == 0.0 as in MongoDB.
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Num::Int(x), Num::Float(y)) => int_vs_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_vs_float(y, x).reverse(),
    }
}

fn int_vs_float(i: i128, f: f64) -> Ordering {
    // JSON floats are finite; beyond ±2^100 no i128 from JSON can be equal.
    const BIG: f64 = 1.0e30;
    if f >= BIG {
        return Ordering::Less;
    }
    if f <= -BIG {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // `whole` is within i128 range here, so the cast is exact.
    match i.cmp(&(whole as i128)) {
        Ordering::Equal if f > whole => Ordering::Less,
        Ordering::Equal if f < whole => Ordering::Greater,
        o => o,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn type_order_is_bson_order() {
        let ascending = [
            json!(null),
            json!(-5),
            json!(1.5),
            json!(""),
            json!("a"),
            json!({}),
            json!([]),
            json!(false),
            json!(true),
        ];
        for (i, a) in ascending.iter().enumerate() {
            for (j, b) in ascending.iter().enumerate() {
                assert_eq!(compare_values(a, b), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn numbers_compare_exactly() {
        assert_eq!(compare_values(&json!(1), &json!(1.0)), Ordering::Equal);
        assert_eq!(compare_values(&json!(0.0), &json!(-0.0)), Ordering::Equal);
        assert_eq!(compare_values(&json!(2), &json!(1.5)), Ordering::Greater);
        assert_eq!(compare_values(&json!(-2), &json!(-1.5)), Ordering::Less);
        assert_eq!(
            compare_values(&json!(9007199254740993_i64), &json!(9007199254740992.0)),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&json!(u64::MAX), &json!(i64::MIN)),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&json!(u64::MAX), &json!(1e300)),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&json!(i64::MIN), &json!(-1e300)),
            Ordering::Greater
        );
    }

    #[test]
    fn strings_by_code_point() {
        assert_eq!(compare_values(&json!("B"), &json!("a")), Ordering::Less);
        assert_eq!(compare_values(&json!("a"), &json!("ab")), Ordering::Less);
        assert_eq!(compare_values(&json!("é"), &json!("z")), Ordering::Greater);
    }

    #[test]
    fn arrays_and_objects() {
        assert_eq!(
            compare_values(&json!([1, 2]), &json!([1, 3])),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&json!([1, 2]), &json!([1])),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&json!([1, "a"]), &json!([1, 2])),
            Ordering::Greater
        );
        assert_eq!(
            compare_values(&json!({"a": 1}), &json!({"a": 1.0})),
            Ordering::Equal
        );
        assert_eq!(
            compare_values(&json!({"a": 1}), &json!({"b": 1})),
            Ordering::Less
        );
        assert_eq!(
            compare_values(&json!({"b": 1}), &json!({"a": "x"})),
            Ordering::Less,
            "value type before key"
        );
        assert_ne!(
            compare_values(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})),
            Ordering::Equal
        );
        assert_eq!(
            compare_values(&json!({"a": 1}), &json!({"a": 1, "b": 0})),
            Ordering::Less
        );
    }
}
