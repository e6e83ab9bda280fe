//! A deterministic YAML writer for templates.
//!
//! Block style for mappings and lists, plain scalars only where YAML cannot
//! read them as anything else, JSON-quoted strings otherwise. Multi-line
//! strings (build specs, policies) use literal blocks when that round-trips.

use super::{json_scalar, write_json_scalar};
use serde_json::Value;
use std::fmt::Write as _;

pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0, false);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize, in_list: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 || !in_list {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&" ".repeat(indent));
                }
                if plain_ok(k) {
                    out.push_str(k);
                } else {
                    out.push_str(&key(k));
                }
                out.push(':');
                write_child(out, v, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 || !in_list {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(&" ".repeat(indent));
                }
                out.push_str("- ");
                match item {
                    Value::Object(m) if !m.is_empty() => write_value(out, item, indent + 2, true),
                    Value::Array(a) if !a.is_empty() => write_value(out, item, indent + 2, true),
                    _ => write_scalar(out, item, indent + 2),
                }
            }
        }
        _ => write_scalar(out, value, indent),
    }
}

fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_value(out, value, indent, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_value(out, value, indent, false);
        }
        _ => {
            out.push(' ');
            write_scalar(out, value, indent);
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn key(k: &str) -> String {
    if plain_ok(k) {
        k.to_string()
    } else {
        json_scalar(&Value::String(k.to_string()))
    }
}

fn write_scalar(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::String(s) if plain_ok(s) => out.push_str(s),
        Value::String(s) if literal_block_ok(s) => out.push_str(&scalar(value, indent)),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        other => write_json_scalar(out, other),
    }
}

fn scalar(value: &Value, indent: usize) -> String {
    match value {
        Value::String(s) if plain_ok(s) => s.clone(),
        Value::String(s) if literal_block_ok(s) => {
            // `|-` strips the final line break, `|` keeps one, `|+` keeps all.
            let mut block = String::from("|");
            if !s.ends_with('\n') {
                block.push('-');
            } else if s.ends_with("\n\n") {
                block.push('+');
            }
            block.push('\n');
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if !line.is_empty() {
                    let _ = write!(block, "{}{line}", " ".repeat(indent));
                }
                block.push('\n');
            }
            block
        }
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => json_scalar(other),
    }
}

/// Text YAML reads back as the same string when written without quotes.
/// Cheap checks first: this runs for every string of every template.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" _-./:()*@=+,".contains(&b))
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
    {
        return false;
    }
    // Words YAML 1.1 or 1.2 readers take for booleans, null or numbers.
    const RESERVED: [&str; 12] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "inf", "nan", "infinity",
    ];
    !(s.len() <= 8 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)))
}

/// Multi-line text without trailing spaces or tabs, safe in a literal block.
fn literal_block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars().all(|c| {
            c == '\n'
                || (!c.is_control()
                    && c != '\u{feff}'
                    && c != '\u{2028}'
                    && c != '\u{2029}'
                    && c != '\u{85}')
        })
        && s.lines().all(|l| {
            !l.ends_with(' ') && !l.starts_with(' ') || l.trim().is_empty() && l.is_empty()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::node_to_json;
    use crate::source::parse_yaml;
    use serde_json::json;

    fn round_trip(v: &Value) -> Value {
        node_to_json(&parse_yaml(&to_yaml(v)).unwrap())
    }

    #[test]
    fn round_trips_awkward_values() {
        let v = json!({
            "Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {"Name": "true", "N": 5, "F": 1.5, "Empty": "", "Colon": "a: b",
              "List": ["x", {"Ref": "B"}, ["nested"]], "Map": {}, "Arr": [], "Multi": "line one\nline two\n", "Keep": "a\n\n", "Strip": "a\nb", "Blank": "a\n\nb\n", "Hash": "a #b", "Dash": "-1", "Date": "2010-09-09", "Digits": "123abc",
              "Sub": {"Fn::Sub": "${AWS::StackName}-x"}, "Quote": "it's \"quoted\"", "Lead": " lead", "Bool": false, "Null": null}}}
        });
        assert_eq!(round_trip(&v), v);
    }
}
