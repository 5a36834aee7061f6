//! Dotted document paths (`items.0.quantity`), built as a chain on the
//! stack and only turned into a string when an error names one.

use std::fmt;

#[derive(Clone, Copy)]
pub(crate) enum DocPath<'a> {
    Root,
    /// A path given whole, e.g. to `cast_path`.
    Given(&'a str),
    Key(&'a DocPath<'a>, &'a str),
    Index(&'a DocPath<'a>, usize),
}

impl<'a> DocPath<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> DocPath<'a> {
        DocPath::Key(self, key)
    }

    pub(crate) fn index(&'a self, i: usize) -> DocPath<'a> {
        DocPath::Index(self, i)
    }

    fn is_empty(&self) -> bool {
        match self {
            DocPath::Root => true,
            DocPath::Given(s) => s.is_empty(),
            _ => false,
        }
    }
}

impl fmt::Display for DocPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (parent, last): (&DocPath, &dyn fmt::Display) = match self {
            DocPath::Root => return Ok(()),
            DocPath::Given(s) => return f.write_str(s),
            DocPath::Key(p, k) => (p, k),
            DocPath::Index(p, i) => (p, i),
        };
        if parent.is_empty() {
            write!(f, "{last}")
        } else {
            write!(f, "{parent}.{last}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let root = DocPath::Root;
        let items = root.key("items");
        let first = items.index(0);
        assert_eq!(first.key("qty").to_string(), "items.0.qty");
        assert_eq!(root.to_string(), "");
        let given = DocPath::Given("a.b");
        assert_eq!(given.key("c").to_string(), "a.b.c");
    }
}
