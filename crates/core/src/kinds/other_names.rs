//! Physical names outside the registry's sections: the singletons' (the
//! user pool and its clients, the frontend, the stack key's alias) and the
//! names of resources nested in an entry (a schedule group's dead-letter
//! queue, a distribution's origin access control). Validation measures
//! them and planning names them through [`PhysicalName::fitted`], as it
//! does the registry's, so their defaults are shortened the same way.

use super::{NameRule, PhysicalName};
use crate::model::{DeadLetter, Encryption, Frontend, UserPool, UserPoolClient};

/// Cognito's `UserPoolName` and `ClientName`: 1 to 128 characters.
const POOL: NameRule = NameRule {
    what: "user pool name",
    min: 1,
    max: 128,
    allowed: |ch| ch.is_ascii_alphanumeric() || " +=,.@_-".contains(ch),
    allowed_text: "letters, digits, spaces and `+=,.@_-`",
    unique: true,
};

pub const USER_POOL_NAME: PhysicalName = PhysicalName {
    field: Some("pool_name"),
    default: UserPool::DEFAULT_POOL_NAME,
    given: |def, _| def.user_pool.as_ref()?.pool_name.as_deref(),
    rule: POOL,
};

/// A client of the user pool, by the client's name.
pub const USER_POOL_CLIENT_NAME: PhysicalName = PhysicalName {
    field: Some("client_name"),
    default: UserPoolClient::DEFAULT_CLIENT_NAME,
    given: |def, name| {
        def.user_pool
            .as_ref()?
            .clients
            .get(name)?
            .client_name
            .as_deref()
    },
    rule: POOL,
};

pub const FRONTEND_APP_NAME: PhysicalName = PhysicalName {
    field: Some("app_name"),
    default: Frontend::DEFAULT_APP_NAME,
    given: |def, _| def.frontend.as_ref()?.app_name.as_deref(),
    rule: NameRule {
        what: "Amplify app name",
        min: 1,
        max: 255,
        allowed: |ch| !ch.is_control(),
        allowed_text: "printable characters",
        unique: true,
    },
};

/// The stack key's alias, without `alias/`: KMS allows 256 characters with it.
pub const KEY_ALIAS: PhysicalName = PhysicalName {
    field: Some("key_alias"),
    default: Encryption::DEFAULT_KEY_ALIAS,
    given: |def, _| def.encryption.key_alias.as_deref(),
    rule: NameRule {
        what: "key alias",
        min: 1,
        max: 250,
        allowed: |ch| ch.is_ascii_alphanumeric() || "/_-".contains(ch),
        allowed_text: "letters, digits, `/`, `_` and `-`",
        unique: true,
    },
};

/// A schedule group's dead-letter queue, by the group's name. "A queue name
/// can have up to 80 characters. The following characters are accepted:
/// alphanumeric characters, hyphens (-), and underscores (_)" (Amazon SQS
/// Developer Guide, "Amazon SQS standard queue quotas").
pub const GROUP_DEAD_LETTER_QUEUE_NAME: PhysicalName = PhysicalName {
    field: Some("queue_name"),
    default: DeadLetter::DEFAULT_QUEUE_NAME,
    given: |def, name| {
        def.schedule_groups
            .get(name)?
            .dead_letter
            .as_ref()?
            .queue_name
            .as_deref()
    },
    rule: NameRule {
        what: "queue name",
        min: 1,
        max: 80,
        allowed: |ch| ch.is_ascii_alphanumeric() || "_-".contains(ch),
        allowed_text: "letters, digits, `_` and `-`",
        unique: true,
    },
};

/// A distribution's origin access control, by the distribution's name: "A
/// name to identify the origin access control. You can specify up to 64
/// characters" (CloudFront API Reference, `OriginAccessControlConfig`),
/// unique in the account. The stack file cannot set it.
pub const ORIGIN_ACCESS_CONTROL_NAME: PhysicalName = PhysicalName {
    field: None,
    default: "{stack}-{name}",
    given: |_, _| None,
    rule: NameRule {
        what: "origin access control name",
        min: 1,
        max: 64,
        allowed: |ch| ch.is_ascii_alphanumeric() || "_-".contains(ch),
        allowed_text: "letters, digits, `_` and `-`",
        unique: true,
    },
};

/// Every name this module describes, with the entries each names in a
/// definition (the singletons by the name their `{name}` stands for).
#[cfg(test)]
pub(crate) fn all(def: &crate::model::StackDef) -> Vec<(&'static PhysicalName, Vec<String>)> {
    let clients = def
        .user_pool
        .as_ref()
        .map(|u| u.clients.keys().cloned().collect())
        .unwrap_or_default();
    let groups = def
        .schedule_groups
        .iter()
        .filter(|(_, g)| g.dead_letter.is_some())
        .map(|(name, _)| name.clone())
        .collect();
    let one_if = |present: bool, name: &str| {
        if present {
            vec![name.to_string()]
        } else {
            Vec::new()
        }
    };
    vec![
        (&USER_POOL_NAME, one_if(def.user_pool.is_some(), "users")),
        (&USER_POOL_CLIENT_NAME, clients),
        (
            &FRONTEND_APP_NAME,
            one_if(def.frontend.is_some(), "frontend"),
        ),
        (&KEY_ALIAS, vec!["key".to_string()]),
        (&GROUP_DEAD_LETTER_QUEUE_NAME, groups),
        (
            &ORIGIN_ACCESS_CONTROL_NAME,
            def.distributions.keys().cloned().collect(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::KINDS;
    use crate::model::StackDef;
    use crate::naming::{expand_for_checks, NameContext};

    /// A definition of stack `app` with nothing in it: every entry's name is the default.
    fn bare(app: &str) -> StackDef {
        serde_json::from_value(serde_json::json!({ "name": app })).expect("a bare definition")
    }

    /// The longest names validation accepts: a stack name (`{app}-{env}`) of
    /// 128 characters with the shortest and the longest environment name
    /// (1 and 16), and entry names of 64.
    fn longest() -> Vec<(String, String, String)> {
        let entry = format!("e{}", "-x".repeat(31)) + "9";
        assert_eq!(entry.len(), 64);
        ["d", "production-east1"]
            .into_iter()
            .map(|env| {
                let app = format!("a{}", "b".repeat(127 - env.len() - 1));
                assert_eq!(format!("{app}-{env}").len(), 128);
                (app, env.to_string(), entry.clone())
            })
            .collect()
    }

    fn assert_fits(physical: &PhysicalName, what: &str, def: &StackDef, env: &str, name: &str) {
        let pattern = physical.fitted(def, env, name);
        let ctx = NameContext {
            app: &def.name,
            env,
            name,
        };
        let expanded = expand_for_checks(&pattern, &ctx);
        let rule = &physical.rule;
        let length = expanded.chars().count();
        assert!(
            (rule.min..=rule.max).contains(&length),
            "{what}: `{expanded}` is {length} characters, the rule {}..={}",
            rule.min,
            rule.max
        );
        assert!(
            expanded.chars().all(rule.allowed),
            "{what}: `{expanded}` has characters outside {}",
            rule.allowed_text
        );
    }

    #[test]
    fn every_default_fits_its_rule_for_the_longest_valid_names() {
        for (app, env, entry) in longest() {
            let def = bare(&app);
            for kind in KINDS {
                if let Some(physical) = &kind.physical_name {
                    assert_fits(physical, kind.section, &def, &env, &entry);
                }
            }
            for (physical, _) in all(&def) {
                // The singletons' `{name}` is fixed; the nested names' is an entry's.
                for name in ["users", "frontend", "key", entry.as_str()] {
                    assert_fits(physical, physical.rule.what, &def, &env, name);
                }
            }
        }
    }

    #[test]
    fn a_fifo_queue_default_is_shortened_and_keeps_its_suffix() {
        for (app, env, entry) in longest() {
            let def: StackDef = serde_json::from_value(serde_json::json!({
                "name": app,
                "queues": { entry.clone(): {"fifo": true, "dead_letter": {"max_receives": 3}} }
            }))
            .expect("a definition with a FIFO queue");
            let queue = crate::kinds::QUEUE.physical_name.as_ref().expect("named");
            for physical in [queue, &crate::kinds::QUEUE_DEAD_LETTER_NAME] {
                let fitted = physical.fitted(&def, &env, &entry);
                assert!(fitted.ends_with(".fifo"), "{fitted}");
                assert_fits(physical, "queue", &def, &env, &entry);
            }
        }
        // An author's FIFO name is kept as written.
        let def: StackDef = serde_json::from_value(serde_json::json!({
            "name": "shop",
            "queues": { "jobs": {"fifo": true, "queue_name": "my-jobs.fifo"} }
        }))
        .expect("a definition");
        let queue = crate::kinds::QUEUE.physical_name.as_ref().expect("named");
        assert_eq!(queue.fitted(&def, "dev", "jobs"), "my-jobs.fifo");
    }

    #[test]
    fn a_default_that_fits_keeps_its_value() {
        let def = bare("ebay-sniper");
        for kind in KINDS {
            if let Some(physical) = &kind.physical_name {
                assert_eq!(physical.fitted(&def, "prod", "bids"), physical.default);
            }
        }
    }

    #[test]
    fn shortened_defaults_are_stable() {
        let (app, env, entry) = longest().remove(0);
        let def = bare(&app);
        let function = crate::kinds::FUNCTION
            .physical_name
            .as_ref()
            .expect("named");
        let bucket = crate::kinds::BUCKET_NAME;
        let expected_function = format!("a{}-c78c094d", "b".repeat(54));
        assert_eq!(function.fitted(&def, &env, &entry), expected_function);
        assert_eq!(
            bucket.fitted(&def, &env, &entry),
            format!("a{}-c78c094d-{{account}}-{{region}}", "b".repeat(25))
        );
        assert_eq!(
            GROUP_DEAD_LETTER_QUEUE_NAME.fitted(&def, &env, &entry),
            format!("a{}-c78c094d-dlq", "b".repeat(66))
        );
    }
}
