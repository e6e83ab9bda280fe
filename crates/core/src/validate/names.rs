//! Names: the stack's, each named thing's, physical-name patterns, tags.

use super::{p, Checker};
use crate::diagnostic::suggestion;
use crate::kinds::{
    NameRule, PhysicalName, BUCKET_NAME, FRONTEND_APP_NAME, GROUP_DEAD_LETTER_QUEUE_NAME,
    KEY_ALIAS, KINDS, ORIGIN_ACCESS_CONTROL_NAME, QUEUE_DEAD_LETTER_NAME, USER_POOL_CLIENT_NAME,
    USER_POOL_NAME,
};
use crate::naming::{
    expand_for_checks, fit_default, logical_id, unknown_placeholders, NameContext, PLACEHOLDERS,
};
use crate::source::Path;
use std::collections::HashMap;

pub(super) fn check(c: &mut Checker) {
    stack_name(c);
    named_things(c);
    physical_names(c);
    region(c);
    tags(c);
}

fn stack_name(c: &mut Checker) {
    let name = &c.def.name;
    let ok = name.starts_with(|ch: char| ch.is_ascii_lowercase())
        && name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        && !name.ends_with('-');
    if !ok {
        c.error(p("name"), format!("`{name}` is not a usable stack name"), "use lowercase letters, digits and hyphens, starting with a letter (it becomes part of stack, bucket and function names)");
    }
    let stack = format!("{name}-{}", c.env);
    if stack.len() > 128 {
        c.error(
            p("name"),
            format!(
                "the stack name `{stack}` is {} characters long",
                stack.len()
            ),
            "CloudFormation stack names are at most 128 characters",
        );
    }
    check_local_principals(c);
    let depends_on = c.def.depends_on.clone();
    for (i, other) in depends_on.iter().enumerate() {
        if other == name {
            c.error(
                p("depends_on").index(i),
                format!("stack `{name}` depends on itself"),
                "list the other stacks that must be deployed first",
            );
        } else if depends_on[..i].contains(other) {
            c.warning(
                p("depends_on").index(i),
                format!("`{other}` is listed twice"),
                "list each stack once",
            );
        }
    }
}

/// `local_principals`: IAM role or user ARNs, and never in `prod`, where
/// production data would be one developer's session away.
fn check_local_principals(c: &mut Checker) {
    let principals = c.def.local_principals.clone();
    if !principals.is_empty() && c.env == "prod" {
        c.error(
            p("local_principals"),
            "`local_principals` lets developers run prod functions' roles from their machines",
            "declare it for dev or staging only (under `environments:`), and run `stackctl local` there",
        );
    }
    for (i, arn) in principals.iter().enumerate() {
        if !is_principal_arn(arn) {
            c.error(
                p("local_principals").index(i),
                format!("`{arn}` is not an IAM role or user ARN"),
                "write `arn:aws:iam::ACCOUNT:role/NAME` or `arn:aws:iam::ACCOUNT:user/NAME`",
            );
        }
    }
}

fn is_principal_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && (resource.strip_prefix("role/").or_else(|| resource.strip_prefix("user/")))
                .is_some_and(|name| !name.is_empty()))
}

/// Every section of named things, with the kind word used in logical ids:
/// the registry's kinds, then the others.
pub(super) fn sections(c: &Checker) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let d = c.def;
    let keys = |m: &indexmap::IndexMap<String, _>| m.keys().cloned().collect::<Vec<_>>();
    let registry = KINDS.into_iter().map(|kind| {
        let names = (kind.names)(d).into_iter().cloned().collect();
        (kind.section, kind.logical_suffix, names)
    });
    let clients = d
        .user_pool
        .as_ref()
        .map(|u| keys(&u.clients))
        .unwrap_or_default();
    // An external entry's name becomes its template variable (`External…Arn`).
    registry
        .chain([
            ("user_pool.clients", "UserPoolClient", clients),
            ("external", "External", d.external.keys().cloned().collect()),
        ])
        .collect()
}

fn named_things(c: &mut Checker) {
    for (section, kind, names) in sections(c) {
        let mut ids: HashMap<String, String> = HashMap::new();
        for name in names {
            let at = p(section).key(&name);
            let ok = name.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && name.len() <= 64
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
            if !ok {
                c.error_at_key(at.clone(), format!("`{name}` is not a usable name"), "names are letters, digits, `-` and `_`, start with a letter and are at most 64 characters (they become logical ids)");
                continue;
            }
            let id = logical_id(&name, kind);
            if let Some(other) = ids.insert(id.clone(), name.clone()) {
                c.error_at_key(
                    at,
                    format!("`{name}` and `{other}` both become the logical id `{id}`"),
                    "rename one of them so they differ by more than case or separators",
                );
            }
        }
    }
}

const INDEX: NameRule = NameRule {
    what: "index name",
    min: 3,
    max: 255,
    allowed: |ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch),
    allowed_text: "letters, digits, `_`, `.` and `-`",
    unique: false,
};

/// Where a physical name is reported.
enum Place {
    /// The field that sets it.
    Field(Path),
    /// The entry, by its name, when the stack file cannot set it.
    Entry(Path),
}

impl Place {
    fn path(&self) -> &Path {
        match self {
            Place::Field(path) | Place::Entry(path) => path,
        }
    }
}

fn physical_names(c: &mut Checker) {
    let d = c.def;
    let mut seen: HashMap<(&'static str, String), String> = HashMap::new();
    // `at` is the field that sets the name, or the entry itself when the
    // stack file cannot set it (then the entry's name is what to change).
    let mut one =
        |c: &mut Checker, at: Place, pattern: &str, default: &str, name: &str, rule: &NameRule| {
            let report = |c: &mut Checker, message: String, hint: String| match &at {
                Place::Field(path) => c.error(path.clone(), message, hint),
                Place::Entry(path) => c.error_at_key(path.clone(), message, hint),
            };
            let ctx = NameContext {
                app: &d.name,
                env: c.env,
                name,
            };
            let pattern_given = pattern != default;
            // A default is shortened where it could exceed the limit, as
            // planning names it; the author's own pattern is measured as set.
            let fitted;
            let pattern = if pattern_given {
                pattern
            } else {
                fitted = fit_default(default, &ctx, rule.max);
                &*fitted
            };
            // The first unknown placeholder is reported; the name cannot be measured past it.
            if let Some(unknown) = unknown_placeholders(pattern).into_iter().next() {
                report(
                    c,
                    format!("`{{{unknown}}}` is not a placeholder"),
                    suggestion(&unknown, PLACEHOLDERS).unwrap_or_default(),
                );
                return;
            }
            let expanded = expand_for_checks(pattern, &ctx);
            let chars = expanded.chars().count();
            let where_ = if pattern_given {
                String::new()
            } else {
                " (the default)".to_string()
            };
            if chars < rule.min || chars > rule.max {
                report(
                    c,
                    format!(
                        "the {} `{expanded}`{where_} is {chars} characters long",
                        rule.what
                    ),
                    if pattern_given {
                        format!(
                            "AWS allows {} to {} characters; set a shorter name",
                            rule.min, rule.max
                        )
                    } else {
                        format!(
                        "AWS allows {} to {} characters; shorten the stack's or this entry's name",
                        rule.min, rule.max
                    )
                    },
                );
            } else if let Some(bad) = expanded.chars().find(|ch| !(rule.allowed)(*ch)) {
                report(
                    c,
                    format!("the {} `{expanded}` contains `{bad}`", rule.what),
                    format!("AWS allows {} here", rule.allowed_text),
                );
            } else if let Some(first) = rule
                .unique
                .then(|| seen.insert((rule.what, expanded.clone()), at.path().to_string()))
                .flatten()
            {
                report(
                    c,
                    format!("the {} `{expanded}` is also used by `{first}`", rule.what),
                    "two resources cannot share a physical name; set a different name for one"
                        .to_string(),
                );
            }
        };
    for kind in KINDS {
        let Some(physical) = &kind.physical_name else {
            continue;
        };
        for name in (kind.names)(d) {
            // A name the stack file cannot set is reported at the entry.
            let entry = p(kind.section).key(name);
            let at = physical.field.map_or(Place::Entry(entry.clone()), |field| {
                Place::Field(entry.key(field))
            });
            let pattern = physical.pattern(d, name);
            one(
                c,
                at,
                pattern,
                physical.default_for(pattern),
                name,
                &physical.rule,
            );
        }
    }
    let named = |physical: &'static PhysicalName, name: &str| {
        let pattern = physical.pattern(d, name);
        (pattern, physical.default_for(pattern), &physical.rule)
    };
    for (name, g) in &d.schedule_groups {
        if g.dead_letter.is_some() {
            let (pattern, default, rule) = named(&GROUP_DEAD_LETTER_QUEUE_NAME, name);
            one(
                c,
                Place::Field(
                    p("schedule_groups")
                        .key(name)
                        .key("dead_letter")
                        .key("queue_name"),
                ),
                pattern,
                default,
                name,
                rule,
            );
        }
    }
    for (name, q) in &d.queues {
        if q.dead_letter.is_some() {
            let (pattern, default, rule) = named(&QUEUE_DEAD_LETTER_NAME, name);
            let at = p("queues").key(name).key("dead_letter").key("queue_name");
            one(c, Place::Field(at), pattern, default, name, rule);
        }
    }
    for name in d.distributions.keys() {
        let (pattern, default, rule) = named(&ORIGIN_ACCESS_CONTROL_NAME, name);
        let at = Place::Entry(p("distributions").key(name));
        one(c, at, pattern, default, name, rule);
    }
    for (name, t) in &d.tables {
        for index in t.indexes.keys() {
            one(
                c,
                Place::Field(p("tables").key(name).key("indexes").key(index)),
                index,
                "",
                index,
                &INDEX,
            );
        }
    }
    // S3's rules beyond length and characters.
    for (name, b) in &d.buckets {
        let at = p("buckets").key(name).key("bucket_name");
        let pattern = BUCKET_NAME.fitted(d, c.env, name);
        let expanded = expand_for_checks(
            &pattern,
            &NameContext {
                app: &d.name,
                env: c.env,
                name,
            },
        );
        if !expanded.starts_with(|ch: char| ch.is_ascii_alphanumeric())
            || !expanded.ends_with(|ch: char| ch.is_ascii_alphanumeric())
            || expanded.contains("..")
            || expanded.starts_with("xn--")
            || expanded.ends_with("-s3alias")
        {
            c.error(at.clone(), format!("`{expanded}` breaks S3's bucket naming rules"), "a bucket name starts and ends with a letter or digit, has no `..`, and does not start with `xn--` or end with `-s3alias`");
        }
        if !pattern.contains("{account}") && b.bucket_name.is_some() {
            c.warning(at, format!("the bucket name `{expanded}` does not include `{{account}}`"), "bucket names are global across all AWS accounts; without the account id the deploy fails when anyone anywhere already owns this name");
        }
    }
    if let Some(pool) = &d.user_pool {
        let (pattern, default, rule) = named(&USER_POOL_NAME, "users");
        let at = Place::Field(p("user_pool.pool_name"));
        one(c, at, pattern, default, "users", rule);
        for name in pool.clients.keys() {
            let (pattern, default, rule) = named(&USER_POOL_CLIENT_NAME, name);
            let at = Place::Field(p("user_pool.clients").key(name).key("client_name"));
            one(c, at, pattern, default, name, rule);
        }
    }
    if d.frontend.is_some() {
        let (pattern, default, rule) = named(&FRONTEND_APP_NAME, "frontend");
        one(
            c,
            Place::Field(p("frontend.app_name")),
            pattern,
            default,
            "frontend",
            rule,
        );
    }
    let (alias, default, rule) = named(&KEY_ALIAS, "key");
    one(
        c,
        Place::Field(p("encryption.key_alias")),
        alias,
        default,
        "key",
        rule,
    );
    if let Some(days) = d.encryption.pending_deletion_days {
        c.in_range(
            p("encryption.pending_deletion_days"),
            "pending deletion window",
            days.into(),
            7..=30,
            "KMS waits between 7 and 30 days before destroying a deleted key",
        );
    }
    if alias.starts_with("aws") || alias.starts_with("alias/") {
        c.error(p("encryption.key_alias"), format!("`{alias}` cannot be used as a key alias"), "write the alias without `alias/`; names starting with `aws` are reserved for AWS-managed keys");
    }
}

fn region(c: &mut Checker) {
    if let Some(region) = &c.def.region {
        let parts: Vec<&str> = region.split('-').collect();
        let ok = (3..=4).contains(&parts.len())
            && parts[0].len() == 2
            && parts.iter().all(|s| {
                !s.is_empty()
                    && s.chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())
            })
            && parts
                .last()
                .is_some_and(|s| s.chars().all(|ch| ch.is_ascii_digit()));
        if !ok {
            c.error(
                p("region"),
                format!("`{region}` is not an AWS region name"),
                "region names look like `us-east-1` or `eu-west-2`",
            );
        }
    }
}

fn tags(c: &mut Checker) {
    // stackctl adds `app` and `env`; AWS allows 50 tags on most resources.
    if c.def.tags.len() + 2 > 50 {
        c.error(
            p("tags"),
            format!(
                "{} tags, plus the 2 stackctl adds, is more than 50",
                c.def.tags.len()
            ),
            "AWS allows at most 50 tags on a resource",
        );
    }
    for (key, value) in &c.def.tags {
        let at = p("tags").key(key);
        if key.to_ascii_lowercase().starts_with("aws:") {
            c.error_at_key(
                at.clone(),
                format!("the tag `{key}` uses the reserved `aws:` prefix"),
                "choose a key that does not start with `aws:`",
            );
        } else if key.is_empty() || key.chars().count() > 128 {
            c.error_at_key(
                at.clone(),
                format!("the tag key `{key}` must be 1 to 128 characters"),
                "shorten the key",
            );
        } else if key == "app" || key == "env" {
            c.error_at_key(
                at.clone(),
                format!("the tag `{key}` is set by stackctl"),
                "stackctl tags every resource with `app` and `env`; choose another key",
            );
        }
        if !matches_tag_pattern(key) {
            c.error_at_key(
                at.clone(),
                format!("the tag key `{key}` has characters AWS does not accept in tags"),
                TAG_CHARACTERS,
            );
        }
        if value.chars().count() > 256 {
            c.error(
                at,
                format!(
                    "the value of tag `{key}` is {} characters long",
                    value.chars().count()
                ),
                "tag values are at most 256 characters",
            );
        } else if value.is_empty() {
            // Stack tags reach every resource, and some types refuse empty
            // values (AWS::Scheduler::ScheduleGroup's Tags: minLength 1).
            c.error(
                at,
                format!("the value of tag `{key}` is empty"),
                "some AWS resources refuse empty tag values; give it a value or remove the tag",
            );
        } else if !matches_tag_pattern(value) {
            c.error(
                at,
                format!("the value of tag `{key}` has characters AWS does not accept in tags"),
                TAG_CHARACTERS,
            );
        }
    }
}

/// Tag keys and values as the resource schemas write them (`Tags` of every
/// taggable type): letters, digits, separators and `_ . : / = + - @`.
const TAG_PATTERN: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$";
const TAG_CHARACTERS: &str = "AWS accepts letters, digits, spaces and `_ . : / = + - @` in tags";

fn matches_tag_pattern(text: &str) -> bool {
    crate::resource_schema::validate::matches_pattern(TAG_PATTERN, text).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use crate::load::resolve_text;

    /// Before defaults were fitted, this design was refused: with a stack
    /// name of 128 characters and entry names of 64, the default bucket,
    /// function, schedule, group, dead-letter queue, web ACL, user pool,
    /// client and origin access control names were all too long.
    #[test]
    fn the_longest_valid_names_validate_with_every_default() {
        let app = format!("a{}", "b".repeat(123));
        let entry = format!("e{}", "-x".repeat(31)) + "9";
        let yaml = format!(
            "name: {app}
user_pool:
  sign_in_with: [email]
  clients: {{{entry}: {{auth_flows: [user_srp]}}}}
tables:
  {entry}: {{partition_key: {{name: id, type: S}}}}
buckets:
  {entry}: {{}}
functions:
  {entry}: {{crate: api, access: {{buckets: {{{entry}: read}}}}}}
schedules:
  {entry}: {{function: {entry}, expression: rate(1 day)}}
schedule_groups:
  {entry}: {{targets: [{entry}], dead_letter: {{}}}}
topics:
  {entry}: {{}}
secrets:
  {entry}: {{value: out_of_band}}
"
        );
        let (file, resolved) = resolve_text("longest.yaml", &yaml, "dev");
        let errors: String = resolved
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render(&file))
            .collect();
        assert!(errors.is_empty(), "{errors}");
    }
}
