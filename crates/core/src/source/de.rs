//! A serde deserializer over located nodes.
//!
//! Three things serde alone does not give a config loader:
//! - every error carries the line and column of the value it is about;
//! - unknown fields are collected (with "did you mean") instead of stopping
//!   at the first, since the struct's field list is known here;
//! - after a type error, the smallest enclosing named entry (a function, a
//!   table, a list item) is set aside and deserialization runs again, so one
//!   bad entry does not hide problems in the others.

use super::{Loc, Node, NodeValue, Path};
use crate::diagnostic::{suggestion, Diagnostic};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

/// The result of deserializing a tree: the value when there was no type
/// error, and every problem found either way.
pub struct DeserializeReport<T> {
    pub value: Option<T>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Deserializes `root` into `T`, collecting every problem it can find.
///
/// Unknown fields are reported but do not stop the value from being built
/// (they are dropped), so later validation can report more; a type error
/// means no value.
pub fn deserialize_collecting<T: DeserializeOwned>(root: &Node) -> DeserializeReport<T> {
    const MAX_ROUNDS: usize = 64;
    let mut tree = root.clone();
    let mut seen = BTreeSet::new();
    let mut diagnostics = Vec::new();
    let mut fatal = false;
    for _ in 0..MAX_ROUNDS {
        let ctx = RefCell::new(Vec::new());
        let result = T::deserialize(NodeDe {
            node: &tree,
            path: Path::root(),
            ctx: &ctx,
            recoverable: false,
        });
        for d in ctx.into_inner() {
            if seen.insert(d.clone()) {
                diagnostics.push(d);
            }
        }
        match result {
            Ok(value) => {
                return DeserializeReport {
                    value: (!fatal).then_some(value),
                    diagnostics,
                };
            }
            Err(e) => {
                fatal = true;
                let recover_at = e.recover_at.clone();
                let d = e.into_diagnostic();
                if seen.insert(d.clone()) {
                    diagnostics.push(d);
                }
                match recover_at {
                    Some(path) if !path.is_empty() && remove_at(&mut tree, &path) => continue,
                    _ => break,
                }
            }
        }
    }
    DeserializeReport {
        value: None,
        diagnostics,
    }
}

fn remove_at(root: &mut Node, path: &Path) -> bool {
    use super::Seg;
    let (last, parents) = path.0.split_last().expect("non-empty path");
    let mut node = root;
    for seg in parents {
        let next = match (seg, &mut node.value) {
            (Seg::Key(k), NodeValue::Map(entries)) => entries
                .iter_mut()
                .find(|(key, _)| key.name == *k)
                .map(|(_, v)| v),
            (Seg::Index(i), NodeValue::Seq(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, &mut node.value) {
        (Seg::Key(k), NodeValue::Map(entries)) => {
            let before = entries.len();
            entries.retain(|(key, _)| key.name != *k);
            entries.len() != before
        }
        (Seg::Index(i), NodeValue::Seq(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// A deserialization error, located once it passes through a node.
#[derive(Debug)]
pub struct DeError {
    message: String,
    hint: Option<String>,
    loc: Option<Loc>,
    path: Option<Path>,
    recover_at: Option<Path>,
}

impl DeError {
    fn new(message: impl Into<String>) -> Self {
        DeError {
            message: message.into(),
            hint: None,
            loc: None,
            path: None,
            recover_at: None,
        }
    }
    fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
    fn into_diagnostic(self) -> Diagnostic {
        let message = match &self.path {
            Some(p) if !p.is_empty() => format!("`{p}`: {}", self.message),
            _ => self.message,
        };
        let hint = self.hint.unwrap_or_else(|| {
            "`stackctl schema` lists every field and the values it takes".to_string()
        });
        let d = Diagnostic::error(message).hint(hint);
        match self.loc {
            Some(loc) => d.at(loc),
            None => d,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(friendly(&msg.to_string()))
    }
}

/// Rewrites serde's type vocabulary ("u32", "struct Function") in words a
/// stack author uses.
fn friendly(message: &str) -> String {
    let mut out = message.to_string();
    for (from, to) in [
        ("expected u8", "expected a whole number (0-255)"),
        ("expected u16", "expected a whole number (0-65535)"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a map", "expected a mapping of names to values"),
    ] {
        if let Some(rest) = out.strip_suffix(from) {
            out = format!("{rest}{to}");
        }
    }
    if let Some(i) = out.find("expected struct ") {
        out.truncate(i);
        out.push_str("expected a mapping of fields");
    }
    out
}

type Unknowns<'a> = &'a RefCell<Vec<Diagnostic>>;

struct NodeDe<'a> {
    node: &'a Node,
    path: Path,
    ctx: Unknowns<'a>,
    /// Whether this node may be set aside after an error inside it (an
    /// entry of a user-named mapping or a list item).
    recoverable: bool,
}

impl<'a> NodeDe<'a> {
    fn locate(&self, mut e: DeError) -> DeError {
        if e.loc.is_none() {
            e.loc = Some(self.node.loc);
            e.path = Some(self.path.clone());
        }
        if e.recover_at.is_none() && self.recoverable {
            e.recover_at = Some(self.path.clone());
        }
        e
    }

    fn found(&self) -> String {
        match &self.node.value {
            NodeValue::Scalar { text, .. } if !self.node.is_null() => format!("`{text}`"),
            _ => self.node.kind_name().to_string(),
        }
    }

    fn mismatch(&self, expected: &dyn de::Expected) -> DeError {
        DeError::new(friendly(&format!("expected {expected}")).replacen(
            "expected ",
            &format!("found {}, expected ", self.found()),
            1,
        ))
    }

    fn scalar_text(&self, expected: &dyn de::Expected) -> Result<(&'a str, bool), DeError> {
        match &self.node.value {
            NodeValue::Scalar { text, plain } if !self.node.is_null() => {
                Ok((text.as_str(), *plain))
            }
            _ => Err(self.mismatch(expected)),
        }
    }

    fn number<N: std::str::FromStr>(&self, expected: &dyn de::Expected) -> Result<N, DeError> {
        let (text, plain) = self.scalar_text(expected)?;
        let cleaned = text.replace('_', "");
        match cleaned.parse::<N>() {
            Ok(n) if plain => Ok(n),
            Ok(_) => Err(self
                .mismatch(expected)
                .with_hint(Some("remove the quotes around the number".into()))),
            Err(_) => Err(self.mismatch(expected)),
        }
    }

    fn child(&self, node: &'a Node, path: Path, recoverable: bool) -> NodeDe<'a> {
        NodeDe {
            node,
            path,
            ctx: self.ctx,
            recoverable,
        }
    }
}

macro_rules! number_method {
    ($method:ident, $ty:ty, $visit:ident) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n: $ty = self.number(&visitor).map_err(|e| self.locate(e))?;
            visitor.$visit(n).map_err(|e| self.locate(e))
        }
    };
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            _ if self.node.is_null() => visitor.visit_unit(),
            NodeValue::Scalar { text, plain: false } => visitor.visit_str(text),
            NodeValue::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => visitor.visit_bool(true),
                "false" | "False" | "FALSE" => visitor.visit_bool(false),
                t => {
                    if let Ok(u) = t.parse::<u64>() {
                        visitor.visit_u64(u)
                    } else if let Ok(i) = t.parse::<i64>() {
                        visitor.visit_i64(i)
                    } else if let Some(f) = t.parse::<f64>().ok().filter(|f| f.is_finite()) {
                        visitor.visit_f64(f)
                    } else {
                        visitor.visit_str(t)
                    }
                }
            },
            NodeValue::Seq(_) => return self.deserialize_seq(visitor),
            NodeValue::Map(_) => return self.deserialize_map(visitor),
        };
        result.map_err(|e| self.locate(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Scalar { text, plain: true }
                if matches!(text.as_str(), "true" | "True" | "TRUE") =>
            {
                visitor.visit_bool(true)
            }
            NodeValue::Scalar { text, plain: true }
                if matches!(text.as_str(), "false" | "False" | "FALSE") =>
            {
                visitor.visit_bool(false)
            }
            _ => Err(self
                .mismatch(&visitor)
                .with_hint(Some("write `true` or `false` without quotes".into()))),
        };
        result.map_err(|e| self.locate(e))
    }

    number_method!(deserialize_i8, i8, visit_i8);
    number_method!(deserialize_i16, i16, visit_i16);
    number_method!(deserialize_i32, i32, visit_i32);
    number_method!(deserialize_i64, i64, visit_i64);
    number_method!(deserialize_u8, u8, visit_u8);
    number_method!(deserialize_u16, u16, visit_u16);
    number_method!(deserialize_u32, u32, visit_u32);
    number_method!(deserialize_u64, u64, visit_u64);
    number_method!(deserialize_f32, f32, visit_f32);
    number_method!(deserialize_f64, f64, visit_f64);

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (text, _) = self.scalar_text(&visitor).map_err(|e| self.locate(e))?;
        visitor.visit_str(text).map_err(|e| self.locate(e))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_none().map_err(|e| self.locate(e))
        } else {
            let (path, loc_holder) = (self.path.clone(), self.node);
            let recoverable = self.recoverable;
            let ctx = self.ctx;
            visitor
                .visit_some(NodeDe {
                    node: loc_holder,
                    path: path.clone(),
                    ctx,
                    recoverable,
                })
                .map_err(|e| {
                    NodeDe {
                        node: loc_holder,
                        path,
                        ctx,
                        recoverable,
                    }
                    .locate(e)
                })
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor.visit_unit().map_err(|e| self.locate(e))
        } else {
            Err(self.locate(self.mismatch(&visitor)))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (node, path, ctx, recoverable) =
            (self.node, self.path.clone(), self.ctx, self.recoverable);
        visitor
            .visit_newtype_struct(NodeDe {
                node,
                path: path.clone(),
                ctx,
                recoverable,
            })
            .map_err(|e| {
                NodeDe {
                    node,
                    path,
                    ctx,
                    recoverable,
                }
                .locate(e)
            })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: &[Node] = match &self.node.value {
            NodeValue::Seq(items) => items,
            _ if self.node.is_null() => &[],
            _ => return Err(self.locate(self.mismatch(&visitor))),
        };
        let access = SeqDe {
            parent: &self,
            items: items.iter().enumerate(),
        };
        visitor.visit_seq(access).map_err(|e| self.locate(e))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries = match self.map_entries(&visitor) {
            Ok(entries) => entries,
            Err(e) => return Err(self.locate(e)),
        };
        let access = MapDe {
            parent: &self,
            entries: entries.into_iter(),
            pending: None,
            named_entries: true,
        };
        visitor.visit_map(access).map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries = match self.map_entries(&visitor) {
            Ok(entries) => entries,
            Err(e) => return Err(self.locate(e)),
        };
        let known: Vec<_> = entries
            .into_iter()
            .filter(|(key, _)| {
                if fields.contains(&key.name.as_str()) {
                    return true;
                }
                let place = if self.path.is_empty() {
                    "the stack definition".to_string()
                } else {
                    format!("`{}`", self.path)
                };
                self.ctx.borrow_mut().push(
                    Diagnostic::error(format!("unknown field `{}` in {place}", key.name))
                        .at(key.loc)
                        .maybe_hint(suggestion(&key.name, fields.iter().copied())),
                );
                false
            })
            .collect();
        let access = MapDe {
            parent: &self,
            entries: known.into_iter(),
            pending: None,
            named_entries: false,
        };
        visitor.visit_map(access).map_err(|e| self.locate(e))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (variant, content, key_loc) = match &self.node.value {
            NodeValue::Scalar { text, .. } if !self.node.is_null() => {
                (text.as_str(), None, self.node.loc)
            }
            NodeValue::Map(entries) if entries.len() == 1 => (
                entries[0].0.name.as_str(),
                Some(&entries[0].1),
                entries[0].0.loc,
            ),
            _ => {
                let expected = variants
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(self.locate(DeError::new(format!(
                    "found {}, expected one of {expected}",
                    self.found()
                ))));
            }
        };
        if !variants.contains(&variant) {
            let mut e = DeError::new(format!("`{variant}` is not an accepted value"))
                .with_hint(suggestion(variant, variants.iter().copied()));
            e.loc = Some(key_loc);
            return Err(self.locate(e));
        }
        let access = EnumDe {
            parent: &self,
            variant,
            content,
        };
        visitor.visit_enum(access).map_err(|e| self.locate(e))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

impl<'a> NodeDe<'a> {
    fn map_entries(
        &self,
        expected: &dyn de::Expected,
    ) -> Result<Vec<&'a (super::Key, Node)>, DeError> {
        match &self.node.value {
            NodeValue::Map(entries) => Ok(entries.iter().collect()),
            _ if self.node.is_null() => Ok(Vec::new()),
            _ => Err(self.mismatch(expected)),
        }
    }
}

struct SeqDe<'p, 'a> {
    parent: &'p NodeDe<'a>,
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
}

impl<'de, 'p, 'a> de::SeqAccess<'de> for SeqDe<'p, 'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(self.parent.child(node, self.parent.path.index(i), true))
                .map(Some),
        }
    }
}

struct MapDe<'p, 'a> {
    parent: &'p NodeDe<'a>,
    entries: std::vec::IntoIter<&'a (super::Key, Node)>,
    pending: Option<&'a (super::Key, Node)>,
    /// The keys are names the author chose (functions, tables…), so each
    /// value is an entry that can be set aside after an error.
    named_entries: bool,
}

impl<'de, 'p, 'a> de::MapAccess<'de> for MapDe<'p, 'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(entry);
        let key: de::value::StrDeserializer<'_, DeError> =
            entry.0.name.as_str().into_deserializer();
        seed.deserialize(key).map(Some).map_err(|mut e| {
            e.loc.get_or_insert(entry.0.loc);
            e.path
                .get_or_insert_with(|| self.parent.path.key(entry.0.name.clone()));
            if self.named_entries && e.recover_at.is_none() {
                e.recover_at = Some(self.parent.path.key(entry.0.name.clone()));
            }
            e
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, node) = self
            .pending
            .take()
            .expect("serde asks for a key before its value");
        seed.deserialize(self.parent.child(
            node,
            self.parent.path.key(key.name.clone()),
            self.named_entries,
        ))
    }
}

struct EnumDe<'p, 'a> {
    parent: &'p NodeDe<'a>,
    variant: &'a str,
    content: Option<&'a Node>,
}

impl<'de, 'p, 'a> de::EnumAccess<'de> for EnumDe<'p, 'a> {
    type Error = DeError;
    type Variant = Self;
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), DeError> {
        let key: de::value::StrDeserializer<'_, DeError> = self.variant.into_deserializer();
        Ok((seed.deserialize(key)?, self))
    }
}

impl<'de, 'p, 'a> de::VariantAccess<'de> for EnumDe<'p, 'a> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.content {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(_) => Err(DeError::new(format!(
                "`{}` takes no settings",
                self.variant
            ))),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let node = self.content.ok_or_else(|| {
            DeError::new(format!(
                "`{}` needs settings: write `{}: …`",
                self.variant, self.variant
            ))
        })?;
        seed.deserialize(
            self.parent
                .child(node, self.parent.path.key(self.variant), false),
        )
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        let node = self
            .content
            .ok_or_else(|| DeError::new("expected a list"))?;
        de::Deserializer::deserialize_seq(
            self.parent
                .child(node, self.parent.path.key(self.variant), false),
            visitor,
        )
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let node = self.content.ok_or_else(|| {
            DeError::new(format!(
                "`{}` needs settings: write `{}: …`",
                self.variant, self.variant
            ))
        })?;
        de::Deserializer::deserialize_struct(
            self.parent
                .child(node, self.parent.path.key(self.variant), false),
            "",
            fields,
            visitor,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_yaml;
    use indexmap::IndexMap;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // fields exist to be deserialized
    struct Doc {
        name: String,
        #[serde(default)]
        functions: IndexMap<String, Func>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Func {
        memory: u32,
        #[serde(default)]
        arch: Option<Arch>,
        #[serde(default)]
        env: IndexMap<String, String>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Arch {
        X86_64,
        Arm64,
    }

    fn run(text: &str) -> DeserializeReport<Doc> {
        deserialize_collecting(&parse_yaml(text).unwrap())
    }

    #[test]
    fn collects_every_unknown_field_with_suggestions() {
        let r = run("name: a\nnmae: b\nfunctions:\n  f:\n    memory: 1\n    memroy: 2\n");
        assert_eq!(r.diagnostics.len(), 2, "{:#?}", r.diagnostics);
        assert_eq!(r.diagnostics[0].loc().unwrap().line, 2);
        assert_eq!(
            r.diagnostics[0].hint.as_deref(),
            Some("did you mean `name`?")
        );
        assert_eq!(r.diagnostics[1].loc().unwrap().line, 6);
        assert!(r.value.is_some(), "unknown fields alone still give a value");
    }

    #[test]
    fn type_errors_in_several_entries_are_all_reported() {
        let r = run("name: a\nfunctions:\n  f:\n    memory: lots\n  g:\n    memory: [1]\n  h:\n    arch: arm65\n");
        assert!(r.value.is_none());
        let lines: Vec<u32> = r
            .diagnostics
            .iter()
            .map(|d| d.loc().unwrap().line)
            .collect();
        assert_eq!(lines, vec![4, 6, 8], "{:#?}", r.diagnostics);
        assert!(
            r.diagnostics[0].message.contains("`functions.f.memory`"),
            "{}",
            r.diagnostics[0].message
        );
        assert_eq!(
            r.diagnostics[2].hint.as_deref(),
            Some("did you mean `arm64`?")
        );
    }

    #[test]
    fn missing_field_points_at_the_entry() {
        let r = run("name: a\nfunctions:\n  f:\n    env: {A: b}\n");
        assert_eq!(r.diagnostics.len(), 1);
        assert!(
            r.diagnostics[0].message.contains("missing field `memory`"),
            "{}",
            r.diagnostics[0].message
        );
        assert_eq!(r.diagnostics[0].loc().unwrap().line, 4);
    }

    #[test]
    fn plain_scalars_are_text_for_string_fields() {
        let r = run("name: a\nfunctions:\n  f:\n    memory: 128\n    env: {DEBUG: true, N: 5}\n");
        let doc = r.value.unwrap();
        assert_eq!(doc.functions["f"].env["DEBUG"], "true");
        assert_eq!(doc.functions["f"].env["N"], "5");
    }

    #[test]
    fn quoted_numbers_are_refused_with_a_hint() {
        let r = run("name: a\nfunctions:\n  f:\n    memory: '128'\n");
        assert!(r.diagnostics[0].hint.as_deref().unwrap().contains("quotes"));
    }
}
