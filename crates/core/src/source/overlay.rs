//! Environment overlays: a partial stack definition deep-merged onto the base.
//!
//! Mappings merge key by key, anything else replaces, and `null` removes. Each
//! node keeps the location it was written at, so a problem in a merged value
//! points at the override that caused it, not at the base.

use super::{Node, NodeValue};

/// Merges `overlay` onto `base` in place.
pub fn merge_overlay(base: &mut Node, overlay: Node) {
    let entries = match (base.as_map(), overlay.value) {
        (Some(_), NodeValue::Map(entries)) => entries,
        (_, value) => {
            *base = Node {
                value,
                loc: overlay.loc,
            };
            return;
        }
    };
    let base_entries = base.as_map_mut().expect("checked to be a mapping above");
    for (key, value) in entries {
        let existing = base_entries.iter().position(|(k, _)| k.name == key.name);
        match existing {
            Some(i) if value.is_null() => {
                base_entries.remove(i);
            }
            Some(i) => merge_overlay(&mut base_entries[i].1, value),
            None if value.is_null() => {}
            None => base_entries.push((key, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_yaml;

    #[test]
    fn overrides_keep_their_own_location() {
        let mut base =
            parse_yaml("functions:\n  api:\n    memory: 512\n    timeout: 10\n").unwrap();
        let overlay = parse_yaml("functions:\n  api:\n    memory: 1024\n").unwrap();
        merge_overlay(&mut base, overlay);
        let api = base.get("functions").unwrap().get("api").unwrap();
        let memory = api.get("memory").unwrap();
        assert_eq!(
            memory.value,
            NodeValue::Scalar {
                text: "1024".into(),
                plain: true
            }
        );
        assert_eq!(memory.loc.line, 3);
        assert_eq!(api.get("timeout").unwrap().loc.line, 4);
    }

    #[test]
    fn null_removes_and_lists_replace() {
        let mut base = parse_yaml("a: {x: 1, y: 2}\nl: [1, 2]\n").unwrap();
        merge_overlay(&mut base, parse_yaml("a: {x: null}\nl: [3]\n").unwrap());
        assert!(base.get("a").unwrap().get("x").is_none());
        assert!(matches!(&base.get("l").unwrap().value, NodeValue::Seq(items) if items.len() == 1));
    }
}
