//! YAML text to a tree of located nodes.
//!
//! Scalars keep their source text and whether they were quoted, so a typed
//! field decides what `true` or `0755` means (a plain `true` is a bool for a
//! bool field and the text "true" for an environment variable). Duplicate
//! keys, tags such as `!Ref`, and multiple documents are rejected here,
//! because a stack file that means two things must not silently mean one.

use super::Loc;
use crate::diagnostic::Diagnostic;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub loc: Loc,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// Text as written; `plain` is false when it was quoted or a block scalar.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub loc: Loc,
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar { text, plain: true } if is_null_text(text))
    }
    pub fn as_map(&self) -> Option<&Vec<(Key, Node)>> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match &mut self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }
    /// Removes and returns the value under `key` of a mapping.
    pub fn take(&mut self, key: &str) -> Option<(Key, Node)> {
        let map = self.as_map_mut()?;
        let pos = map.iter().position(|(k, _)| k.name == key)?;
        Some(map.remove(pos))
    }
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar { .. } if self.is_null() => "nothing (null)",
            NodeValue::Scalar { .. } => "a scalar",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

pub fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Parses one YAML document. Returns the root node, or every problem found.
pub fn parse_yaml(text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        match event {
            Ok((event, span)) => builder.push(event, span),
            Err(e) => {
                let m = e.marker();
                builder.problems.push(
                    Diagnostic::error(format!("this is not valid YAML: {}", e.info()))
                        .at(Loc {
                            line: m.line() as u32,
                            col: m.col() as u32 + 1,
                            len: 1,
                        })
                        .hint("check the indentation and quoting around this place"),
                );
                break;
            }
        }
    }
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    match builder.documents.len() {
        0 => Err(vec![Diagnostic::error("the stack file is empty").hint(
            "a stack file starts with `name: my-app`; see `stackctl schema` for every field",
        )]),
        1 => Ok(builder.documents.pop().expect("one document")),
        _ => Err(vec![Diagnostic::error(
            "a stack file holds exactly one YAML document, found several",
        )
        .at(builder.documents[1].loc)
        .hint("put each stack in its own file under stacks/")]),
    }
}

fn loc_of(span: &Span) -> Loc {
    let start = span.start;
    let len = if span.end.line() == start.line() {
        span.end.index().saturating_sub(start.index())
    } else {
        1
    };
    Loc {
        line: start.line() as u32,
        col: start.col() as u32 + 1,
        len: len.max(1) as u32,
    }
}

/// Collects parser events into nodes.
#[derive(Default)]
struct Builder {
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    problems: Vec<Diagnostic>,
}

enum Open {
    Seq {
        items: Vec<Node>,
        loc: Loc,
        anchor: usize,
    },
    /// `merged` names the entries that came in through a `<<` merge key; an
    /// explicit key may override those, but not another explicit key.
    Map {
        entries: Vec<(Key, Node)>,
        merged: Vec<String>,
        pending_key: Option<Key>,
        loc: Loc,
        anchor: usize,
    },
}

impl Builder {
    fn push(&mut self, event: Event<'_>, span: Span) {
        let loc = loc_of(&span);
        match event {
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => {
                    let mut node = node.clone();
                    node.loc = loc;
                    self.finish(node, 0);
                }
                None => self
                    .problems
                    .push(Diagnostic::error("this alias refers to an unknown anchor").at(loc)),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let mut plain = matches!(style, ScalarStyle::Plain);
                if let Some(tag) = tag {
                    if tag.handle == "tag:yaml.org,2002:" && tag.suffix == "str" {
                        plain = false;
                    } else {
                        self.reject_tag(&format!("{}{}", tag.handle, tag.suffix), loc);
                    }
                }
                let node = Node {
                    value: NodeValue::Scalar {
                        text: text.into_owned(),
                        plain,
                    },
                    loc,
                };
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                if let Some(tag) = tag {
                    self.reject_tag(&format!("{}{}", tag.handle, tag.suffix), loc);
                }
                self.stack.push(Open::Seq {
                    items: Vec::new(),
                    loc,
                    anchor,
                });
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(tag) = tag {
                    self.reject_tag(&format!("{}{}", tag.handle, tag.suffix), loc);
                }
                self.stack.push(Open::Map {
                    entries: Vec::new(),
                    merged: Vec::new(),
                    pending_key: None,
                    loc,
                    anchor,
                });
            }
            Event::SequenceEnd => {
                if let Some(Open::Seq { items, loc, anchor }) = self.stack.pop() {
                    self.finish(
                        Node {
                            value: NodeValue::Seq(items),
                            loc,
                        },
                        anchor,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Open::Map {
                    entries,
                    loc,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    self.finish(
                        Node {
                            value: NodeValue::Map(entries),
                            loc,
                        },
                        anchor,
                    );
                }
            }
        }
    }

    fn reject_tag(&mut self, tag: &str, loc: Loc) {
        let shown = tag
            .strip_prefix("tag:yaml.org,2002:")
            .map(|s| format!("!!{s}"))
            .unwrap_or_else(|| tag.to_string());
        self.problems.push(
            Diagnostic::error(format!("YAML tags such as `{shown}` are not allowed in a stack file"))
                .at(loc)
                .hint("stackctl writes the CloudFormation itself; refer to other parts of the stack with `${tables.NAME.name}`-style references, or quote the text if it is meant literally"),
        );
    }

    /// Places a completed node into its parent (or as a document).
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                merged: merged_names,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => match &node.value {
                    NodeValue::Scalar { text, .. } => {
                        *pending_key = Some(Key {
                            name: text.clone(),
                            loc: node.loc,
                        })
                    }
                    _ => {
                        self.problems.push(
                            Diagnostic::error("mapping keys must be plain names")
                                .at(node.loc)
                                .hint("write `name: value`"),
                        );
                        *pending_key = Some(Key {
                            name: String::new(),
                            loc: node.loc,
                        });
                    }
                },
                Some(key) if key.name == "<<" => {
                    // YAML merge key: entries of the merged mapping(s) that the
                    // current mapping does not already set.
                    let sources: Vec<Node> = match node.value {
                        NodeValue::Seq(items) => items,
                        _ => vec![node],
                    };
                    for source in sources {
                        match source.value {
                            NodeValue::Map(merged) => {
                                for (k, v) in merged {
                                    if !entries.iter().any(|(e, _)| e.name == k.name) {
                                        merged_names.push(k.name.clone());
                                        entries.push((k, v));
                                    }
                                }
                            }
                            _ => self.problems.push(
                                Diagnostic::error("`<<` merges mappings only")
                                    .at(source.loc)
                                    .hint("use `<<: *anchor` where the anchor names a mapping"),
                            ),
                        }
                    }
                }
                Some(key) => {
                    if let Some(m) = merged_names.iter().position(|n| *n == key.name) {
                        merged_names.remove(m);
                        entries.retain(|(k, _)| k.name != key.name);
                        entries.push((key, node));
                    } else if let Some((first, _)) =
                        entries.iter().find(|(k, _)| k.name == key.name)
                    {
                        self.problems.push(
                            Diagnostic::error(format!(
                                "`{}` is set twice in this mapping",
                                key.name
                            ))
                            .at(key.loc)
                            .hint(format!(
                                "the first is at line {}; remove one of them",
                                first.loc.line
                            )),
                        );
                    } else {
                        entries.push((key, node));
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_locations_and_text() {
        let node = parse_yaml("name: app\nfunctions:\n  api:\n    memory: 512\n").unwrap();
        let memory = node
            .get("functions")
            .unwrap()
            .get("api")
            .unwrap()
            .get("memory")
            .unwrap();
        assert_eq!(
            memory.loc,
            Loc {
                line: 4,
                col: 13,
                len: 3
            }
        );
        assert_eq!(
            memory.value,
            NodeValue::Scalar {
                text: "512".into(),
                plain: true
            }
        );
    }

    #[test]
    fn rejects_duplicate_keys_with_both_places() {
        let problems = parse_yaml("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].loc().unwrap().line, 3);
        assert!(problems[0].hint.as_ref().unwrap().contains("line 1"));
    }

    #[test]
    fn rejects_cloudformation_tags() {
        let problems = parse_yaml("env:\n  TABLE: !Ref Table\n").unwrap_err();
        assert!(problems[0].message.contains("`!Ref`"), "{:?}", problems[0]);
    }

    #[test]
    fn quoted_scalars_are_not_plain() {
        let node = parse_yaml("a: 'true'\nb: true\n").unwrap();
        assert_eq!(
            node.get("a").unwrap().value,
            NodeValue::Scalar {
                text: "true".into(),
                plain: false
            }
        );
        assert_eq!(
            node.get("b").unwrap().value,
            NodeValue::Scalar {
                text: "true".into(),
                plain: true
            }
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let node = parse_yaml("base: &b {memory: 256, timeout: 5}\nfn:\n  <<: *b\n  memory: 512\n")
            .unwrap();
        let f = node.get("fn").unwrap();
        assert_eq!(
            f.get("memory").unwrap().value,
            NodeValue::Scalar {
                text: "512".into(),
                plain: true
            }
        );
        assert_eq!(
            f.get("timeout").unwrap().value,
            NodeValue::Scalar {
                text: "5".into(),
                plain: true
            }
        );
    }

    #[test]
    fn broken_yaml_is_located() {
        let problems = parse_yaml("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(problems[0].message.contains("not valid YAML"));
        assert!(problems[0].loc().is_some());
    }
}
