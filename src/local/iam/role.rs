//! A function's role read out of the rendered template: its inline
//! policies, the template's `AWS::IAM::Policy` resources attached to it, and
//! the managed policies it names, every intrinsic function resolved
//! against the deployed stack.

use super::policy::RolePolicy;
use crate::local::template::{referenced_id, resources_of, FunctionSpec, Resolver};
use serde_json::{json, Value};

const ROLE: &str = "AWS::IAM::Role";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("function {function}'s role {role_arn} is not a role of the template, so its policy cannot be checked")]
    NotInTemplate { function: String, role_arn: String },
}

/// The policy of `function`'s role.
pub fn role_policy(
    template: &Value,
    resolver: &Resolver<'_>,
    function: &FunctionSpec,
) -> Result<RolePolicy, RoleError> {
    let role = role_of(template, resolver, function).ok_or_else(|| RoleError::NotInTemplate {
        function: function.logical_id.clone(),
        role_arn: function.role_arn.clone(),
    })?;
    let props = &template["Resources"][&role]["Properties"];
    let mut policy = RolePolicy {
        role: role.clone(),
        role_arn: function.role_arn.clone(),
        ..RolePolicy::default()
    };
    for (i, inline) in props["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = inline["PolicyName"]
            .as_str()
            .unwrap_or("inline")
            .to_string();
        let at = format!("{role}.Policies.{i}");
        let document = resolve(
            resolver,
            &inline["PolicyDocument"],
            &at,
            &mut policy.unresolved,
        );
        policy.add_document(&name, &document);
    }
    for (id, attached) in attached_policies(template, &role) {
        let document = resolve(
            resolver,
            &attached["Properties"]["PolicyDocument"],
            id,
            &mut policy.unresolved,
        );
        policy.add_document(id, &document);
    }
    let managed = resolve(
        resolver,
        &props["ManagedPolicyArns"],
        &role,
        &mut policy.unresolved,
    );
    policy.managed_policies = managed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    Ok(policy)
}

/// The role's logical id: the one the function's `Role` names, else the
/// role whose ARN is the function's.
fn role_of(template: &Value, resolver: &Resolver<'_>, function: &FunctionSpec) -> Option<String> {
    let named = referenced_id(&template["Resources"][&function.logical_id]["Properties"]["Role"]);
    if let Some(id) = named.filter(|id| resolver.resource_type(id) == ROLE) {
        return Some(id);
    }
    resources_of(template, ROLE)
        .find(|(id, _)| {
            resolver
                .string(&json!({ "Fn::GetAtt": [id, "Arn"] }))
                .as_deref()
                == Ok(function.role_arn.as_str())
        })
        .map(|(id, _)| id.to_string())
}

/// `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` resources of the
/// template that attach to `role`.
fn attached_policies<'t>(
    template: &'t Value,
    role: &'t str,
) -> impl Iterator<Item = (&'t str, &'t Value)> + 't {
    resources_of(template, "AWS::IAM::Policy")
        .chain(resources_of(template, "AWS::IAM::ManagedPolicy"))
        .filter(move |(_, p)| {
            p["Properties"]["Roles"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| referenced_id(r).as_deref() == Some(role) || r.as_str() == Some(role))
        })
}

/// `value` with every intrinsic function evaluated; what cannot be is
/// noted and becomes `null` (which matches nothing). `verify` resolves the
/// documents it compares with the live ones through this too.
pub fn resolve(
    resolver: &Resolver<'_>,
    value: &Value,
    at: &str,
    unresolved: &mut Vec<String>,
) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && is_intrinsic(map.keys().next()) => {
            match resolver.string(value) {
                Ok(s) => Value::String(s),
                Err(e) => {
                    unresolved.push(format!("{at}: {e}"));
                    Value::Null
                }
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        resolve(resolver, v, &format!("{at}.{k}"), unresolved),
                    )
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| resolve(resolver, v, &format!("{at}.{i}"), unresolved))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn is_intrinsic(key: Option<&String>) -> bool {
    key.is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
}

#[cfg(test)]
mod tests;
