//! Tables, buckets and secrets: keys, indexes, TTL, lifecycle, CORS,
//! notifications, encryption, generated values.

use super::{p, Checker};
use crate::model::{
    Billing, Bucket, BucketEncryption, BucketEvent, BucketNotification, DataAccess, KeyType,
    Projection, SecretValue, Table,
};
use std::collections::HashMap;

/// DynamoDB allows this many global secondary indexes per table.
pub const MAX_GSIS: usize = 20;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, t) in &def.tables {
        table(c, name, t);
    }
    let served: Vec<&str> = def
        .distributions
        .values()
        .flat_map(|d| {
            std::iter::once(d.origin.as_str())
                .chain(d.behaviors.values().map(|b| b.bucket.as_str()))
        })
        .collect();
    for (name, b) in &def.buckets {
        let at = p("buckets").key(name);
        if b.encryption == Some(BucketEncryption::Kms) && served.contains(&name.as_str()) {
            c.error(at.key("encryption"), format!("bucket `{name}` is served by CloudFront and encrypted with the stack key"), "CloudFront would need the key policy to name the distribution, which itself depends on the bucket: a cycle. Use `encryption: s3_managed` (the default for served buckets)");
        }
        for (i, rule) in b.lifecycle.iter().enumerate() {
            let here = at.key("lifecycle").index(i);
            if rule.transitions.is_empty()
                && rule.expire_after_days.is_none()
                && rule.noncurrent_expire_after_days.is_none()
            {
                c.error(
                    here.clone(),
                    "this lifecycle rule does nothing",
                    "add `transitions`, `expire_after_days` or `noncurrent_expire_after_days`",
                );
            }
            let mut last = 0;
            for (j, tr) in rule.transitions.iter().enumerate() {
                let min = tr.storage_class.minimum_days();
                if tr.after_days < min {
                    c.error(
                        here.key("transitions").index(j).key("after_days"),
                        format!(
                            "S3 moves objects to {} no sooner than {min} days after creation",
                            tr.storage_class.cloudformation()
                        ),
                        format!("set `after_days` to {min} or more"),
                    );
                }
                if j > 0 && tr.after_days <= last {
                    c.error(
                        here.key("transitions").index(j).key("after_days"),
                        "transitions must come later and later",
                        "order transitions by `after_days`, each later than the one before",
                    );
                }
                last = tr.after_days;
                if let Some(exp) = rule.expire_after_days.filter(|e| *e <= tr.after_days) {
                    c.error(
                        here.key("expire_after_days"),
                        format!(
                            "objects expire after {exp} days, before the transition at {} days",
                            tr.after_days
                        ),
                        "expire after the last transition, or drop the transition",
                    );
                }
            }
            if rule.expire_after_days == Some(0) || rule.noncurrent_expire_after_days == Some(0) {
                c.error(here, "expiry after 0 days", "S3 counts expiry from 1 day");
            }
        }
        if let Some(cors) = &b.cors {
            let here = at.key("cors");
            super::edge::cors_rules(
                c,
                here.clone(),
                &cors.allow_origins,
                &cors.allow_methods,
                false,
            );
            for (i, m) in cors.allow_methods.iter().enumerate() {
                if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()) {
                    c.error(
                        here.key("allow_methods").index(i),
                        format!("S3 CORS does not take `{m}`"),
                        "use GET, PUT, POST, DELETE or HEAD",
                    );
                }
            }
        }
        notification_overlaps(c, name, b);
        notification_loops(c, name, b);
    }
    for (name, s) in &def.secrets {
        if let SecretValue::Generate(g) = &s.value {
            let at = p("secrets").key(name).key("value").key("generate");
            if let Some(len) = g.length {
                c.in_range(
                    at.key("length"),
                    "length",
                    len.into(),
                    1..=4096,
                    "Secrets Manager generates values of",
                );
            }
            if g.key.is_some() && g.json_fields.is_empty() {
                c.error(
                    at.key("key"),
                    "`key` names the generated value inside JSON, but there is no JSON",
                    "add `json_fields`, or remove `key` to store the bare value",
                );
            }
            if let Some(k) = &g.key {
                if g.json_fields.contains_key(k) {
                    c.error(
                        at.key("key"),
                        format!("`{k}` is also a fixed field"),
                        "the generated value needs a key of its own",
                    );
                }
            }
        }
    }
}

/// The events a notification is for (`object_created` when it names none).
fn events(n: &BucketNotification) -> Vec<BucketEvent> {
    n.events
        .clone()
        .unwrap_or_else(|| vec![BucketEvent::ObjectCreated])
}

fn event_name(e: BucketEvent) -> &'static str {
    match e {
        BucketEvent::ObjectCreated => "object_created",
        BucketEvent::ObjectRemoved => "object_removed",
    }
}

/// Whether some key can start with both prefixes: one starts with the
/// other (an empty prefix, or none, starts every key).
fn prefixes_overlap(a: &str, b: &str) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Whether some key can end with both suffixes.
fn suffixes_overlap(a: &str, b: &str) -> bool {
    a.ends_with(b) || b.ends_with(a)
}

/// S3 refuses a bucket's notification configuration in which two rules for
/// the same event type have overlapping prefixes and overlapping suffixes
/// ("Configurations overlap. Configurations on the same bucket cannot share
/// a common event type."): "Two suffixes are considered overlapping if a
/// given string can end with both suffixes", likewise prefixes, and a rule
/// without one has "a default prefix and suffix that match any other"
/// (Amazon S3 User Guide, "Configuring event notifications using object key
/// name filtering"). Overlapping prefixes are allowed with suffixes that do
/// not overlap. The destination does not matter.
fn notification_overlaps(c: &mut Checker, bucket: &str, b: &Bucket) {
    let at = p("buckets").key(bucket).key("notifications");
    for (i, n) in b.notifications.iter().enumerate() {
        let (prefix, suffix) = (
            n.prefix.as_deref().unwrap_or(""),
            n.suffix.as_deref().unwrap_or(""),
        );
        let first = b.notifications[..i].iter().enumerate().find_map(|(j, m)| {
            let (m_prefix, m_suffix) = (
                m.prefix.as_deref().unwrap_or(""),
                m.suffix.as_deref().unwrap_or(""),
            );
            let event = events(n).into_iter().find(|e| events(m).contains(e))?;
            (prefixes_overlap(prefix, m_prefix) && suffixes_overlap(suffix, m_suffix)).then(|| {
                let longer = |x: &'_ str, y: &'_ str| {
                    if x.len() >= y.len() {
                        x.to_string()
                    } else {
                        y.to_string()
                    }
                };
                (
                    j,
                    m,
                    event,
                    format!("{}{}", longer(prefix, m_prefix), longer(suffix, m_suffix)),
                )
            })
        });
        if let Some((j, m, event, key)) = first {
            let example = if key.is_empty() {
                "every key matches both".to_string()
            } else {
                format!("a key such as `{key}` matches both")
            };
            c.error(
                at.index(i),
                format!(
                    "this notification (to `{}`) overlaps notification {j} (to `{}`) on `{}`: {example}",
                    n.function,
                    m.function,
                    event_name(event)
                ),
                "S3 refuses two notifications for the same event whose prefixes overlap (one starts with the other, or either has none) and whose suffixes overlap likewise; give one a prefix or suffix the other cannot match, or merge them into one notification",
            );
        }
    }
}

/// A function that writes to the bucket whose `object_created`
/// notification invokes it can trigger itself without end. Its write access
/// (`access.buckets`, under its `prefix` if it has one) and the
/// notification's filter show whether it may write a key the notification
/// matches: a key starts with both prefixes only when one starts with the
/// other, while any written key may end with the notification's suffix. It
/// is a warning: the code decides what it writes (a function that reads
/// `.jpg` files and writes `.json` files next to them, under a `.jpg`
/// suffix filter, never loops), so stackctl cannot prove the loop.
fn notification_loops(c: &mut Checker, bucket: &str, b: &Bucket) {
    let at = p("buckets").key(bucket).key("notifications");
    for (i, n) in b.notifications.iter().enumerate() {
        if !events(n).contains(&BucketEvent::ObjectCreated) {
            continue;
        }
        let Some(grant) = c
            .def
            .functions
            .get(&n.function)
            .and_then(|f| f.access.buckets.get(bucket))
        else {
            continue;
        };
        if grant.level == DataAccess::Read {
            continue;
        }
        let written = grant.prefix.as_deref().unwrap_or("");
        let notified = n.prefix.as_deref().unwrap_or("");
        if !prefixes_overlap(written, notified) {
            continue;
        }
        let under = |prefix: &str| {
            if prefix.is_empty() {
                "anywhere in it".to_string()
            } else {
                format!("under `{prefix}`")
            }
        };
        let filter = match n.suffix.as_deref() {
            Some(suffix) => format!(" with keys ending `{suffix}`"),
            None => String::new(),
        };
        let to = &n.function;
        c.warning(
            at.index(i).key("function"),
            format!(
                "function `{to}` may write to bucket `{bucket}` {} and this notification invokes it for objects created {}{filter}: an object it writes can invoke it again, without end",
                under(written),
                under(notified)
            ),
            format!("have `{to}` write to another bucket, or give its access to `{bucket}` a `prefix` (such as `out/`) that the notification's `prefix` (such as `in/`) cannot match; or filter the notification so that the keys it writes never match"),
        );
    }
}

fn table(c: &mut Checker, name: &str, t: &Table) {
    let at = p("tables").key(name);
    if t.indexes.len() > MAX_GSIS {
        c.error_at_key(
            at.key("indexes"),
            format!(
                "table `{name}` has {} global secondary indexes",
                t.indexes.len()
            ),
            format!("DynamoDB allows at most {MAX_GSIS} per table"),
        );
    }
    // Every key attribute, with the first place it was declared.
    let mut types: HashMap<String, (KeyType, String)> = HashMap::new();
    let mut declare =
        |c: &mut Checker, path: crate::source::Path, attr: &crate::model::KeyAttribute| {
            if attr.name.is_empty() || attr.name.len() > 255 {
                c.error(
                    path.key("name"),
                    "key attribute names are 1 to 255 characters",
                    "name the attribute",
                );
            }
            match types.get(&attr.name) {
                Some((kind, first)) if *kind != attr.kind => c.error(
                    path.key("type"),
                    format!(
                        "`{}` is type {} here but {} at `{first}`",
                        attr.name,
                        attr.kind.as_str(),
                        kind.as_str()
                    ),
                    "an attribute has one type across the table and its indexes",
                ),
                Some(_) => {}
                None => {
                    types.insert(attr.name.clone(), (attr.kind, path.to_string()));
                }
            }
        };
    declare(c, at.key("partition_key"), &t.partition_key);
    if let Some(sk) = &t.sort_key {
        declare(c, at.key("sort_key"), sk);
        if sk.name == t.partition_key.name {
            c.error(
                at.key("sort_key").key("name"),
                "the sort key is the partition key",
                "choose a different attribute for the sort key, or remove it",
            );
        }
    }
    let provisioned = matches!(t.billing, Some(Billing::Provisioned(_)));
    for (iname, index) in &t.indexes {
        let here = at.key("indexes").key(iname);
        declare(c, here.key("partition_key"), &index.partition_key);
        if let Some(sk) = &index.sort_key {
            declare(c, here.key("sort_key"), sk);
        }
        if let Some(Projection::Include(attrs)) = &index.projection {
            if attrs.is_empty() {
                c.error(
                    here.key("projection"),
                    "`include` lists no attributes",
                    "list attributes to copy into the index, or use `keys_only`",
                );
            }
        }
        if index.capacity.is_some() && !provisioned {
            c.error(
                here.key("capacity"),
                format!("index `{iname}` sets capacity on an on-demand table"),
                "remove `capacity`, or make the table `billing: {provisioned: {read, write}}`",
            );
        }
        if let Some(cap) = index.capacity {
            if cap.read == 0 || cap.write == 0 {
                c.error(
                    here.key("capacity"),
                    "capacity of 0",
                    "provisioned capacity is at least 1 read and 1 write unit",
                );
            }
        }
    }
    if let Some(Billing::Provisioned(cap)) = &t.billing {
        if cap.read == 0 || cap.write == 0 {
            c.error(
                at.key("billing"),
                "capacity of 0",
                "provisioned capacity is at least 1 read and 1 write unit",
            );
        }
    }
    if let Some(ttl) = &t.ttl_attribute {
        if let Some((kind, first)) = types.get(ttl) {
            if *kind != KeyType::N {
                c.error(at.key("ttl_attribute"), format!("the TTL attribute `{ttl}` is a key of type {} (at `{first}`)", kind.as_str()), "DynamoDB expires items by a number of epoch seconds; use a separate number attribute such as `ttl`");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{prefixes_overlap, suffixes_overlap};
    use crate::load::resolve_text;

    /// The messages of the errors and of the warnings `yaml` gets in `dev`.
    fn findings(yaml: &str) -> (Vec<String>, Vec<String>) {
        let (_, resolved) = resolve_text("test.yaml", yaml, "dev");
        let (errors, warnings): (Vec<_>, Vec<_>) =
            resolved.diagnostics.iter().partition(|d| d.is_error());
        let messages = |ds: Vec<&crate::diagnostic::Diagnostic>| {
            ds.into_iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        };
        (messages(errors), messages(warnings))
    }

    fn bucket(notifications: &str, access: &str) -> String {
        format!(
            "name: shop\nfunctions:\n  a: {{crate: a, access: {{buckets: {{media: {access}}}}}}}\n  b: {{crate: b}}\nbuckets:\n  media:\n    notifications: {notifications}\n"
        )
    }

    #[test]
    fn prefixes_and_suffixes_overlap_as_s3_says() {
        // The S3 User Guide's examples: `.jpg` and `.png` do not overlap,
        // `jpg` and `pg` do; no filter overlaps every filter.
        assert!(!suffixes_overlap(".jpg", ".png"));
        assert!(suffixes_overlap("jpg", "pg"));
        assert!(suffixes_overlap("", ".png"));
        assert!(!prefixes_overlap("images/", "logs/"));
        assert!(prefixes_overlap("images", "images/2024/"));
        assert!(prefixes_overlap("", "logs/"));
    }

    #[test]
    fn notifications_for_one_event_with_overlapping_filters_are_refused() {
        let overlap = |notifications: &str| {
            let (errors, _) = findings(&bucket(notifications, "read"));
            errors.iter().any(|e| e.contains("overlaps notification"))
        };
        // A common prefix with suffixes that cannot both match is allowed.
        assert!(!overlap("[{function: a, prefix: images, suffix: .jpg}, {function: b, prefix: images, suffix: .png}]"));
        // Different events never overlap.
        assert!(!overlap(
            "[{function: a}, {function: b, events: [object_removed]}]"
        ));
        // Different prefixes never overlap.
        assert!(!overlap(
            "[{function: a, prefix: images/}, {function: b, prefix: logs/}]"
        ));
        // The guide's invalid ones: a rule without a prefix overlaps any
        // prefix; `jpg` and `pg`; a prefix and suffix against the same suffix.
        assert!(overlap("[{function: a}, {function: b, prefix: images}]"));
        assert!(overlap(
            "[{function: a, suffix: jpg}, {function: b, suffix: pg}]"
        ));
        assert!(overlap(
            "[{function: a, prefix: images, suffix: jpg}, {function: b, suffix: jpg}]"
        ));
        // The same function twice is no exception.
        assert!(overlap(
            "[{function: a, prefix: in/}, {function: a, prefix: in/}]"
        ));
    }

    #[test]
    fn a_function_writing_where_its_own_notification_matches_is_warned_of() {
        let loops = |notifications: &str, access: &str| {
            let (errors, warnings) = findings(&bucket(notifications, access));
            assert!(errors.is_empty(), "{errors:?}");
            warnings.iter().any(|w| w.contains("can invoke it again"))
        };
        assert!(loops("[{function: a}]", "write"));
        assert!(loops(
            "[{function: a, prefix: uploads/, suffix: .jpg}]",
            "read_write"
        ));
        assert!(loops(
            "[{function: a, prefix: uploads/}]",
            "{level: write, prefix: uploads/thumbs/}"
        ));
        assert!(loops(
            "[{function: a, prefix: uploads/thumbs/big/}]",
            "{level: write, prefix: uploads/}"
        ));
        // Writing under a prefix the notification cannot match is no loop.
        assert!(!loops(
            "[{function: a, prefix: uploads/}]",
            "{level: write, prefix: thumbnails/}"
        ));
        // Nor is reading, a notification only of removals, or another function's trigger.
        assert!(!loops("[{function: a}]", "read"));
        assert!(!loops("[{function: a, events: [object_removed]}]", "write"));
        assert!(!loops("[{function: b}]", "write"));
    }
}
