//! The human form of a stack's diff, shared by `diff` and by `deploy`
//! (which shows it before asking): resource by resource, property by
//! property, and where a value is too long for a line, only the parts of it
//! that differ.

use crate::diff::{Action, Replacement};
use crate::engine::deploy::StackDiff;
use serde_json::Value;
use std::io::Write;

/// Values longer than this are shown by their differing parts.
const WIDTH: usize = 70;

fn short(v: Option<&Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(v) => {
            let t = v.to_string();
            if t.chars().count() > WIDTH {
                format!("{}…", t.chars().take(WIDTH - 1).collect::<String>())
            } else {
                t
            }
        }
    }
}

fn fits(v: Option<&Value>) -> bool {
    v.is_none_or(|v| v.to_string().chars().count() <= WIDTH)
}

/// One changed property: on one line when both values fit, else a line per
/// part that differs, so two long values never look alike.
fn print_property(
    out: &mut dyn Write,
    path: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    forces: &str,
) {
    if fits(before) && fits(after) || before.is_none() || after.is_none() {
        let _ = writeln!(
            out,
            "      {path}: {} → {}{forces}",
            short(before),
            short(after)
        );
        return;
    }
    let _ = writeln!(out, "      {path}:{forces}");
    let mut parts = Vec::new();
    differing_parts("", before, after, &mut parts);
    for (part, b, a) in parts {
        let _ = writeln!(out, "        {part}: {} → {}", short(b), short(a));
    }
}

/// The smallest parts of two values that differ, by path (`[0].AttributeName`).
fn differing_parts<'v>(
    at: &str,
    before: Option<&'v Value>,
    after: Option<&'v Value>,
    found: &mut Vec<(String, Option<&'v Value>, Option<&'v Value>)>,
) {
    let here = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else if key.starts_with('[') {
            format!("{at}{key}")
        } else {
            format!("{at}.{key}")
        }
    };
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: Vec<&String> = b
                .keys()
                .chain(a.keys().filter(|k| !b.contains_key(*k)))
                .collect();
            for k in keys {
                if b.get(k) != a.get(k) {
                    differing_parts(&here(k), b.get(k), a.get(k), found);
                }
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a))) => {
            for i in 0..b.len().max(a.len()) {
                if b.get(i) != a.get(i) {
                    differing_parts(&here(&format!("[{i}]")), b.get(i), a.get(i), found);
                }
            }
        }
        _ if before != after => {
            let part = if at.is_empty() {
                "(value)".to_string()
            } else {
                at.to_string()
            };
            found.push((part, before, after));
        }
        _ => {}
    }
}

/// The diff of one stack as a person reads it.
pub fn print_human(d: &StackDiff, out: &mut dyn Write) {
    let count = |a: Action| d.changes.iter().filter(|c| c.action == a).count();
    let state = if d.exists { "" } else { " (new stack)" };
    if d.changes.is_empty() {
        let _ = writeln!(out, "{}{state}: no changes", d.stack);
        return;
    }
    let _ = writeln!(
        out,
        "{}{state}: {} to add, {} to modify, {} to remove",
        d.stack,
        count(Action::Add),
        count(Action::Modify),
        count(Action::Remove)
    );
    for c in &d.changes {
        let sign = match c.action {
            Action::Add => "+",
            Action::Modify => "~",
            Action::Remove => "-",
        };
        let replacement = match c.replacement {
            Some(Replacement::True) => "  [replaced]",
            Some(Replacement::Conditional) => "  [may be replaced]",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  {sign} {}  {}{replacement}",
            c.logical_id, c.resource_type
        );
        for p in &c.properties {
            let forces = if p.replacement != Replacement::False {
                "  (forces replacement)"
            } else {
                ""
            };
            print_property(out, &p.path, p.before.as_ref(), p.after.as_ref(), forces);
        }
    }
    for r in &d.update_refusals {
        let _ = writeln!(
            out,
            "  ! refused: {} ({}): {}; a deploy refuses this",
            r.logical_id, r.resource_type, r.problem
        );
        let _ = writeln!(out, "      instead: {}", r.steps.join("; "));
    }
    for r in &d.data_loss {
        let _ = writeln!(out, "  ! data loss: {} ({}) would be {}; a deploy refuses this unless you pass --allow-replace {}", r.logical_id, r.resource_type, r.reason, r.logical_id);
    }
    // CloudFormation's own validation warnings (a non-empty bucket to delete…).
    for line in d.validation.lines(&d.stack) {
        let _ = writeln!(out, "  ! cloudformation: {line}");
    }
    // Grouped by resource, a few each: a new stack grants dozens.
    let mut by_resource: Vec<(&str, Vec<&str>)> = Vec::new();
    for (id, grant) in &d.broadening {
        match by_resource.iter_mut().find(|(r, _)| *r == id) {
            Some((_, grants)) => grants.push(grant),
            None => by_resource.push((id, vec![grant])),
        }
    }
    const SHOWN: usize = 3;
    for (id, grants) in &by_resource {
        let _ = writeln!(
            out,
            "  ! security: {id} gains {} grant{}",
            grants.len(),
            if grants.len() == 1 { "" } else { "s" }
        );
        for g in grants.iter().take(SHOWN) {
            let _ = writeln!(out, "      {g}");
        }
        if grants.len() > SHOWN {
            let _ = writeln!(
                out,
                "      … and {} more (`stackctl diff --output json` lists every one)",
                grants.len() - SHOWN
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_changed_value_shows_the_part_that_differs() {
        let key = |name: &str| json!([{"AttributeName": name, "KeyType": "HASH"}, {"AttributeName": "created_at_timestamp_for_sorting", "KeyType": "RANGE"}]);
        let (before, after) = (key("customer_identifier"), key("order_identifier"));
        assert!(
            !fits(Some(&before)),
            "the case needs a value longer than a line"
        );
        let mut out = Vec::new();
        print_property(
            &mut out,
            "KeySchema",
            Some(&before),
            Some(&after),
            "  (forces replacement)",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "      KeySchema:  (forces replacement)\n        [0].AttributeName: \"customer_identifier\" → \"order_identifier\"\n"
        );
    }

    #[test]
    fn short_values_stay_on_one_line_and_added_parts_show_as_none() {
        let mut out = Vec::new();
        print_property(
            &mut out,
            "MemorySize",
            Some(&json!(256)),
            Some(&json!(1024)),
            "",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "      MemorySize: 256 → 1024\n"
        );
        let mut parts = Vec::new();
        let (b, a) = (json!({"A": [1], "B": "x"}), json!({"A": [1, 2], "C": "y"}));
        differing_parts("", Some(&b), Some(&a), &mut parts);
        let shown: Vec<String> = parts
            .iter()
            .map(|(p, b, a)| format!("{p}: {} → {}", short(*b), short(*a)))
            .collect();
        assert_eq!(
            shown,
            ["A[1]: (none) → 2", "B: \"x\" → (none)", "C: (none) → \"y\""]
        );
    }
}
