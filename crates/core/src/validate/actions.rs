//! `access.actions`: every key names a resource of the stack, and every
//! action is one of its service's, in full, that acts on that resource.

use super::{p, Checker};
use crate::iam_actions::{self, IamAction, Part, Target};
use crate::kinds;
use crate::model::Access;
use crate::plan::iam::{
    BUCKET_LIST, BUCKET_READ, BUCKET_WRITE, INVOKE, PUBLISH, SCHEDULES_MANAGE, SECRET_READ,
    TABLE_READ, TABLE_WRITE,
};
use crate::source::Path;

/// At most this many actions are listed in a hint.
const LISTED: usize = 6;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (fname, f) in &def.functions {
        let at = p("functions").key(fname).key("access").key("actions");
        for (key, actions) in &f.access.actions {
            let here = at.key(key);
            let target = match iam_actions::target(key) {
                Ok(t) => t,
                Err(e) => {
                    c.error_at_key(here, e.message, e.hint);
                    continue;
                }
            };
            if !exists(c, &here, &target) {
                continue;
            }
            if actions.is_empty() {
                c.error(
                    here,
                    format!("`{key}` lists no actions"),
                    "list the actions the function calls on it, or remove the entry",
                );
                continue;
            }
            for (i, action) in actions.iter().enumerate() {
                let at = here.index(i);
                if actions[..i].iter().any(|a| a.eq_ignore_ascii_case(action)) {
                    c.warning(
                        at,
                        format!("`{action}` is listed twice under `{key}`"),
                        "remove one",
                    );
                    continue;
                }
                if let Some(found) = known(c, at.clone(), key, &target, action) {
                    applies(c, at.clone(), key, &target, action, found);
                    if let Some(by) = covered(&f.access, &target, found) {
                        c.warning(
                            at,
                            format!("`{}` on `{key}` is already granted by {by}", found.full()),
                            "remove it from `access.actions`",
                        );
                    }
                }
            }
        }
    }
}

/// Whether the resource a key names is in the stack (reported if not).
fn exists(c: &mut Checker, at: &Path, target: &Target) -> bool {
    let def = c.def;
    if !target.scope.named {
        if def.user_pool.is_none() {
            c.error_at_key(
                at.clone(),
                "access to the user pool, but the stack has none",
                "add `user_pool:` to the stack, or remove this entry",
            );
            return false;
        }
        return true;
    }
    match kinds::by_section(target.scope.section) {
        Some(kind) => c.expect_known_key(at.clone(), kind.noun, target.name, (kind.names)(def)),
        None => false,
    }
}

/// The listed action `action` names, if it is one (reported if not).
fn known(
    c: &mut Checker,
    at: Path,
    key: &str,
    target: &Target,
    action: &str,
) -> Option<&'static IamAction> {
    let scope = target.scope;
    let service = scope.service;
    let of_service = || iam_actions::of_service(service);
    if action.contains(['*', '?']) {
        c.error(
            at,
            format!(
                "`{action}`: a wildcard grants actions nobody named, and every one AWS adds later"
            ),
            wildcard_hint(service, action),
        );
        return None;
    }
    let Some((prefix, name)) = action.split_once(':') else {
        let hint = match of_service().find(|a| a.name.eq_ignore_ascii_case(action)) {
            Some(a) => format!("write `{}`", a.full()),
            None => format!("write it as IAM does, `{service}:Action`"),
        };
        c.error(
            at,
            format!("`{action}` is not an IAM action (`service:Action`)"),
            hint,
        );
        return None;
    };
    if !prefix.eq_ignore_ascii_case(service) {
        c.error(
            at,
            format!("`{action}` is not an action on a {} (`{key}`)", scope.what),
            format!("actions on a {} start with `{service}:`", scope.what),
        );
        return None;
    }
    let Some(found) = iam_actions::find(action) else {
        let names: Vec<&str> = of_service().map(|a| a.name).collect();
        let hint = match crate::diagnostic::did_you_mean(name, names.iter().copied()) {
            Some(best) => format!("did you mean `{service}:{best}`?"),
            None => format!("the Service Authorization Reference lists every `{service}:` action"),
        };
        c.error(
            at,
            format!("`{action}` is not a {} action", scope.title),
            hint,
        );
        return None;
    };
    if found.spelled() && found.full() != action {
        c.warning(
            at,
            format!("`{action}` is spelled `{}`", found.full()),
            "write it as AWS does (IAM ignores the case of actions; the policy uses AWS's spelling)",
        );
    }
    Some(found)
}

/// The actions a wildcard would match, as a hint.
fn wildcard_hint(service: &str, pattern: &str) -> String {
    let (p, n) = pattern.split_once(':').unwrap_or((service, pattern));
    let matching: Vec<String> = if p.eq_ignore_ascii_case(service) {
        iam_actions::of_service(service)
            .filter(|a| glob(&n.to_ascii_lowercase(), &a.name.to_ascii_lowercase()))
            .map(|a| format!("`{}`", a.full()))
            .collect()
    } else {
        Vec::new()
    };
    match matching.len() {
        0 => "name each action in full".into(),
        n if n <= LISTED => format!(
            "name each action the function calls: {}",
            matching.join(", ")
        ),
        n => format!(
            "name each action the function calls ({n} match, such as {})",
            matching[..LISTED].join(", ")
        ),
    }
}

/// `*` and `?` as IAM reads them in an action.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => {
            (0..=text.len()).any(|i| text.is_char_boundary(i) && glob(&pattern[1..], &text[i..]))
        }
        Some('?') => text
            .chars()
            .next()
            .is_some_and(|ch| glob(&pattern[1..], &text[ch.len_utf8()..])),
        Some(ch) => text.starts_with(ch) && glob(&pattern[ch.len_utf8()..], &text[ch.len_utf8()..]),
    }
}

/// Reports an action that does not act on the resource the key names.
fn applies(c: &mut Checker, at: Path, key: &str, target: &Target, action: &str, found: &IamAction) {
    let scope = target.scope;
    let parts = scope.parts_of(found);
    if found.resource_types.is_empty() {
        c.error(
            at,
            format!("`{action}` acts on no particular resource: IAM grants it only on `*`"),
            "`access.actions` grants only actions that can be limited to the resource named; remove it",
        );
        return;
    }
    if parts.is_empty() {
        c.error(
            at,
            format!(
                "`{action}` does not act on a {} (it acts on: {})",
                scope.what,
                found.resource_types.join(", ")
            ),
            format!("IAM would ignore it on `{key}`; remove it"),
        );
        return;
    }
    if let Some(prefix) = target.prefix {
        if !parts.contains(&Part::Objects) {
            c.error(
                at,
                format!("`{action}` acts on the bucket, not on keys under `{prefix}`"),
                format!("list it under `buckets.{}`", target.name),
            );
            return;
        }
    }
    if scope.section == kinds::TABLE.section && parts == [Part::Streams] {
        let streamless = c
            .def
            .tables
            .get(target.name)
            .is_some_and(|t| t.stream.is_none());
        if streamless {
            c.error(
                at,
                format!(
                    "`{action}` acts on the table's stream, and table `{}` has no stream",
                    target.name
                ),
                "add `stream: new_and_old_images` (or another view) to the table",
            );
        }
    }
}

/// The declared access that already grants `action` on the target, if any.
fn covered(access: &Access, target: &Target, action: &IamAction) -> Option<String> {
    let full = action.full();
    let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(&full));
    let name = target.name;
    let listed = |key: &str| format!("`access.{key}: [{name}]`");
    match target.scope.section {
        "tables" => {
            let level = *access.tables.get(name)?;
            let granted =
                (level.reads() && is(&TABLE_READ)) || (level.writes() && is(&TABLE_WRITE));
            granted.then(|| format!("`access.tables: {{{name}: {}}}`", level.as_str()))
        }
        "buckets" => {
            let grant = access.buckets.get(name)?;
            // A grant under a prefix covers only keys under it, and lists
            // only under a condition.
            let within = match (&grant.prefix, target.prefix) {
                (None, _) => true,
                (Some(g), Some(t)) => t.starts_with(g.as_str()) && !is(&BUCKET_LIST),
                (Some(_), None) => false,
            };
            let granted = (grant.level.reads() && (is(&BUCKET_READ) || is(&BUCKET_LIST)))
                || (grant.level.writes() && is(&BUCKET_WRITE));
            (within && granted).then(|| format!("`access.buckets.{name}`"))
        }
        "secrets" => (access.secrets.iter().any(|s| s == name) && is(&SECRET_READ))
            .then(|| listed("secrets")),
        "functions" => {
            (access.invoke.iter().any(|s| s == name) && is(&INVOKE)).then(|| listed("invoke"))
        }
        "topics" => {
            (access.publish.iter().any(|s| s == name) && is(&PUBLISH)).then(|| listed("publish"))
        }
        "schedule_groups" => (access.schedule_groups.iter().any(|s| s == name)
            && is(&SCHEDULES_MANAGE))
        .then(|| listed("schedule_groups")),
        "user_pool" => access
            .user_pool
            .iter()
            .find(|a| a.iam_action().eq_ignore_ascii_case(&full))
            .map(|_| "`access.user_pool`".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn wildcards_match_as_iam_reads_them() {
        assert!(glob("get*", "getobject"));
        assert!(glob("*object", "getobject"));
        assert!(glob("get?bject", "getobject"));
        assert!(!glob("get?", "getobject"));
        assert!(glob("*", ""));
    }
}
