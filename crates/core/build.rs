//! Compiles CloudFormation's resource schemas (`schema/resources/*.json`,
//! written by `scripts/resource-schemas.py` from a pinned source) into the
//! binary as static data, so validation needs neither the network nor
//! Python at run time, and pays nothing to parse them.
//!
//! Each schema becomes a tree of `resource_schema::Node` statics (object
//! entries sorted by key, for binary search): `$ref`s
//! point at the definition they name (a dangling one fails the build), and
//! every `pattern` keyword and `patternProperties` name pattern becomes a
//! `Pattern` compiled on first use.

use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time: `env!` would fix the path the build script was
    // compiled in, and a build script reused from another checkout (a
    // shared target dir) would read that checkout's schemas.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("schema/resources");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("schema/resources exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut schemas = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).expect("readable schema");
        let root: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let type_name = root["typeName"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no typeName", path.display()))
            .to_string();
        schemas.push((type_name, root));
    }
    // Sorted by type name, so lookups can binary-search.
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    let mut code = String::new();
    let mut list = String::from(
        "/// (resource type, schema) of every embedded schema, sorted by type.\n\
         pub static RESOURCE_SCHEMAS: &[(&str, &Node)] = &[\n",
    );
    for (index, (type_name, root)) in schemas.iter().enumerate() {
        let mut emitter = Emitter {
            schema: index,
            root,
            type_name,
            statics: HashMap::new(),
            pending: Vec::new(),
            code: &mut code,
            patterns: 0,
        };
        let root_name = emitter.emit_root();
        writeln!(list, "    ({type_name:?}, &{root_name}),").expect("write to a string");
    }
    list.push_str("];\n");
    code.push_str(&list);
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("resource_schemas.rs");
    std::fs::write(out, code).expect("write the generated schemas");
}

/// An object's entries sorted by key, so lookups at run time can binary-search.
fn sorted(map: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

struct Emitter<'a> {
    schema: usize,
    root: &'a Value,
    type_name: &'a str,
    /// The static each `$ref` target became.
    statics: HashMap<String, String>,
    /// `$ref` targets named but not written yet.
    pending: Vec<(String, &'a Value)>,
    code: &'a mut String,
    patterns: usize,
}

impl<'a> Emitter<'a> {
    fn emit_root(&mut self) -> String {
        let name = format!("SCHEMA_{}", self.schema);
        // Definitions are written as their own statics, where `$ref`s reach them.
        let mut expr = String::from("Node::Object(&[");
        for (key, value) in sorted(self.root.as_object().expect("a schema is an object")) {
            if key != "definitions" {
                let value = self.expr(value);
                write!(expr, "({key:?}, {value}),").expect("write to a string");
            }
        }
        expr.push_str("])");
        writeln!(self.code, "static {name}: Node = {expr};").expect("write to a string");
        while let Some((static_name, node)) = self.pending.pop() {
            let expr = self.expr(node);
            writeln!(self.code, "static {static_name}: Node = {expr};").expect("write to a string");
        }
        name
    }

    fn expr(&mut self, value: &'a Value) -> String {
        match value {
            Value::Null => "Node::Null".into(),
            Value::Bool(b) => format!("Node::Bool({b})"),
            Value::Number(n) => format!("Node::Number({:?})", n.as_f64().expect("finite")),
            Value::String(s) => format!("Node::String({s:?})"),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|i| self.expr(i)).collect();
                format!("Node::Array(&[{}])", items.join(","))
            }
            Value::Object(map) => {
                let mut expr = String::from("Node::Object(&[");
                for (key, value) in sorted(map) {
                    let value = match (key.as_str(), value) {
                        ("$ref", Value::String(pointer)) => self.reference(pointer),
                        ("pattern", Value::String(pattern)) => self.pattern(pattern),
                        ("patternProperties", Value::Object(by_pattern)) => {
                            self.pattern_properties(by_pattern)
                        }
                        _ => self.expr(value),
                    };
                    write!(expr, "({key:?}, {value}),").expect("write to a string");
                }
                expr.push_str("])");
                expr
            }
        }
    }

    fn reference(&mut self, pointer: &str) -> String {
        if let Some(name) = self.statics.get(pointer) {
            return format!("Node::Ref(&{name})");
        }
        let target = pointer
            .strip_prefix("#/")
            .and_then(|path| {
                path.split('/')
                    .try_fold(self.root, |node, part| node.get(part))
            })
            .unwrap_or_else(|| {
                panic!(
                    "the schema of {} refers to {pointer}, which it does not define",
                    self.type_name
                )
            });
        let name = format!("SCHEMA_{}_REF_{}", self.schema, self.statics.len());
        self.statics.insert(pointer.to_string(), name.clone());
        self.pending.push((name.clone(), target));
        format!("Node::Ref(&{name})")
    }

    /// `patternProperties` as a list of `[pattern, schema]` pairs, so each
    /// name pattern is compiled once too.
    fn pattern_properties(&mut self, by_pattern: &'a serde_json::Map<String, Value>) -> String {
        let mut pairs = Vec::new();
        for (pattern, schema) in by_pattern {
            let pattern = self.pattern(pattern);
            let schema = self.expr(schema);
            pairs.push(format!("Node::Array(&[{pattern},{schema}])"));
        }
        format!("Node::Array(&[{}])", pairs.join(","))
    }

    fn pattern(&mut self, pattern: &str) -> String {
        let name = format!("SCHEMA_{}_PATTERN_{}", self.schema, self.patterns);
        self.patterns += 1;
        writeln!(
            self.code,
            "static {name}: Pattern = Pattern::from_static({pattern:?});"
        )
        .expect("write to a string");
        format!("Node::Pattern(&{name})")
    }
}
