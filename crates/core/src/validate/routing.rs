//! Routes of events to functions and queues: topic subscriptions, event
//! buses and rules, and log subscriptions.

use super::event_pattern::{
    check_rule_pattern, check_sns_filter_policy, PatternProblem, RULE_PATTERN_DEFAULT_QUOTA,
};
use super::{p, Checker};
use crate::model::{
    ExternalKind, ExternalSource, FilterPolicyScope, RuleTarget, TopicSubscription,
};
use crate::source::Path;
use std::collections::{BTreeMap, BTreeSet};

/// EventBridge: at most five targets per rule.
pub const RULE_MAX_TARGETS: usize = 5;
/// CloudWatch Logs: at most two subscription filters per log group.
pub const LOG_GROUP_MAX_SUBSCRIPTIONS: usize = 2;
/// `AWS::Logs::SubscriptionFilter`'s `FilterPattern`: at most 1024 characters.
pub const FILTER_PATTERN_MAX: usize = 1024;
/// Variables EventBridge fills in an input template without a path.
const RESERVED_TEMPLATE_VARIABLES: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

pub(super) fn check(c: &mut Checker) {
    topic_subscriptions(c);
    event_buses(c);
    rules(c);
    log_subscriptions(c);
    let def = c.def;
    for (name, f) in &def.functions {
        for (i, bus) in f.access.event_buses.iter().enumerate() {
            let at = p("functions")
                .key(name)
                .key("access")
                .key("event_buses")
                .index(i);
            c.expect_known(at, "event bus", bus, def.event_buses.keys());
        }
    }
}

fn report_pattern(c: &mut Checker, at: &Path, problems: Vec<PatternProblem>) {
    for problem in problems {
        let mut here = at.clone();
        here.0.extend(problem.path.0);
        c.error(here, problem.message, problem.hint);
    }
}

/// Exactly one of two fields, each given as (field, "a noun", present);
/// `false` when it is not.
fn exactly_one(
    c: &mut Checker,
    at: &Path,
    what: &str,
    (a, a_noun, has_a): (&str, &str, bool),
    (b, b_noun, has_b): (&str, &str, bool),
) -> bool {
    match (has_a, has_b) {
        (true, false) | (false, true) => true,
        (false, false) => {
            c.error(
                at.clone(),
                format!("{what} names neither {a_noun} nor {b_noun}"),
                format!("add `{a}: NAME` or `{b}: NAME`"),
            );
            false
        }
        (true, true) => {
            c.error_at_key(
                at.key(b),
                format!("{what} names both {a_noun} and {b_noun}"),
                format!("keep one; write another entry for {b_noun}"),
            );
            false
        }
    }
}

/// A queue that must be a standard queue of the stack (`role` says what for).
fn standard_queue(c: &mut Checker, at: Path, queue: &str, role: &str) {
    let def = c.def;
    if !c.expect_known(at.clone(), "queue", queue, def.queues.keys()) {
        return;
    }
    if def.queues.get(queue).is_some_and(|q| q.is_fifo()) {
        c.error(
            at,
            format!("queue `{queue}` is a FIFO queue; {role} must be a standard queue"),
            "name a standard queue (without `fifo: true`)",
        );
    }
}

fn topic_subscriptions(c: &mut Checker) {
    let def = c.def;
    for (topic, t) in &def.topics {
        subscriptions_of(
            c,
            topic,
            p("topics").key(topic),
            &t.subscriptions,
            Some(false),
        );
    }
    for (name, e) in &def.external {
        let at = p("external").key(name);
        if e.kind != ExternalKind::Topic {
            if !e.subscriptions.is_empty() {
                c.error_at_key(
                    at.key("subscriptions"),
                    format!(
                        "external `{name}` is a {}; only a topic has subscriptions",
                        e.kind.word()
                    ),
                    "remove `subscriptions`, or set `type: topic`",
                );
            }
            continue;
        }
        // A FIFO topic's name ends with `.fifo`; from an export or SSM
        // parameter it is not known.
        let fifo = match e.source() {
            Some(ExternalSource::Arn(t) | ExternalSource::Name(t)) => Some(t.ends_with(".fifo")),
            _ => None,
        };
        subscriptions_of(c, name, at, &e.subscriptions, fifo);
    }
}

/// The subscriptions of one topic (`fifo`: whether it is a FIFO topic,
/// `None` when that is not known).
fn subscriptions_of(
    c: &mut Checker,
    topic: &str,
    topic_at: Path,
    subscriptions: &[TopicSubscription],
    fifo: Option<bool>,
) {
    let def = c.def;
    {
        let mut seen = BTreeSet::new();
        for (i, s) in subscriptions.iter().enumerate() {
            let at = topic_at.key("subscriptions").index(i);
            let one = exactly_one(
                c,
                &at,
                "a subscription",
                ("function", "a function", s.function.is_some()),
                ("queue", "a queue", s.queue.is_some()),
            );
            if let Some(f) = &s.function {
                c.expect_known(at.key("function"), "function", f, def.functions.keys());
                if s.raw_message_delivery.is_some() {
                    c.error_at_key(
                        at.key("raw_message_delivery"),
                        "raw message delivery is for queue subscriptions",
                        "SNS always invokes a function with its JSON envelope; remove `raw_message_delivery`",
                    );
                }
            }
            if let Some(q) = &s.queue {
                if fifo == Some(false) && def.queues.get(q).is_some_and(|queue| queue.is_fifo()) {
                    c.error(
                        at.key("queue"),
                        format!("topic `{topic}` is a standard topic; it cannot deliver to FIFO queue `{q}`"),
                        "subscribe a standard queue",
                    );
                } else {
                    c.expect_known(at.key("queue"), "queue", q, def.queues.keys());
                }
            }
            if one {
                let target = s
                    .function
                    .as_ref()
                    .map(|f| ("function", f))
                    .or(s.queue.as_ref().map(|q| ("queue", q)));
                if let Some((kind, name)) = target {
                    if !seen.insert((kind, name.clone())) {
                        c.error(
                            at.key(kind),
                            format!("topic `{topic}` subscribes {kind} `{name}` twice"),
                            "merge the two subscriptions (a filter policy may list several values)",
                        );
                    }
                }
            }
            match &s.filter_policy {
                Some(policy) => {
                    let on_body = s.filter_policy_scope == Some(FilterPolicyScope::MessageBody);
                    if let Err(problems) = check_sns_filter_policy(policy, on_body) {
                        report_pattern(c, &at.key("filter_policy"), problems);
                    }
                }
                None if s.filter_policy_scope.is_some() => c.error_at_key(
                    at.key("filter_policy_scope"),
                    "`filter_policy_scope` without a `filter_policy`",
                    "add the `filter_policy` it scopes, or remove `filter_policy_scope`",
                ),
                None => {}
            }
            if let Some(d) = &s.dead_letter {
                standard_queue(
                    c,
                    at.key("dead_letter"),
                    d,
                    "an SNS subscription's dead-letter queue",
                );
            }
        }
    }
}

fn event_buses(c: &mut Checker) {
    let def = c.def;
    for (name, b) in &def.event_buses {
        if b.bus_name.as_deref() == Some("default") {
            c.error(
                p("event_buses").key(name).key("bus_name"),
                "`default` is the account's own event bus",
                "give the bus another name, or drop the entry and let rules use the default bus (no `bus:`)",
            );
        }
    }
}

fn rules(c: &mut Checker) {
    let def = c.def;
    for (name, r) in &def.rules {
        let at = p("rules").key(name);
        if let Some(bus) = &r.bus {
            c.expect_known(at.key("bus"), "event bus", bus, def.event_buses.keys());
        }
        match check_rule_pattern(&r.pattern) {
            Err(problems) => report_pattern(c, &at.key("pattern"), problems),
            Ok(()) => {
                let len = r.pattern.to_string().chars().count();
                if len > RULE_PATTERN_DEFAULT_QUOTA {
                    c.warning(
                        at.key("pattern"),
                        format!("the pattern is {len} characters; EventBridge's default quota is {RULE_PATTERN_DEFAULT_QUOTA}"),
                        "unless the account's \"Event pattern size\" quota was raised (up to 4096), shorten the pattern",
                    );
                }
            }
        }
        if r.targets.is_empty() {
            c.error(
                at.key("targets"),
                format!("rule `{name}` has no targets"),
                "add a `function` or `queue` target",
            );
        } else if r.targets.len() > RULE_MAX_TARGETS {
            c.error(
                at.key("targets").index(RULE_MAX_TARGETS),
                format!(
                    "rule `{name}` has {} targets; EventBridge allows at most {RULE_MAX_TARGETS} per rule",
                    r.targets.len()
                ),
                "split the targets over two rules with the same pattern",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, t) in r.targets.iter().enumerate() {
            let tat = at.key("targets").index(i);
            target(c, name, &tat, t, &mut seen);
        }
    }
}

fn target(
    c: &mut Checker,
    rule: &str,
    at: &Path,
    t: &RuleTarget,
    seen: &mut BTreeSet<(&'static str, String)>,
) {
    let def = c.def;
    let one = exactly_one(
        c,
        at,
        "a target",
        ("function", "a function", t.function.is_some()),
        ("queue", "a queue", t.queue.is_some()),
    );
    if let Some(f) = &t.function {
        c.expect_known(at.key("function"), "function", f, def.functions.keys());
    }
    let fifo = t
        .queue
        .as_ref()
        .and_then(|q| def.queues.get(q))
        .is_some_and(|q| q.is_fifo());
    if let Some(q) = &t.queue {
        c.expect_known(at.key("queue"), "queue", q, def.queues.keys());
        if fifo && t.message_group_id.is_none() {
            c.error(
                at.clone(),
                format!(
                    "queue `{q}` is a FIFO queue; a rule sending to it needs `message_group_id`"
                ),
                "add `message_group_id: …` (the message group of the events this rule sends)",
            );
        }
    }
    if !fifo && t.message_group_id.is_some() {
        c.error_at_key(
            at.key("message_group_id"),
            "`message_group_id` is for FIFO queue targets",
            "remove it",
        );
    }
    if one {
        let target = t
            .function
            .as_ref()
            .map(|f| ("function", f))
            .or(t.queue.as_ref().map(|q| ("queue", q)));
        if let Some((kind, name)) = target {
            if !seen.insert((kind, name.clone())) {
                c.error(
                    at.key(kind),
                    format!("rule `{rule}` targets {kind} `{name}` twice"),
                    "keep one target per function or queue; a second rule can send it other input",
                );
            }
        }
    }
    let inputs: Vec<&str> = [
        ("input", t.input.is_some()),
        ("input_path", t.input_path.is_some()),
        ("input_transformer", t.input_transformer.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(n, _)| n)
    .collect();
    if inputs.len() > 1 {
        c.error_at_key(
            at.key(inputs[1]),
            format!("a target takes one of `input`, `input_path` and `input_transformer`; this one has `{}` and `{}`", inputs[0], inputs[1]),
            "keep one",
        );
    }
    if let Some(input) = &t.input {
        let len = input.to_string().chars().count();
        if len > 8192 {
            c.error(
                at.key("input"),
                format!("the input is {len} characters of JSON; EventBridge takes at most 8192"),
                "send less, or select part of the event with `input_path`",
            );
        }
    }
    if let Some(path) = &t.input_path {
        json_path(c, at.key("input_path"), path, 256);
    }
    if let Some(tr) = &t.input_transformer {
        let tat = at.key("input_transformer");
        if tr.paths.len() > 100 {
            c.error(
                tat.key("paths"),
                format!(
                    "{} paths; an input transformer takes at most 100",
                    tr.paths.len()
                ),
                "use fewer",
            );
        }
        for (var, path) in &tr.paths {
            if var.is_empty() || !var.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                c.error_at_key(
                    tat.key("paths").key(var),
                    format!("`{var}` is not a variable name EventBridge accepts"),
                    "use letters and digits only",
                );
            } else if var.starts_with("aws") {
                c.error_at_key(
                    tat.key("paths").key(var),
                    format!("`{var}`: names starting with `aws` are reserved"),
                    "rename the variable",
                );
            }
            json_path(c, tat.key("paths").key(var), path, 256);
        }
        if tr.template.is_empty() || tr.template.chars().count() > 8192 {
            c.error(
                tat.key("template"),
                format!(
                    "the input template is {} characters; EventBridge takes 1 to 8192",
                    tr.template.chars().count()
                ),
                "write the input to send, with `<name>` where a path's value goes",
            );
        }
        for var in template_variables(&tr.template) {
            if !tr.paths.contains_key(var) && !RESERVED_TEMPLATE_VARIABLES.contains(&var) {
                let hint = if tr.paths.is_empty() {
                    format!("add `paths: {{{var}: $.detail…}}`")
                } else {
                    crate::diagnostic::suggestion(var, tr.paths.keys().map(String::as_str))
                        .unwrap_or_else(|| format!("add `{var}` to `paths`"))
                };
                c.error(
                    tat.key("template"),
                    format!("the template uses `<{var}>`, which `paths` does not define"),
                    hint,
                );
            }
        }
    }
    if let Some(r) = &t.retry {
        if let Some(n) = r.max_attempts {
            c.in_range(
                at.key("retry").key("max_attempts"),
                "retries",
                u64::from(n),
                0..=185,
                "EventBridge retries a target 0 to 185 times",
            );
        }
        if let Some(n) = r.max_event_age_seconds {
            c.in_range(
                at.key("retry").key("max_event_age_seconds"),
                "seconds",
                u64::from(n),
                60..=86_400,
                "EventBridge keeps retrying an event for 60 to 86400 seconds",
            );
        }
    }
    if let Some(d) = &t.dead_letter {
        standard_queue(
            c,
            at.key("dead_letter"),
            d,
            "a rule target's dead-letter queue",
        );
    }
}

fn json_path(c: &mut Checker, at: Path, path: &str, max: usize) {
    if !path.starts_with('$') {
        c.error(
            at,
            format!("`{path}` is not a JSONPath"),
            "start it at the event's root: `$.detail…`",
        );
    } else if path.chars().count() > max {
        c.error(
            at,
            format!(
                "the path is {} characters; EventBridge takes at most {max}",
                path.chars().count()
            ),
            "shorten it",
        );
    }
}

/// The `<name>` placeholders of an input template.
fn template_variables(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) => {
                let var = &after[..end];
                if !var.is_empty()
                    && var
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ".-_".contains(ch))
                {
                    out.push(var);
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

fn log_subscriptions(c: &mut Checker) {
    let def = c.def;
    // Log group (function or api) → its subscribers, to count them.
    let mut per_group: BTreeMap<(&str, &str), Vec<Path>> = BTreeMap::new();
    // Function whose logs are read → functions reading them, to find loops.
    let mut readers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, f) in &def.functions {
        for (i, s) in f.log_subscriptions.iter().enumerate() {
            let at = p("functions").key(name).key("log_subscriptions").index(i);
            if !exactly_one(
                c,
                &at,
                "a log subscription",
                ("function", "a function", s.function.is_some()),
                ("api", "an API", s.api.is_some()),
            ) {
                continue;
            }
            if let Some(source) = &s.function {
                if source == name {
                    c.error(
                        at.key("function"),
                        format!("function `{name}` subscribes to its own logs"),
                        "each invocation would write logs that invoke it again, without end; subscribe another function",
                    );
                    continue;
                }
                if c.expect_known(at.key("function"), "function", source, def.functions.keys()) {
                    per_group
                        .entry(("function", source))
                        .or_default()
                        .push(at.clone());
                    readers.entry(source).or_default().push(name);
                }
            }
            if let Some(api) = &s.api {
                if c.expect_known(at.key("api"), "API", api, def.apis.keys()) {
                    if def.apis.get(api).and_then(|a| a.access_logs) == Some(false) {
                        c.error(
                            at.key("api"),
                            format!("API `{api}` writes no access logs (`access_logs: false`)"),
                            "turn its access logs on, or subscribe to another log group",
                        );
                    } else {
                        per_group.entry(("api", api)).or_default().push(at.clone());
                    }
                }
            }
            if let Some(pattern) = &s.filter_pattern {
                if let Err((message, hint)) = filter_pattern(pattern) {
                    c.error(at.key("filter_pattern"), message, hint);
                }
            }
        }
    }
    for ((kind, source), subscribers) in &per_group {
        if subscribers.len() > LOG_GROUP_MAX_SUBSCRIPTIONS {
            let what = if *kind == "api" { "API" } else { "function" };
            c.error(
                subscribers[LOG_GROUP_MAX_SUBSCRIPTIONS].clone(),
                format!(
                    "the log group of {what} `{source}` has {} subscriptions; CloudWatch Logs allows at most {LOG_GROUP_MAX_SUBSCRIPTIONS}",
                    subscribers.len()
                ),
                "let one subscriber pass the events on, or merge two subscribers",
            );
        }
    }
    // A loop through several functions: A reads B's logs and B reads A's.
    let mut reported = BTreeSet::new();
    for name in def.functions.keys() {
        let Some(cycle) = reading_cycle(&readers, name) else {
            continue;
        };
        let members: BTreeSet<&str> = cycle.iter().copied().collect();
        if !reported.insert(members) {
            continue;
        }
        // `cycle` ends with `name` again; the one before reads into `name`.
        let source = cycle[cycle.len() - 2];
        let at = def
            .functions
            .get(name.as_str())
            .and_then(|f| {
                f.log_subscriptions
                    .iter()
                    .position(|s| s.function.as_deref() == Some(source))
            })
            .map(|i| {
                p("functions")
                    .key(name)
                    .key("log_subscriptions")
                    .index(i)
                    .key("function")
            });
        if let Some(at) = at {
            c.error(
                at,
                format!("log subscriptions form a loop: the logs of {}", cycle.join(" go to ")),
                "each function's logs would invoke the next, back to the first, without end; break the loop",
            );
        }
    }
}

/// A loop of log subscriptions through `start`: the functions in the order
/// their logs flow, ending with `start` again.
fn reading_cycle<'a>(
    readers: &BTreeMap<&'a str, Vec<&'a str>>,
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, vec![start])];
    let mut visited = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for &next in readers.get(at).map(Vec::as_slice).unwrap_or_default() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start);
                return Some(cycle);
            }
            if visited.insert(next) {
                let mut longer = path.clone();
                longer.push(next);
                stack.push((next, longer));
            }
        }
    }
    None
}

/// Checks a CloudWatch Logs filter pattern as far as its documented syntax
/// goes: unquoted and quoted terms, a JSON condition in `{ }`, or
/// space-delimited fields in `[ ]`.
pub fn filter_pattern(pattern: &str) -> Result<(), (String, String)> {
    let len = pattern.chars().count();
    if len > FILTER_PATTERN_MAX {
        return Err((
            format!("the filter pattern is {len} characters; CloudWatch Logs takes at most {FILTER_PATTERN_MAX}"),
            "shorten it".into(),
        ));
    }
    let trimmed = pattern.trim();
    if let Some(body) = trimmed.strip_prefix('{') {
        let Some(body) = body.strip_suffix('}') else {
            return Err((
                "a JSON filter pattern starts with `{` and must end with `}`".into(),
                "write `{ $.field = value }`".into(),
            ));
        };
        return json_filter(body);
    }
    if let Some(body) = trimmed.strip_prefix('[') {
        let Some(body) = body.strip_suffix(']') else {
            return Err((
                "a space-delimited filter pattern starts with `[` and must end with `]`".into(),
                "write `[field1, field2 = value, ...]`".into(),
            ));
        };
        return delimited_filter(body);
    }
    if trimmed.chars().filter(|ch| *ch == '"').count() % 2 == 1 {
        return Err((
            "the filter pattern has an unclosed `\"`".into(),
            "close the quoted term".into(),
        ));
    }
    for term in unquoted_words(trimmed) {
        if matches!(term, "-" | "?") {
            return Err((
                format!("`{term}` stands alone in the filter pattern"),
                "put it right before a term: `-DEBUG`, `?ERROR`".into(),
            ));
        }
    }
    Ok(())
}

/// Words of a pattern outside double quotes.
fn unquoted_words(text: &str) -> Vec<&str> {
    text.split('"')
        .step_by(2)
        .flat_map(str::split_whitespace)
        .collect()
}

fn balanced_parens(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for ch in text.chars() {
        match ch {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && !quoted
}

/// Splits `text` at `&&` and `||` outside quotes.
fn conditions(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch == '"' {
            quoted = !quoted;
        }
        let pair = chars.get(i + 1).copied();
        if !quoted && ((ch == '&' && pair == Some('&')) || (ch == '|' && pair == Some('|'))) {
            out.push(String::new());
            i += 2;
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.push(ch);
        }
        i += 1;
    }
    out.into_iter()
        .map(|c| {
            c.trim()
                .trim_matches(|ch| ch == '(' || ch == ')')
                .trim()
                .to_string()
        })
        .collect()
}

const JSON_HINT: &str = "write conditions such as `$.status = 500`, `$.level != \"DEBUG\"`, `$.latency > 1000`, `$.user IS NULL` or `$.id NOT EXISTS`, joined by `&&` or `||`";

fn json_filter(body: &str) -> Result<(), (String, String)> {
    if !balanced_parens(body) {
        return Err((
            "the JSON filter pattern's parentheses or quotes do not balance".into(),
            JSON_HINT.into(),
        ));
    }
    for cond in conditions(body) {
        if cond.is_empty() {
            return Err((
                "the JSON filter pattern has an empty condition".into(),
                JSON_HINT.into(),
            ));
        }
        if !cond.starts_with('$') {
            return Err((
                format!("`{cond}` does not start with a selector such as `$.field`"),
                JSON_HINT.into(),
            ));
        }
        let upper = cond.to_ascii_uppercase();
        let keyword = ["IS TRUE", "IS FALSE", "IS NULL", "NOT EXISTS"]
            .iter()
            .any(|k| upper.ends_with(k));
        let selector_end = cond
            .find(|ch: char| ch.is_whitespace() || "=!<>".contains(ch))
            .unwrap_or(cond.len());
        let rest = cond[selector_end..].trim_start();
        let op = ["!=", "<=", ">=", "=", "<", ">"]
            .into_iter()
            .find(|op| rest.starts_with(op));
        match op {
            Some(op) if !rest[op.len()..].trim().is_empty() => {}
            Some(op) => {
                return Err((
                    format!("`{cond}` has no value after `{op}`"),
                    JSON_HINT.into(),
                ))
            }
            None if keyword => {}
            None => return Err((format!("`{cond}` is not a comparison"), JSON_HINT.into())),
        }
    }
    Ok(())
}

const DELIMITED_HINT: &str = "name each field, optionally with a condition (`status=5*`, `bytes>1000`), separated by commas; `...` stands for fields you skip";

fn delimited_filter(body: &str) -> Result<(), (String, String)> {
    if body.trim().is_empty() {
        return Err((
            "the space-delimited filter pattern names no fields".into(),
            DELIMITED_HINT.into(),
        ));
    }
    if !balanced_parens(body) {
        return Err((
            "the space-delimited filter pattern's parentheses or quotes do not balance".into(),
            DELIMITED_HINT.into(),
        ));
    }
    for field in body.split(',').map(str::trim) {
        if field.is_empty() {
            return Err((
                "the space-delimited filter pattern has an empty field".into(),
                DELIMITED_HINT.into(),
            ));
        }
        if field == "..." {
            continue;
        }
        for cond in conditions(field) {
            let name_end = cond
                .find(|ch: char| ch.is_whitespace() || "=!<>".contains(ch))
                .unwrap_or(cond.len());
            let name = &cond[..name_end];
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err((
                    format!("`{cond}` does not start with a field name"),
                    DELIMITED_HINT.into(),
                ));
            }
            let rest = cond[name_end..].trim_start();
            if rest.is_empty() {
                continue;
            }
            let op = ["!=", "<=", ">=", "=", "<", ">"]
                .into_iter()
                .find(|op| rest.starts_with(op));
            match op {
                Some(op) if !rest[op.len()..].trim().is_empty() => {}
                _ => {
                    return Err((
                        format!("`{cond}` is not a field condition"),
                        DELIMITED_HINT.into(),
                    ))
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_filter_patterns_are_accepted() {
        for ok in [
            "",
            "ERROR",
            "ERROR Exception",
            "\"request failed\"",
            "?ERROR ?WARN",
            "-DEBUG",
            "{ $.eventType = \"UpdateTrail\" }",
            "{ ($.errorCode = \"AccessDenied\") || ($.errorCode = \"*UnauthorizedOperation\") }",
            "{ $.latency > 1000 && $.status != 200 }",
            "{ $.user.id IS NULL }",
            "{ $.sourceIPAddress NOT EXISTS }",
            "{ $.flag IS TRUE }",
            "[ip, user, username, timestamp, request, status_code=4*, bytes]",
            "[..., status=5*, size>1000]",
            "[ip, user, ..., status_code = 404 || status_code = 410, bytes]",
        ] {
            assert_eq!(filter_pattern(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn broken_filter_patterns_are_refused() {
        let cases = [
            (
                "{ $.status = 500",
                "a JSON filter pattern starts with `{` and must end with `}`",
            ),
            (
                "{ status = 500 }",
                "`status = 500` does not start with a selector such as `$.field`",
            ),
            ("{ $.status = }", "`$.status =` has no value after `=`"),
            ("{ $.status }", "`$.status` is not a comparison"),
            (
                "{ ($.a = 1 }",
                "the JSON filter pattern's parentheses or quotes do not balance",
            ),
            (
                "{ $.a = 1 && }",
                "the JSON filter pattern has an empty condition",
            ),
            (
                "[ip, user",
                "a space-delimited filter pattern starts with `[` and must end with `]`",
            ),
            ("[]", "the space-delimited filter pattern names no fields"),
            (
                "[ip, , user]",
                "the space-delimited filter pattern has an empty field",
            ),
            ("[ip, status=]", "`status=` is not a field condition"),
            ("\"unclosed", "the filter pattern has an unclosed `\"`"),
            ("ERROR -", "`-` stands alone in the filter pattern"),
        ];
        for (bad, msg) in cases {
            assert_eq!(
                filter_pattern(bad).map_err(|e| e.0),
                Err(msg.to_string()),
                "{bad}"
            );
        }
        let long = "x".repeat(1025);
        assert_eq!(
            filter_pattern(&long).map_err(|e| e.0),
            Err("the filter pattern is 1025 characters; CloudWatch Logs takes at most 1024".into())
        );
    }

    #[test]
    fn template_variables_are_found() {
        assert_eq!(
            template_variables(
                "{\"id\": <id>, \"rule\": <aws.events.rule-name>, \"x\": \"a < b\"}"
            ),
            ["id", "aws.events.rule-name"]
        );
    }
}
