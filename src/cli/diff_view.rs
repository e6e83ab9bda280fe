//! The human form of a stack's diff, shared by `diff` and by `deploy`
//! (which shows it before asking): resource by resource, property by
//! property, and where a value is too long for a line, only the parts of it
//! that differ.

use crate::diff::{Action, Replacement};
use crate::engine::deploy::StackDiff;
use crate::engine::drift::{DriftSource, KnownDrift, PropertyDrift, ResourceDrift};
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
        print_drift(&d.drift, &[], out);
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
        if let Some(r) = d.drift.of(&c.logical_id) {
            let shown: Vec<(&str, &Value)> = c
                .properties
                .iter()
                .filter_map(|p| Some((p.path.as_str(), p.before.as_ref()?)))
                .collect();
            print_resource_drift(&d.drift, r, &shown, out);
        }
    }
    let changed: Vec<&str> = d.changes.iter().map(|c| c.logical_id.as_str()).collect();
    print_drift(&d.drift, &changed, out);
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

/// The stack's drift: where the statuses come from, then each drifted
/// resource the changes above do not already show.
fn print_drift(drift: &KnownDrift, shown: &[&str], out: &mut dyn Write) {
    let drifted: Vec<&ResourceDrift> = drift.resources.iter().filter(|r| r.drifted()).collect();
    let count = match drifted.len() {
        1 => "1 resource changed".to_string(),
        n => format!("{n} resources changed"),
    };
    let line = match (drift.source, &drift.check) {
        _ if drift.unreadable.is_some() => format!(
            "the latest drift results could not be read ({})",
            drift.unreadable.as_deref().unwrap_or_default()
        ),
        (DriftSource::ChangeSet, _) if drifted.is_empty() => {
            "the drift-aware change set found nothing changed outside CloudFormation".into()
        }
        (DriftSource::ChangeSet, _) => format!(
            "{count} outside CloudFormation; this deploy puts {} back as the template says",
            if drifted.len() == 1 { "it" } else { "them" }
        ),
        (DriftSource::LastDetection, None) => return,
        (DriftSource::LastDetection, Some(c)) if c.status == "NOT_CHECKED" => {
            "never checked; `stackctl drift` checks it".into()
        }
        (DriftSource::LastDetection, Some(c)) => {
            let when = c.checked_at.as_deref().unwrap_or("at an unknown time");
            let found = match c.status.as_str() {
                "IN_SYNC" => "nothing changed outside CloudFormation".to_string(),
                "DRIFTED" => format!("{count} outside CloudFormation"),
                other => format!("status {other}"),
            };
            format!("{found} at the latest detection ({when}); `stackctl drift` refreshes it")
        }
    };
    let _ = writeln!(out, "  drift: {line}");
    for r in drifted
        .into_iter()
        .filter(|r| !shown.contains(&r.logical_id.as_str()))
    {
        let _ = writeln!(
            out,
            "  ≈ {}  {}  ({})",
            r.logical_id, r.resource_type, r.physical_id
        );
        print_resource_drift(drift, r, &[], out);
        if drift.source == DriftSource::LastDetection {
            let _ = writeln!(
                out,
                "      a deploy leaves it as it is; `stackctl deploy --revert-drift` puts it back"
            );
        }
    }
}

/// One drifted resource: its status and each drifted property not already
/// shown (`shown`: the paths printed as changes, with the value before,
/// which a drift line repeats when it is the live one).
fn print_resource_drift(
    drift: &KnownDrift,
    r: &ResourceDrift,
    shown: &[(&str, &Value)],
    out: &mut dyn Write,
) {
    let what = match (r.status.as_str(), drift.source) {
        ("DELETED", DriftSource::ChangeSet) => {
            "deleted outside CloudFormation; this deploy creates it again"
        }
        ("DELETED", _) => "deleted outside CloudFormation",
        (_, DriftSource::ChangeSet) => "changed outside CloudFormation; this deploy puts it back",
        _ => "changed outside CloudFormation",
    };
    let _ = writeln!(out, "      drift: {} ({what})", r.status);
    let already_shown = |p: &PropertyDrift| {
        let live = p.actual.as_deref().map(json_or_text);
        shown
            .iter()
            .any(|(path, before)| *path == p.path && live.as_ref() == Some(*before))
    };
    for p in r.properties.iter().filter(|p| !already_shown(p)) {
        let _ = writeln!(out, "        {}", drifted_property(p, drift.source));
    }
}

/// A value CloudFormation sent as text: JSON when it reads as JSON.
fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()))
}

/// `Timeout: live 30, template 10`, or, put back, `Timeout: live 30 → 10`.
pub fn drifted_property(p: &PropertyDrift, source: DriftSource) -> String {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(|t| short(Some(&json_or_text(t))))
            .unwrap_or_else(|| "(none)".into())
    };
    match (p.difference.as_str(), source) {
        // The template now says what the resource is: nothing changes.
        ("SyncWithActual", _) => format!(
            "{}: live {}, now the template's too (only the drift status is reset)",
            p.path,
            text(&p.actual)
        ),
        (_, DriftSource::ChangeSet) => {
            format!(
                "{}: live {} → {}",
                p.path,
                text(&p.actual),
                text(&p.expected)
            )
        }
        ("ADD", _) => format!(
            "{}: added outside CloudFormation: {}",
            p.path,
            text(&p.actual)
        ),
        ("REMOVE", _) => format!(
            "{}: removed outside CloudFormation (template: {})",
            p.path,
            text(&p.expected)
        ),
        _ => format!(
            "{}: live {}, template {}",
            p.path,
            text(&p.actual),
            text(&p.expected)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn drifted_function(source: DriftSource) -> StackDiff {
        use crate::diff::{PropertyChange, ResourceChange};
        use crate::engine::drift::ResourceDrift;
        StackDiff {
            stack: "shop-prod".into(),
            exists: true,
            changes: vec![ResourceChange {
                logical_id: "ApiFunction".into(),
                resource_type: "AWS::Lambda::Function".into(),
                action: Action::Modify,
                replacement: Some(Replacement::False),
                properties: vec![PropertyChange {
                    path: "Timeout".into(),
                    before: Some(json!(30)),
                    after: Some(json!(10)),
                    replacement: Replacement::False,
                }],
            }],
            data_loss: vec![],
            broadening: vec![],
            update_refusals: vec![],
            validation: Default::default(),
            drift: KnownDrift {
                source,
                resources: vec![ResourceDrift {
                    logical_id: "ApiFunction".into(),
                    physical_id: "shop-prod-api".into(),
                    resource_type: "AWS::Lambda::Function".into(),
                    status: "MODIFIED".into(),
                    reason: None,
                    properties: vec![
                        PropertyDrift {
                            path: "Timeout".into(),
                            expected: Some("10".into()),
                            actual: Some("30".into()),
                            difference: "Modify".into(),
                        },
                        PropertyDrift {
                            path: "MemorySize".into(),
                            expected: Some("512".into()),
                            actual: Some("1024".into()),
                            difference: "Modify".into(),
                        },
                    ],
                }],
                ..KnownDrift::default()
            },
        }
    }

    #[test]
    fn a_revert_drift_diff_shows_each_drift_status_and_what_is_put_back() {
        let mut out = Vec::new();
        let mut diff = drifted_function(DriftSource::ChangeSet);
        diff.drift.resources[0].properties.push(PropertyDrift {
            path: "Description".into(),
            expected: Some("orders API".into()),
            actual: Some("orders API".into()),
            difference: "SyncWithActual".into(),
        });
        print_human(&diff, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "shop-prod: 0 to add, 1 to modify, 0 to remove
  ~ ApiFunction  AWS::Lambda::Function
      Timeout: 30 → 10
      drift: MODIFIED (changed outside CloudFormation; this deploy puts it back)
        MemorySize: live 1024 → 512
        Description: live \"orders API\", now the template's too (only the drift status is reset)
  drift: 1 resource changed outside CloudFormation; this deploy puts it back as the template says
"
        );
        // A template change whose old value is not the live one shows both.
        let mut moved = drifted_function(DriftSource::ChangeSet);
        moved.changes[0].properties[0].before = Some(json!(15));
        let mut out = Vec::new();
        print_human(&moved, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("      Timeout: 15 → 10\n      drift: MODIFIED (changed outside CloudFormation; this deploy puts it back)\n        Timeout: live 30 → 10\n"),
            "{text}"
        );
    }

    #[test]
    fn a_stack_never_checked_says_so_in_one_line_and_an_emulator_says_nothing() {
        let mut never = drifted_function(DriftSource::LastDetection);
        never.changes.clear();
        never.drift.resources.clear();
        never.drift.check = Some(crate::engine::drift::DriftCheck {
            status: "NOT_CHECKED".into(),
            checked_at: None,
        });
        let mut out = Vec::new();
        print_human(&never, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "shop-prod: no changes\n  drift: never checked; `stackctl drift` checks it\n"
        );
        never.drift.check = None;
        let mut out = Vec::new();
        print_human(&never, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "shop-prod: no changes\n");
    }

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
