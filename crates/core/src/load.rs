//! From stack file text to a typed definition for one environment.
//!
//! `parse` reads the file once; `resolve` merges one environment's overlay,
//! deserializes, validates, and turns every path-anchored diagnostic into a
//! file location in the merged tree (so a problem in an override points at
//! the override).

use crate::diagnostic::{suggestion, Anchor, Diagnostic};
use crate::model::{StackDef, DEFAULT_ENVIRONMENTS};
use crate::source::{
    deserialize_collecting, merge_overlay, parse_yaml, Loc, Node, NodeValue, Path, Seg, SourceFile,
};
use crate::validate::{self, AvailableCode, Valid};
use indexmap::IndexMap;

/// A parsed stack file: the base definition and each environment's overlay.
#[derive(Debug, Clone)]
pub struct StackSource {
    pub file: SourceFile,
    base: Node,
    overlays: IndexMap<String, Node>,
}

/// One environment of a stack, typed and validated.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub env: String,
    definition: Definition,
    pub diagnostics: Vec<Diagnostic>,
    /// The merged definition as located nodes, to place later findings.
    tree: Option<Node>,
}

/// How far a definition got.
#[derive(Debug, Clone, Default)]
enum Definition {
    /// It could not be read as a definition at all.
    #[default]
    Unreadable,
    /// It was read, and has errors.
    Invalid(StackDef),
    Valid(Valid<StackDef>),
}

impl Resolved {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The definition, when it could be read (even if it has errors).
    pub fn def(&self) -> Option<&StackDef> {
        match &self.definition {
            Definition::Unreadable => None,
            Definition::Invalid(def) => Some(def),
            Definition::Valid(valid) => Some(valid),
        }
    }
    /// Where in the stack file a value the definition at `origin` produced
    /// stands: the scalar under `origin` that reads as `value` when there is
    /// exactly one, else `origin`'s own key.
    pub fn anchor_for(&self, origin: &Path, value: Option<&serde_json::Value>) -> Anchor {
        let Some(tree) = &self.tree else {
            return Anchor::Nowhere;
        };
        let subtree = value.and_then(|v| node_at(tree, origin).map(|n| (n, v)));
        if let Some((node, value)) = subtree {
            let mut matches = Vec::new();
            scalars_equal_to(node, value, &mut matches);
            if let [only] = matches.as_slice() {
                return Anchor::At(*only);
            }
        }
        locate(tree, &Anchor::Key(origin.clone()))
    }

    /// The definition with its proof of validity, when there is no error at all.
    pub fn valid_def(&self) -> Option<&Valid<StackDef>> {
        match &self.definition {
            Definition::Valid(valid) => Some(valid),
            _ => None,
        }
    }
}

impl StackSource {
    /// Parses the text; fails only when it is not a usable YAML mapping.
    pub fn parse(file: SourceFile) -> Result<StackSource, (SourceFile, Vec<Diagnostic>)> {
        let mut root = match parse_yaml(&file.text) {
            Ok(root) => root,
            Err(problems) => return Err((file, problems)),
        };
        if root.as_map().is_none() {
            let d = Diagnostic::error(format!(
                "a stack file is a mapping of fields, this is {}",
                root.kind_name()
            ))
            .at(root.loc)
            .hint("start with `name: my-app`");
            return Err((file, vec![d]));
        }
        let mut problems = Vec::new();
        let mut overlays = IndexMap::new();
        match root.take("environments") {
            None => {
                for env in DEFAULT_ENVIRONMENTS {
                    overlays.insert(env.to_string(), empty_map(root.loc));
                }
            }
            Some((key, node)) => match node.value {
                crate::source::NodeValue::Map(entries) => {
                    for (env_key, overlay) in entries {
                        if !is_valid_env_name(&env_key.name) {
                            problems.push(
                                Diagnostic::error(format!("`{}` is not a usable environment name", env_key.name))
                                    .at(env_key.loc)
                                    .hint("environment names are lowercase letters, digits and hyphens, starting with a letter, at most 16 characters (they become part of the stack name)"),
                            );
                        }
                        let overlay = if overlay.is_null() { empty_map(overlay.loc) } else { overlay };
                        if overlay.as_map().is_none() {
                            problems.push(
                                Diagnostic::error(format!("environment `{}` must be a mapping of overrides, found {}", env_key.name, overlay.kind_name()))
                                    .at(overlay.loc)
                                    .hint("write overrides as the fields they change, such as `functions: {api: {memory: 1024}}`, or `{}` for none"),
                            );
                            continue;
                        }
                        if let Some((k, _)) = overlay.entry("environments") {
                            problems.push(Diagnostic::error("environments cannot be nested").at(k.loc).hint("move these overrides to the top-level `environments`"));
                            continue;
                        }
                        overlays.insert(env_key.name, overlay);
                    }
                }
                _ if node.is_null() => {
                    problems.push(Diagnostic::error("`environments` is empty").at(key.loc).hint("list the environments, such as `environments: {dev: {}, prod: {}}`, or remove the field to get dev, staging and prod"));
                }
                _ => problems.push(
                    Diagnostic::error("`environments` must map environment names to overrides")
                        .at(node.loc)
                        .hint("write `environments: {dev: {}, prod: {functions: {api: {memory: 1024}}}}`"),
                ),
            },
        }
        if problems.is_empty() {
            Ok(StackSource {
                file,
                base: root,
                overlays,
            })
        } else {
            Err((file, problems))
        }
    }

    pub fn environments(&self) -> impl Iterator<Item = &str> + Clone {
        self.overlays.keys().map(String::as_str)
    }

    /// The prebuilt packages (`zip: {path: …}`) the stack names in any
    /// environment, as written, so the caller can say which exist.
    pub fn zip_paths(&self) -> std::collections::BTreeSet<String> {
        self.environments()
            .map(|env| self.resolve(env))
            .flat_map(|resolved| {
                let functions = resolved.def().map(|def| def.functions.values());
                functions
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.zip.as_ref().map(|zip| zip.path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The definition as it stands in `env`, with every problem found
    /// (the code it names is not looked for).
    pub fn resolve(&self, env: &str) -> Resolved {
        self.resolve_with(env, &AvailableCode::default())
    }

    /// The definition as it stands in `env`, with every problem found,
    /// including code it names that is not among `code`.
    pub fn resolve_with(&self, env: &str, code: &AvailableCode) -> Resolved {
        let Some(overlay) = self.overlays.get(env) else {
            let d = Diagnostic::error(format!("this stack has no environment `{env}`")).maybe_hint(
                suggestion(env, self.environments())
                    .map(|s| format!("{s} (environments are declared under `environments:`)")),
            );
            return Resolved {
                env: env.to_string(),
                definition: Definition::Unreadable,
                diagnostics: vec![d],
                tree: None,
            };
        };
        let mut tree = self.base.clone();
        merge_overlay(&mut tree, overlay.clone());
        let report = deserialize_collecting::<StackDef>(&tree);
        let mut diagnostics = report.diagnostics;
        let definition = match report.value {
            None => Definition::Unreadable,
            Some(def) => {
                let (checked, problems) = validate::validate(def, env, code);
                diagnostics.extend(problems);
                match checked {
                    // Reading it found errors validation does not see (unknown fields).
                    Ok(valid) if diagnostics.iter().any(Diagnostic::is_error) => {
                        Definition::Invalid(valid.into_inner())
                    }
                    Ok(valid) => Definition::Valid(valid),
                    Err(def) => Definition::Invalid(def),
                }
            }
        };
        for d in &mut diagnostics {
            d.anchor = locate(&tree, &d.anchor);
        }
        diagnostics.sort_by_key(|d| (d.loc().unwrap_or_default(), d.message.clone()));
        diagnostics.dedup();
        Resolved {
            env: env.to_string(),
            definition,
            diagnostics,
            tree: Some(tree),
        }
    }
}

fn empty_map(loc: Loc) -> Node {
    Node {
        value: crate::source::NodeValue::Map(Vec::new()),
        loc,
    }
}

pub fn is_valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 16
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Turns a path anchor into a location: the value (or key) itself when it
/// exists in the tree, else the nearest enclosing node that does.
fn locate(tree: &Node, anchor: &Anchor) -> Anchor {
    let (path, want_key) = match anchor {
        Anchor::Value(p) => (p, false),
        Anchor::Key(p) => (p, true),
        other => return other.clone(),
    };
    let mut node = tree;
    let mut loc = tree.loc;
    for (i, seg) in path.0.iter().enumerate() {
        let last = i + 1 == path.0.len();
        let next = match (seg, &node.value) {
            (Seg::Key(k), crate::source::NodeValue::Map(entries)) => entries
                .iter()
                .find(|(key, _)| key.name == *k)
                .map(|(key, v)| {
                    if last && want_key {
                        loc = key.loc;
                    }
                    v
                }),
            (Seg::Index(n), crate::source::NodeValue::Seq(items)) => items.get(*n),
            _ => None,
        };
        match next {
            Some(n) => {
                node = n;
                if !(last && want_key && matches!(seg, Seg::Key(_))) {
                    loc = n.loc;
                }
            }
            None => break,
        }
    }
    Anchor::At(loc)
}

fn node_at<'n>(tree: &'n Node, path: &Path) -> Option<&'n Node> {
    path.0
        .iter()
        .try_fold(tree, |node, seg| match (seg, &node.value) {
            (Seg::Key(k), NodeValue::Map(entries)) => entries
                .iter()
                .find(|(key, _)| key.name == *k)
                .map(|(_, v)| v),
            (Seg::Index(n), NodeValue::Seq(items)) => items.get(*n),
            _ => None,
        })
}

/// Locations of the scalars under `node` whose text is `value` (a string as
/// written, or a number or boolean's text).
fn scalars_equal_to(node: &Node, value: &serde_json::Value, out: &mut Vec<Loc>) {
    match &node.value {
        NodeValue::Scalar { text, .. } => {
            let same = match value {
                serde_json::Value::String(s) => s == text,
                serde_json::Value::Number(n) => text.parse::<f64>().ok() == n.as_f64(),
                serde_json::Value::Bool(b) => text == if *b { "true" } else { "false" },
                _ => false,
            };
            if same {
                out.push(node.loc);
            }
        }
        NodeValue::Seq(items) => items.iter().for_each(|n| scalars_equal_to(n, value, out)),
        NodeValue::Map(entries) => entries
            .iter()
            .for_each(|(_, n)| scalars_equal_to(n, value, out)),
    }
}

/// Convenience for tests and tools: parse and resolve text in one step.
pub fn resolve_text(name: &str, text: &str, env: &str) -> (SourceFile, Resolved) {
    let file = SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    };
    match StackSource::parse(file) {
        Ok(source) => {
            let resolved = source.resolve(env);
            (source.file, resolved)
        }
        Err((file, diagnostics)) => (
            file,
            Resolved {
                env: env.to_string(),
                definition: Definition::Unreadable,
                diagnostics,
                tree: None,
            },
        ),
    }
}
