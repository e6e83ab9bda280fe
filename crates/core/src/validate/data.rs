//! Tables, buckets and secrets: keys, indexes, TTL, lifecycle, CORS,
//! notifications, encryption, generated values.

use super::{p, Checker};
use crate::model::{Billing, BucketEncryption, KeyType, Projection, SecretValue, Table};
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
        let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
        for (i, n) in b.notifications.iter().enumerate() {
            for e in n
                .events
                .clone()
                .unwrap_or_else(|| vec![crate::model::BucketEvent::ObjectCreated])
            {
                let key = (
                    format!("{e:?}"),
                    n.prefix.clone().unwrap_or_default(),
                    n.suffix.clone().unwrap_or_default(),
                );
                if let Some(first) = seen.insert(key, i) {
                    c.error(at.key("notifications").index(i), format!("notifications {first} and {i} overlap"), "S3 refuses two notifications for the same event, prefix and suffix; merge them or make the prefixes differ");
                }
            }
        }
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
