//! Stack files as text: where every value came from.
//!
//! Parsing keeps a location on every node, environment overlays are merged
//! node by node (so an overridden value still points at the override), and a
//! serde deserializer over the tree reports problems at their exact place.
//! Nothing here touches the file system: callers hand in text.

mod de;
mod overlay;
mod yaml;

pub use de::{deserialize_collecting, DeserializeReport};
pub use overlay::merge_overlay;
pub use yaml::{parse_yaml, Key, Node, NodeValue};

use std::fmt;

/// A file handed to the loader: its display name and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Where a piece of text sits: 1-based line and column, length in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One step of a path into the stack definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the stack definition, such as `functions.api.memory`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn root() -> Self {
        Path(Vec::new())
    }
    /// Builds a path from dotted text; numeric parts become indexes.
    pub fn parse(dotted: &str) -> Self {
        if dotted.is_empty() {
            return Path::root();
        }
        Path(
            dotted
                .split('.')
                .map(|p| match p.parse::<usize>() {
                    Ok(i) => Seg::Index(i),
                    Err(_) => Seg::Key(p.to_string()),
                })
                .collect(),
        )
    }
    pub fn key(&self, k: impl Into<String>) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    pub fn parent(&self) -> Option<Path> {
        if self.0.is_empty() {
            None
        } else {
            Some(Path(self.0[..self.0.len() - 1].to_vec()))
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
