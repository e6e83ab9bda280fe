//! Embeds CloudFormation's resource schemas (`schema/resources/*.json`,
//! written by `scripts/resource-schemas.py` from a pinned source) into the
//! binary, so validation needs neither the network nor Python at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/resources");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("schema/resources exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut entries = Vec::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(path).expect("readable schema");
        entries.push((type_name(&text, path), path.display().to_string()));
    }
    // Sorted by type name, so lookups can binary-search.
    entries.sort();
    let mut code = String::from("/// (resource type, schema text) of every embedded schema, sorted by type.\npub static RESOURCE_SCHEMA_TEXTS: &[(&str, &str)] = &[\n");
    for (type_name, path) in &entries {
        writeln!(code, "    ({type_name:?}, include_str!({path:?})),").expect("write to a string");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("resource_schemas.rs");
    std::fs::write(out, code).expect("write the generated list");
}

/// The `typeName` a schema file declares (the generator writes it first-level,
/// as `"typeName": "AWS::Service::Resource"`).
fn type_name(text: &str, path: &Path) -> String {
    let marker = "\"typeName\": \"";
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{} has no typeName", path.display()))
        + marker.len();
    let end = text[start..]
        .find('"')
        .expect("typeName is a closed string")
        + start;
    text[start..end].to_string()
}
