//! A resource schema as static data, as `build.rs` writes it.
//!
//! Like a JSON value, with three differences: `$ref`s are already resolved
//! (a [`Node::Ref`] points at the definition), `pattern` keywords are
//! [`Pattern`]s, each compiled the first time it is used, and
//! `patternProperties` is a list of `[pattern, schema]` pairs.

use super::pattern::Pattern;
use serde_json::Value;
use std::fmt;

#[derive(Debug)]
pub enum Node {
    Null,
    Bool(bool),
    Number(f64),
    String(&'static str),
    Array(&'static [Node]),
    Object(&'static [(&'static str, Node)]),
    Ref(&'static Node),
    Pattern(&'static Pattern),
}

impl Node {
    /// The value of `key` in an object node.
    pub fn get(&'static self, key: &str) -> Option<&'static Node> {
        find(self.entries(), key)
    }

    /// An object node's entries, sorted by key (none for other nodes).
    pub fn entries(&'static self) -> &'static [(&'static str, Node)] {
        match self {
            Node::Object(entries) => entries,
            _ => &[],
        }
    }

    pub fn as_str(&'static self) -> Option<&'static str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn items(&'static self) -> &'static [Node] {
        match self {
            Node::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Node::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_f64()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0)
            .map(|n| n as u64)
    }

    /// Whether a template value equals this node (for `enum` and `const`).
    pub fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (Node::Null, Value::Null) => true,
            (Node::Bool(a), Value::Bool(b)) => a == b,
            (Node::Number(a), Value::Number(b)) => b.as_f64() == Some(*a),
            (Node::String(a), Value::String(b)) => a == b,
            (Node::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.equals(b))
            }
            (Node::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(*k).is_some_and(|bv| v.equals(bv)))
            }
            (Node::Ref(target), value) => target.equals(value),
            _ => false,
        }
    }
}

/// The value of `key` among an object node's entries (`build.rs` sorts them).
pub fn find(entries: &'static [(&'static str, Node)], key: &str) -> Option<&'static Node> {
    entries
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| &entries[i].1)
}

/// JSON, as messages quote schema values (`"PAY_PER_REQUEST"`, `128`).
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Null => f.write_str("null"),
            Node::Bool(b) => write!(f, "{b}"),
            Node::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Node::Number(n) => write!(f, "{n}"),
            Node::String(s) => write!(f, "{}", Value::from(*s)),
            Node::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Node::Object(entries) => {
                f.write_str("{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{v}", Value::from(*k))?;
                }
                f.write_str("}")
            }
            Node::Ref(target) => write!(f, "{target}"),
            Node::Pattern(pattern) => write!(f, "{}", Value::from(pattern.source())),
        }
    }
}
