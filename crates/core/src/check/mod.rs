//! The rendered template as CloudFormation will see it.
//!
//! Every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable and `DependsOn` must name a
//! resource, parameter or pseudo parameter; resources must not depend on
//! each other in a cycle; and the template must fit CloudFormation's limits.
//! Problems here are stackctl's own (a template or planning bug, or an
//! override), so they name logical ids rather than stack-file lines.
//! [`check_resources`] holds every resource to CloudFormation's resource
//! schemas and to rules AWS enforces beyond them; its findings carry their
//! place so the pipeline can point at the stack file.

mod resources;
mod rules;

pub use resources::{check_resources, Finding};

use crate::diagnostic::Diagnostic;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
/// CloudFormation takes a template body inline up to this size.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;
/// …and from S3 up to this size.
pub const S3_TEMPLATE_LIMIT: usize = 1_000_000;
/// IAM allows this many characters of inline policies per role, in all.
pub const ROLE_INLINE_POLICY_LIMIT: usize = 10_240;

const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// One use of a name inside a template.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Use<'t> {
    /// The resource or output the use is in.
    pub from: &'t str,
    pub target: &'t str,
    pub how: &'static str,
}

/// Every reference from resources and outputs to other names.
pub fn references(template: &Value) -> Vec<Use<'_>> {
    let mut uses = Vec::new();
    for section in ["Resources", "Outputs"] {
        if let Some(Value::Object(entries)) = template.get(section) {
            for (id, body) in entries {
                collect(id, body, &BTreeSet::new(), &mut uses);
                if let Some(depends) = body.get("DependsOn") {
                    let targets: Vec<&Value> = match depends {
                        Value::Array(items) => items.iter().collect(),
                        single => vec![single],
                    };
                    for t in targets.into_iter().filter_map(Value::as_str) {
                        uses.push(Use {
                            from: id,
                            target: t,
                            how: "DependsOn",
                        });
                    }
                }
            }
        }
    }
    uses
}

fn collect<'t>(
    from: &'t str,
    value: &'t Value,
    locals: &BTreeSet<&'t str>,
    out: &mut Vec<Use<'t>>,
) {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().expect("one entry");
            match (k.as_str(), v) {
                ("Ref", Value::String(t)) => out.push(Use {
                    from,
                    target: t,
                    how: "Ref",
                }),
                ("Fn::GetAtt", Value::Array(parts)) => {
                    if let Some(t) = parts.first().and_then(Value::as_str) {
                        out.push(Use {
                            from,
                            target: t,
                            how: "Fn::GetAtt",
                        });
                    }
                }
                ("Fn::GetAtt", Value::String(dotted)) => {
                    out.push(Use {
                        from,
                        target: dotted.split('.').next().unwrap_or_default(),
                        how: "Fn::GetAtt",
                    });
                }
                ("Fn::Sub", Value::String(body)) => sub_targets(from, body, locals, out),
                ("Fn::Sub", Value::Array(parts)) => {
                    let vars = parts.get(1).and_then(Value::as_object);
                    let mut inner = locals.clone();
                    if let Some(vars) = vars {
                        inner.extend(vars.keys().map(String::as_str));
                        for v in vars.values() {
                            collect(from, v, locals, out);
                        }
                    }
                    if let Some(body) = parts.first().and_then(Value::as_str) {
                        sub_targets(from, body, &inner, out);
                    }
                }
                _ => collect(from, v, locals, out),
            }
        }
        Value::Object(map) => map.values().for_each(|v| collect(from, v, locals, out)),
        Value::Array(items) => items.iter().for_each(|v| collect(from, v, locals, out)),
        _ => {}
    }
}

/// The names a `Fn::Sub` body uses: `${Name}` and `${Name.Attr}`, not `${!Literal}`.
fn sub_targets<'t>(
    from: &'t str,
    body: &'t str,
    locals: &BTreeSet<&'t str>,
    out: &mut Vec<Use<'t>>,
) {
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            let (target, how) = match name.split_once('.') {
                Some((t, _)) if !name.starts_with("AWS::") => (t, "Fn::Sub (attribute)"),
                _ => (name, "Fn::Sub"),
            };
            if !locals.contains(target) {
                out.push(Use { from, target, how });
            }
        }
        rest = &after[end + 1..];
    }
}

/// Everything wrong with a rendered template.
pub fn check(template: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let parameters = template
        .get("Parameters")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let count = |section: &str| {
        template
            .get(section)
            .and_then(Value::as_object)
            .map_or(0, |m| m.len())
    };
    for (section, limit) in [
        ("Resources", MAX_RESOURCES),
        ("Outputs", MAX_OUTPUTS),
        ("Parameters", MAX_PARAMETERS),
    ] {
        if count(section) > limit {
            out.push(
                Diagnostic::error(format!(
                    "the template has {} {}, more than CloudFormation's {limit}",
                    count(section),
                    section.to_lowercase()
                ))
                .hint("split the application into several stacks"),
            );
        }
    }
    let size = json_size(template);
    if size > S3_TEMPLATE_LIMIT {
        out.push(
            Diagnostic::error(format!(
                "the template is {size} bytes, more than CloudFormation's {S3_TEMPLATE_LIMIT}"
            ))
            .hint("split the application into several stacks"),
        );
    }
    let uses = references(template);
    for u in &uses {
        let is_attr = u.how.starts_with("Fn::GetAtt")
            || u.how == "Fn::Sub (attribute)"
            || u.how == "DependsOn";
        let known = resources.contains_key(u.target)
            || (!is_attr
                && (parameters.contains_key(u.target) || PSEUDO_PARAMETERS.contains(&u.target)));
        if !known {
            out.push(Diagnostic::error(format!("`{}` uses {} on `{}`, which the template does not define", u.from, u.how, u.target)).hint("this is a template or planning bug (or an override that names a resource it does not create)"));
        }
    }
    if let Some(cycle) = find_cycle(&resources.keys().map(String::as_str).collect(), &uses) {
        out.push(Diagnostic::error(format!("resources depend on each other in a cycle: {}", cycle.join(" → "))).hint("CloudFormation cannot create these; break the cycle by referring to one of them by name instead of by `Ref`"));
    }
    for (id, r) in resources {
        if r.get("Type").and_then(Value::as_str) == Some("AWS::IAM::Role") {
            let policies = r
                .pointer("/Properties/Policies")
                .cloned()
                .unwrap_or(Value::Null);
            let chars: usize = policies
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.get("PolicyDocument"))
                .map(json_size)
                .sum();
            if chars > ROLE_INLINE_POLICY_LIMIT {
                out.push(Diagnostic::error(format!("role `{id}` has {chars} characters of inline policy, more than IAM's {ROLE_INLINE_POLICY_LIMIT}")).hint("the function declares access to too many resources; split it, or group resources under one prefix"));
            }
        }
    }
    out
}

/// Resources an application template must not hold because AWS keeps one
/// per account and region: stackctl sets them in its own account-settings
/// stack (see [`crate::plan::account`]), so stacks never overwrite each
/// other's. Only an override (`--templates`) can bring one in.
pub fn account_level_resources(template: &Value) -> Vec<Diagnostic> {
    use crate::plan::account::{ACCOUNT_LEVEL_TYPES, ACCOUNT_SETTINGS_STACK};
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(id, r)| Some((id, r.get("Type").and_then(Value::as_str).filter(|t| ACCOUNT_LEVEL_TYPES.contains(t))?)))
        .map(|(id, ty)| {
            Diagnostic::error(format!("`{id}` is an {ty}, of which an AWS account and region has exactly one; an application stack must not own it"))
                .hint(format!("two stacks that each set it overwrite each other's CloudWatch role, and deleting either breaks the other's REST API logging; stackctl deploy sets it once per account and region in the `{ACCOUNT_SETTINGS_STACK}` stack when a REST API logs, so remove `{id}` (and its role) from the template override"))
        })
        .collect()
}

/// Bytes of `value` as compact JSON, counted without building the text.
pub fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).expect("counting cannot fail");
    count.0
}

fn find_cycle(ids: &BTreeSet<&str>, uses: &[Use]) -> Option<Vec<String>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for u in uses
        .iter()
        .filter(|u| ids.contains(u.from) && ids.contains(u.target))
    {
        edges.entry(u.from).or_default().insert(u.target);
    }
    // Iterative depth-first search with colours: 0 new, 1 on stack, 2 done.
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
    for start in ids {
        let start: &str = start;
        if colour.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(
            start,
            edges
                .get(start)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
        )];
        colour.insert(start, 1);
        while let Some((node, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) => match colour.get(next).copied().unwrap_or(0) {
                    0 => {
                        colour.insert(next, 1);
                        stack.push((
                            next,
                            edges
                                .get(next)
                                .map(|s| s.iter().copied().collect())
                                .unwrap_or_default(),
                        ));
                    }
                    1 => {
                        let from = stack
                            .iter()
                            .position(|(n, _)| *n == next)
                            .expect("on stack");
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(next.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                },
                None => {
                    colour.insert(*node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_dangling_references_and_cycles() {
        let t = json!({"Resources": {
            "A": {"Type": "X", "Properties": {"P": {"Ref": "B"}, "Q": {"Fn::Sub": "${Missing.Arn}-${AWS::Region}-${!Literal}"}}},
            "B": {"Type": "X", "Properties": {"P": {"Fn::GetAtt": ["A", "Arn"]}}}
        }});
        let problems = check(&t);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].message.contains("`Missing`"));
        assert!(problems[1].message.contains("cycle"));
    }

    #[test]
    fn an_account_level_resource_in_an_application_template_is_an_error() {
        let t = json!({"Resources": {"Logs": {"Type": "AWS::ApiGateway::Account", "Properties": {"CloudWatchRoleArn": "arn:r"}}, "Api": {"Type": "AWS::ApiGateway::RestApi"}}});
        let problems = account_level_resources(&t);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].is_error()
                && problems[0]
                    .message
                    .starts_with("`Logs` is an AWS::ApiGateway::Account"),
            "{}",
            problems[0].message
        );
        assert!(problems[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("stackctl-account-settings"));
        assert!(account_level_resources(
            &json!({"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi"}}})
        )
        .is_empty());
    }

    #[test]
    fn sub_variable_maps_are_local() {
        let t = json!({"Resources": {"A": {"Type": "X", "Properties": {"P": {"Fn::Sub": ["${Arn}/*", {"Arn": {"Ref": "AWS::Region"}}]}}}}});
        assert!(check(&t).is_empty());
    }
}
