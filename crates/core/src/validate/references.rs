//! Every name that points at another part of the stack must exist: declared
//! access, notifications, schedules, and `${…}` references in strings.

use super::{p, Checker};
use crate::model::AuthorizerKind;
use crate::reference::{self, Piece, Section};
use crate::source::Path;

pub(super) fn check(c: &mut Checker) {
    let def = c.def;
    for (name, f) in &def.functions {
        let at = p("functions").key(name).key("access");
        let a = &f.access;
        for t in a.tables.keys() {
            c.expect_known_key(at.key("tables").key(t), "table", t, def.tables.keys());
        }
        for b in a.buckets.keys() {
            c.expect_known_key(at.key("buckets").key(b), "bucket", b, def.buckets.keys());
        }
        for (i, s) in a.secrets.iter().enumerate() {
            c.expect_known(at.key("secrets").index(i), "secret", s, def.secrets.keys());
        }
        for (i, target) in a.invoke.iter().enumerate() {
            c.expect_known(
                at.key("invoke").index(i),
                "function",
                target,
                def.functions.keys(),
            );
        }
        for (i, t) in a.publish.iter().enumerate() {
            c.expect_known(at.key("publish").index(i), "topic", t, def.topics.keys());
        }
        for (i, g) in a.schedule_groups.iter().enumerate() {
            c.expect_known(
                at.key("schedule_groups").index(i),
                "schedule group",
                g,
                def.schedule_groups.keys(),
            );
        }
        if !a.user_pool.is_empty() && def.user_pool.is_none() {
            c.error(
                at.key("user_pool"),
                "access to the user pool, but the stack has none",
                "add `user_pool:` to the stack, or remove this access",
            );
        }
        strings(
            c,
            p("functions").key(name).key("environment"),
            f.environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
    }
    strings(
        c,
        p("function_defaults.environment"),
        def.function_defaults
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    for (name, b) in &def.buckets {
        for (i, n) in b.notifications.iter().enumerate() {
            c.expect_known(
                p("buckets")
                    .key(name)
                    .key("notifications")
                    .index(i)
                    .key("function"),
                "function",
                &n.function,
                def.functions.keys(),
            );
        }
        if let Some(cors) = &b.cors {
            indexed_strings(
                c,
                p("buckets").key(name).key("cors").key("allow_origins"),
                &cors.allow_origins,
            );
        }
    }
    for (name, s) in &def.schedules {
        c.expect_known(
            p("schedules").key(name).key("function"),
            "function",
            &s.function,
            def.functions.keys(),
        );
    }
    for (name, g) in &def.schedule_groups {
        for (i, t) in g.targets.iter().enumerate() {
            c.expect_known(
                p("schedule_groups").key(name).key("targets").index(i),
                "function",
                t,
                def.functions.keys(),
            );
        }
    }
    for (name, api) in &def.apis {
        if let Some(cors) = &api.cors {
            indexed_strings(
                c,
                p("apis").key(name).key("cors").key("allow_origins"),
                &cors.allow_origins,
            );
        }
        for (aname, a) in &api.authorizers {
            if a.kind == AuthorizerKind::Lambda && a.clients.is_some() {
                c.error(
                    p("apis")
                        .key(name)
                        .key("authorizers")
                        .key(aname)
                        .key("clients"),
                    "a lambda authorizer has no app clients",
                    "`clients` belongs to `type: cognito` authorizers",
                );
            }
        }
    }
    if let Some(f) = &def.frontend {
        strings(
            c,
            p("frontend.environment"),
            f.environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
    }
}

fn indexed_strings(c: &mut Checker, at: Path, values: &[String]) {
    strings(
        c,
        at,
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.clone()))
            .collect(),
    );
}

/// Checks the references in each string; `key` extends `at` to the string's place.
fn strings(c: &mut Checker, at: Path, values: Vec<(String, String)>) {
    for (key, value) in values {
        let here = match key.parse::<usize>() {
            Ok(i) => at.index(i),
            Err(_) => at.key(&key),
        };
        match reference::parse(&value) {
            Err(e) => c.error(here, e.message, e.hint),
            Ok(pieces) => {
                for piece in pieces {
                    if let Piece::Ref(r) = piece {
                        target_exists(c, here.clone(), &r);
                    }
                }
            }
        }
    }
}

fn target_exists(c: &mut Checker, at: Path, r: &reference::Reference) {
    let def = c.def;
    let shown = r.to_string();
    let missing = |c: &mut Checker, what: &str, hint: &str| {
        c.error(
            at.clone(),
            format!("`{shown}` refers to {what}, which this stack does not have"),
            hint.to_string(),
        )
    };
    match r.section {
        Section::External => super::external::reference(c, at.clone(), r),
        Section::Kind(kind) => {
            c.expect_known(at.clone(), kind.noun, &r.name, (kind.names)(def));
        }
        Section::UserPool if def.user_pool.is_none() => {
            missing(c, "a user pool", "add `user_pool:` to the stack")
        }
        Section::UserPoolClients => match &def.user_pool {
            None => missing(
                c,
                "a user pool client",
                "add `user_pool:` with `clients:` to the stack",
            ),
            Some(pool) => {
                c.expect_known(at.clone(), "user pool client", &r.name, pool.clients.keys());
            }
        },
        Section::Frontend if def.frontend.is_none() => {
            missing(c, "a frontend", "add `frontend:` to the stack")
        }
        Section::UserPool
        | Section::Frontend
        | Section::Stack
        | Section::Aws
        | Section::Encryption => {}
    }
    if r.section == Section::Kind(&crate::kinds::SCHEDULE_GROUP)
        && r.attr.starts_with("dead_letter_")
        && def
            .schedule_groups
            .get(&r.name)
            .is_some_and(|g| g.dead_letter.is_none())
    {
        c.error(
            at.clone(),
            format!(
                "`{shown}`: schedule group `{}` has no dead-letter queue",
                r.name
            ),
            "add `dead_letter: {retention_days: 14}` to the group",
        );
    }
    if r.section == Section::Kind(&crate::kinds::QUEUE)
        && r.attr.starts_with("dead_letter_")
        && def
            .queues
            .get(&r.name)
            .is_some_and(|q| q.dead_letter.is_none())
    {
        c.error(
            at.clone(),
            format!("`{shown}`: queue `{}` has no dead-letter queue", r.name),
            "add `dead_letter: {max_receives: 5}` to the queue",
        );
    }
    if r.section == Section::Kind(&crate::kinds::FUNCTION)
        && r.attr == "url"
        && def.functions.get(&r.name).is_some_and(|f| f.url.is_none())
    {
        c.error(
            at.clone(),
            format!("`{shown}`: function `{}` has no URL", r.name),
            "add `url: {auth: aws_iam}` to the function",
        );
    }
    if r.section == Section::Kind(&crate::kinds::TABLE)
        && r.attr == "stream_arn"
        && def.tables.get(&r.name).is_some_and(|t| t.stream.is_none())
    {
        c.error(
            at,
            format!("`{shown}`: table `{}` has no stream", r.name),
            "add `stream: new_and_old_images` (or another view) to the table",
        );
    }
}
