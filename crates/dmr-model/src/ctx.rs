//! Building located errors while walking a parsed model file.

use std::fmt::Display;

use crate::error::ModelError;
use crate::locate::{self, JPath, Node};

/// The source being parsed, and where each of its values sits.
pub(crate) struct Ctx<'a> {
    origin: &'a str,
    src: &'a str,
    tree: Node,
}

impl<'a> Ctx<'a> {
    /// `src` must already have been accepted by serde_json.
    pub(crate) fn new(origin: &'a str, src: &'a str) -> Self {
        Ctx {
            origin,
            src,
            tree: locate::scan(src),
        }
    }

    pub(crate) fn tree(&self) -> &Node {
        &self.tree
    }

    pub(crate) fn at(&self, offset: usize, reason: String) -> ModelError {
        let (line, column) = locate::line_col(self.src, offset);
        ModelError {
            origin: self.origin.to_owned(),
            line,
            column,
            reason,
        }
    }

    /// A bad value: points at the value, reason prefixed with its path.
    pub(crate) fn value_err(&self, path: &JPath, msg: impl Display) -> ModelError {
        self.at(locate::value_offset(&self.tree, path), prefixed(path, msg))
    }

    /// A bad key (unknown, misplaced): points at the key, reason prefixed
    /// with the path of the object holding it.
    pub(crate) fn key_err(&self, path: &JPath, msg: impl Display) -> ModelError {
        self.at(
            locate::key_offset(&self.tree, path),
            prefixed(&path.parent(), msg),
        )
    }

    /// A problem at one character inside the string value at `path`.
    pub(crate) fn char_err(
        &self,
        path: &JPath,
        char_index: usize,
        msg: impl Display,
    ) -> ModelError {
        let at = locate::value_offset(&self.tree, path);
        self.at(
            locate::string_char_offset(self.src, at, char_index),
            prefixed(path, msg),
        )
    }
}

fn prefixed(path: &JPath, msg: impl Display) -> String {
    if path.is_root() {
        msg.to_string()
    } else {
        format!("{path}: {msg}")
    }
}
