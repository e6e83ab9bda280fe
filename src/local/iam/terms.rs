//! A denied call named in the stack file's terms: which declared resource
//! the ARN is (`buckets.images`), and the `access:` entry that would grant
//! the action, from the same action lists `plan` derives roles from.

use super::classify::Check;
use crate::iam_actions;
use crate::kinds::{
    Kind, BUCKET, EVENT_BUS, FUNCTION, QUEUE, SCHEDULE_GROUP, SECRET, STREAM, TABLE, TOPIC,
};
use crate::local::template::Resolver;
use crate::model::{Access, DataAccess, Ec2Action, StackDef, TableAccess, UserPoolAction};
use crate::plan::iam::{
    APPEND_RETURN_VALUES, BUCKET_LIST, BUCKET_READ, BUCKET_WRITE, INVOKE, METRICS_READ, PASS_ROLE,
    PUBLISH, PUT_EVENTS, QUEUE_CONSUME, QUEUE_SEND, SCHEDULES_MANAGE, SECRET_READ, STREAM_READ,
    STREAM_WRITE, TABLE_APPEND, TABLE_READ, TABLE_WRITE,
};
use serde_json::json;
use std::fmt;

/// One declared resource and the ARNs that are it.
#[derive(Debug, Clone)]
struct Declared {
    section: &'static str,
    name: String,
    physical: String,
    /// ARNs that are exactly this resource (the bucket, the group's role).
    exact: Vec<String>,
    /// Prefixes of ARNs inside it (the bucket's objects, the table's indexes).
    inside: Vec<String>,
}

impl Declared {
    fn holds(&self, arn: &str) -> bool {
        self.exact.iter().any(|e| e == arn)
            || self.inside.iter().any(|p| arn.starts_with(p.as_str()))
    }

    fn path(&self) -> String {
        if self.name.is_empty() {
            self.section.to_string()
        } else {
            format!("{}.{}", self.section, self.name)
        }
    }
}

/// What the stack file declares, resolved against the deployed stack.
#[derive(Debug, Clone, Default)]
pub struct StackTerms {
    declared: Vec<Declared>,
    /// Each function's declared access, by its stack-file name.
    access: Vec<(String, Access)>,
    /// Declared resources whose ARN the deployment does not tell: a call on
    /// them is reported as on an undeclared resource.
    pub unresolved: Vec<String>,
}

/// How the stack file would grant a denied call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// The `access:` entry that grants it, and the declared resource it names
    /// with that resource's physical name.
    Grant {
        access: String,
        resource: Option<(String, String)>,
    },
    /// The declared access grants the action on the resource, but only
    /// under a condition the request does not meet.
    Conditional(Box<Unmet>),
    /// A declared resource, but no access the stack file declares grants
    /// this action on it.
    NotDeclarable { resource: (String, String) },
    /// The resource is none of the stack's declared resources.
    Undeclared,
}

/// A declared grant's condition a request does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// The `access:` entry the function declares.
    pub declared: String,
    /// The condition, why it is there, and what the request sent.
    pub why: String,
    /// How the call would meet it.
    pub fix: String,
    /// The `access:` entry that grants the request as it is.
    pub access: String,
    pub resource: (String, String),
}

impl fmt::Display for Remedy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remedy::Grant { access, resource: Some((path, physical)) } => {
                write!(f, "the stack file grants it with `{access}` ({path} is {physical})")
            }
            Remedy::Grant { access, resource: None } => write!(f, "the stack file grants it with `{access}`"),
            Remedy::Conditional(unmet) => {
                let Unmet { declared, why, fix, access, resource: (path, physical) } = unmet.as_ref();
                write!(
                    f,
                    "`{declared}` allows it only {why}; {fix}, or the stack file grants it as it is with `{access}` ({path} is {physical})"
                )
            }
            Remedy::NotDeclarable { resource: (path, physical) } => write!(
                f,
                "the resource is {path} ({physical}), but no `access:` entry the stack file can declare grants this action"
            ),
            Remedy::Undeclared => write!(f, "the resource is none of the stack file's declared resources"),
        }
    }
}

impl StackTerms {
    pub fn new(def: &StackDef, resolver: &Resolver<'_>) -> StackTerms {
        let mut terms = StackTerms {
            access: def
                .functions
                .iter()
                .map(|(n, f)| (n.clone(), f.access.clone()))
                .collect(),
            ..StackTerms::default()
        };
        let kinds: [(&Kind, Vec<&String>); 9] = [
            (&TABLE, def.tables.keys().collect()),
            (&BUCKET, def.buckets.keys().collect()),
            (&SECRET, def.secrets.keys().collect()),
            (&FUNCTION, def.functions.keys().collect()),
            (&TOPIC, def.topics.keys().collect()),
            (&QUEUE, def.queues.keys().collect()),
            (&STREAM, def.streams.keys().collect()),
            (&EVENT_BUS, def.event_buses.keys().collect()),
            (&SCHEDULE_GROUP, def.schedule_groups.keys().collect()),
        ];
        for (kind, names) in kinds {
            for name in names {
                match declared(kind, name, resolver) {
                    Ok(d) => terms.declared.push(d),
                    Err(e) => terms
                        .unresolved
                        .push(format!("{}.{name}: {e}", kind.section)),
                }
            }
        }
        if def.user_pool.is_some() {
            match resolver.string(&json!({"Fn::GetAtt": ["UserPool", "Arn"]})) {
                Ok(arn) => terms.declared.push(Declared {
                    section: "user_pool",
                    name: String::new(),
                    physical: arn.rsplit('/').next().unwrap_or_default().to_string(),
                    exact: vec![arn],
                    inside: Vec::new(),
                }),
                Err(e) => terms.unresolved.push(format!("user_pool: {e}")),
            }
        }
        terms
    }

    /// The full ARNs of the stack's secrets.
    pub fn secret_arns(&self) -> Vec<String> {
        self.declared
            .iter()
            .filter(|d| d.section == SECRET.section)
            .flat_map(|d| d.exact.iter().cloned())
            .collect()
    }

    /// How the stack file would grant `check` to function `function` (its
    /// stack-file name).
    pub fn remedy(&self, function: &str, check: &Check) -> Remedy {
        let access = self
            .access
            .iter()
            .find(|(n, _)| n == function)
            .map(|(_, a)| a);
        let action = check.action.as_str();
        if let Some(entry) = account_wide(action) {
            return Remedy::Grant {
                access: entry,
                resource: None,
            };
        }
        let Some(declared) = self.declared.iter().find(|d| d.holds(&check.resource)) else {
            return Remedy::Undeclared;
        };
        let resource = (declared.path(), declared.physical.clone());
        if let Some(conditional) = unmet_append_condition(declared, access, check, &resource) {
            return conditional;
        }
        match entry(declared, access, check) {
            Some(access) => Remedy::Grant {
                access,
                resource: Some(resource),
            },
            None => Remedy::NotDeclarable { resource },
        }
    }
}

fn declared(
    kind: &'static Kind,
    name: &str,
    resolver: &Resolver<'_>,
) -> Result<Declared, crate::local::template::Unresolved> {
    let id = kind.logical_id(name);
    let reference = resolver.string(&json!({ "Ref": id }))?;
    let get_arn = || resolver.string(&json!({ "Fn::GetAtt": [id, "Arn"] }));
    let partition = resolver.string(&json!({"Ref": "AWS::Partition"}))?;
    let (physical, exact, inside) = match kind.section {
        "tables" => {
            let arn = get_arn()?;
            (reference, vec![arn.clone()], vec![format!("{arn}/")])
        }
        "buckets" => {
            let arn = format!("arn:{partition}:s3:::{reference}");
            (reference, vec![arn.clone()], vec![format!("{arn}/")])
        }
        "functions" => {
            let arn = get_arn()?;
            (reference, vec![arn.clone()], vec![format!("{arn}:")])
        }
        // `Ref` of a queue is its URL, whose last segment is its name.
        "queues" => {
            let name = reference.rsplit('/').next().unwrap_or(&reference);
            (name.to_string(), vec![get_arn()?], Vec::new())
        }
        // Registered consumers of a stream are `STREAM_ARN/consumer/NAME:…`.
        "streams" => {
            let arn = get_arn()?;
            (
                reference,
                vec![arn.clone()],
                vec![format!("{arn}/consumer/")],
            )
        }
        "event_buses" => (reference, vec![get_arn()?], Vec::new()),
        "schedule_groups" => {
            let role = resolver.string(&json!({ "Fn::GetAtt": [format!("{id}Role"), "Arn"] }))?;
            let scheduler = resolver.string(&json!({"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}"}))?;
            let group = format!("{scheduler}:schedule-group/{reference}");
            (
                reference.clone(),
                vec![role, group],
                vec![format!("{scheduler}:schedule/{reference}/")],
            )
        }
        // Secrets and topics: `Ref` is the ARN.
        _ => {
            let physical = secret_name(&reference)
                .or_else(|| reference.rsplit(':').next())
                .unwrap_or(&reference)
                .to_string();
            (physical, vec![reference], Vec::new())
        }
    };
    Ok(Declared {
        section: kind.section,
        name: name.to_string(),
        physical,
        exact,
        inside,
    })
}

/// The stack-file name of the function whose logical id is `logical_id`.
pub fn function_name<'d>(def: &'d StackDef, logical_id: &str) -> Option<&'d str> {
    def.functions
        .keys()
        .map(String::as_str)
        .find(|name| FUNCTION.logical_id(name) == logical_id)
}

/// `…:secret:app/db-AbCdEf` → `app/db` (Secrets Manager appends six characters).
pub(crate) fn secret_name(arn: &str) -> Option<&str> {
    let (_, named) = arn.split_once(":secret:")?;
    named.get(..named.len().checked_sub(7)?)
}

/// Grants that name no resource of the stack.
fn account_wide(action: &str) -> Option<String> {
    if METRICS_READ.iter().any(|a| a.eq_ignore_ascii_case(action)) {
        return Some("access: {read_metrics: true}".into());
    }
    let ec2 = action.strip_prefix("ec2:")?;
    let parsed: Ec2Action = serde_json::from_value(json!(snake(ec2))).ok()?;
    Some(format!("access: {{ec2: {{actions: [{}]}}}}", snake(ec2)))
        .filter(|_| parsed.iam_action().eq_ignore_ascii_case(action))
}

/// The `access:` entry granting `check` on `declared`, merged with what
/// the function already declares for it.
fn entry(declared: &Declared, access: Option<&Access>, check: &Check) -> Option<String> {
    let action = check.action.as_str();
    let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(action));
    let name = &declared.name;
    let list = |key: &str| format!("access: {{{key}: [{name}]}}");
    match declared.section {
        "tables" if is(&TABLE_READ) || is(&TABLE_WRITE) || is(&TABLE_APPEND) => {
            let existing = access.and_then(|a| a.tables.get(name)).copied();
            let level = table_level(existing, action)?;
            Some(format!(
                "access: {{tables: {{{name}: {}}}}}",
                level.as_str()
            ))
        }
        "buckets" if is(&BUCKET_READ) || is(&BUCKET_LIST) || is(&BUCKET_WRITE) => {
            let existing = access.and_then(|a| a.buckets.get(name));
            let reads = !is(&BUCKET_WRITE);
            let level = level_word(existing.map(|g| g.level), reads, !reads);
            let key = check
                .context
                .value("s3:prefix")
                .map(str::to_string)
                .or_else(|| {
                    declared
                        .inside
                        .iter()
                        .find_map(|p| check.resource.strip_prefix(p.as_str()))
                        .map(str::to_string)
                })
                .unwrap_or_default();
            // The prefix already declared is kept when it covers the key.
            match existing
                .and_then(|g| g.prefix.as_deref())
                .filter(|p| key.starts_with(p))
            {
                Some(prefix) => Some(format!(
                    "access: {{buckets: {{{name}: {{level: {level}, prefix: {prefix}}}}}}}"
                )),
                None => Some(format!("access: {{buckets: {{{name}: {level}}}}}")),
            }
        }
        "secrets" if is(&SECRET_READ) => Some(list("secrets")),
        "functions" if is(&INVOKE) => Some(list("invoke")),
        "topics" if is(&PUBLISH) => Some(list("publish")),
        "queues" if is(&QUEUE_SEND) => Some(format!("access: {{queues: {{{name}: send}}}}")),
        "queues" if is(&QUEUE_CONSUME) => Some(format!("access: {{queues: {{{name}: consume}}}}")),
        "streams" if is(&STREAM_WRITE) => Some(format!("access: {{streams: {{{name}: write}}}}")),
        "streams" if is(&STREAM_READ) => Some(format!("access: {{streams: {{{name}: read}}}}")),
        "event_buses" if is(&PUT_EVENTS) => Some(list("event_buses")),
        "schedule_groups" if is(&SCHEDULES_MANAGE) || is(&PASS_ROLE) => {
            Some(list("schedule_groups"))
        }
        "user_pool" => user_pool_level(action),
        _ => None,
    }
    .or_else(|| declared_action(declared, access, action))
}

/// The `access.user_pool` entry granting a Cognito action, when it is one of its levels.
fn user_pool_level(action: &str) -> Option<String> {
    let operation = action.strip_prefix("cognito-idp:")?;
    let parsed: UserPoolAction = serde_json::from_value(json!(snake(operation))).ok()?;
    parsed
        .iam_action()
        .eq_ignore_ascii_case(action)
        .then(|| format!("access: {{user_pool: [{}]}}", snake(operation)))
}

/// The `access.actions` entry for an action no level grants, when it is
/// one of the resource's service that acts on it: the actions already
/// declared on the resource, and this one.
fn declared_action(declared: &Declared, access: Option<&Access>, action: &str) -> Option<String> {
    let scope = iam_actions::scope(declared.section)?;
    let found = iam_actions::find(action)?;
    if found.service != scope.service || scope.parts_of(found).is_empty() {
        return None;
    }
    let key = declared.path();
    let name = if found.spelled() {
        found.full()
    } else {
        action.to_string()
    };
    let mut actions: Vec<String> = access
        .and_then(|a| a.actions.get(&key))
        .cloned()
        .unwrap_or_default();
    if !actions.iter().any(|a| a.eq_ignore_ascii_case(&name)) {
        actions.push(name);
    }
    Some(format!(
        "access: {{actions: {{{key}: [{}]}}}}",
        actions.join(", ")
    ))
}

/// A put the function's `append` grant refuses because it asks for the
/// item it replaces (`ReturnValues` other than `NONE`).
fn unmet_append_condition(
    declared: &Declared,
    access: Option<&Access>,
    check: &Check,
    resource: &(String, String),
) -> Option<Remedy> {
    let action = check.action.as_str();
    if declared.section != TABLE.section
        || !TABLE_APPEND.iter().any(|a| a.eq_ignore_ascii_case(action))
    {
        return None;
    }
    let name = &declared.name;
    let existing = access
        .and_then(|a| a.tables.get(name))
        .copied()
        .filter(|level| level.appends())?;
    let (key, allowed) = APPEND_RETURN_VALUES;
    let sent = check.context.value(key).filter(|v| *v != allowed)?;
    let wider = table_level(Some(existing), action)?;
    let entry = |level: TableAccess| format!("access: {{tables: {{{name}: {}}}}}", level.as_str());
    Some(Remedy::Conditional(Box::new(Unmet {
        declared: entry(existing),
        why: format!(
            "with ReturnValues {allowed} or without it, so that a put never returns the item it replaces, and this call sends {sent}"
        ),
        fix: format!("send ReturnValues {allowed}"),
        access: entry(wider),
        resource: resource.clone(),
    })))
}

/// The table level that grants `action` on top of what is declared:
/// `append` and `read_append` keep appending until something writes.
fn table_level(existing: Option<TableAccess>, action: &str) -> Option<TableAccess> {
    let is = |list: &[&str]| list.iter().any(|a| a.eq_ignore_ascii_case(action));
    let reads = is(&TABLE_READ);
    let writes = !reads && (is(&TABLE_WRITE) || is(&TABLE_APPEND));
    TableAccess::of(
        reads || existing.is_some_and(TableAccess::reads),
        writes || existing.is_some_and(TableAccess::writes),
        existing.is_some_and(TableAccess::appends),
    )
}

/// The bucket level that grants what is needed on top of what is declared.
fn level_word(existing: Option<DataAccess>, reads: bool, writes: bool) -> &'static str {
    let reads = reads || existing.is_some_and(DataAccess::reads);
    let writes = writes || existing.is_some_and(DataAccess::writes);
    match (reads, writes) {
        (true, true) => "read_write",
        (true, false) => "read",
        _ => "write",
    }
}

/// `AdminUpdateUserAttributes` → `admin_update_user_attributes`.
fn snake(pascal: &str) -> String {
    let mut out = String::with_capacity(pascal.len() + 4);
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests;
