//! Each resource as CloudFormation will judge it: against its resource
//! provider schema, with no null anywhere, and against rules AWS enforces
//! that the schemas do not express.
//!
//! Findings name the resource and the path inside it, and carry the
//! offending value, so the pipeline can point at the stack-file place that
//! produced it.

use crate::diagnostic::Diagnostic;
use crate::resource_schema::{self, validate::dotted, Violation};
use serde_json::Value;

/// A problem with one place of the rendered template.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The logical id, for a problem inside a resource.
    pub resource: Option<String>,
    /// Where inside the resource (or the template, without one).
    pub path: Vec<String>,
    /// The offending value, when there is one.
    pub value: Option<Value>,
    pub diagnostic: Diagnostic,
}

/// Every schema violation, null and AWS-rule breach in the template.
pub fn check_resources(template: &Value) -> Vec<Finding> {
    let mut out = nulls(template);
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return out;
    };
    for (id, resource) in resources {
        let type_name = resource
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match resource_schema::validate_resource(resource) {
            Some(violations) => out.extend(violations.into_iter().map(|v| schema_finding(id, type_name, v))),
            None => out.push(Finding {
                resource: Some(id.clone()),
                path: vec!["Type".into()],
                value: None,
                diagnostic: Diagnostic::warning(format!("`{id}` is a `{type_name}`, which stackctl has no CloudFormation schema for, so its properties are not checked"))
                    .hint("a `--templates` override emits a type stackctl does not; `scripts/resource-schemas.py` adds its schema"),
            }),
        }
        out.extend(super::rules::check_resource(id, type_name, resource));
    }
    out.extend(super::rules::check_template(resources));
    out
}

fn schema_finding(id: &str, type_name: &str, v: Violation) -> Finding {
    let message = format!("`{id}` ({type_name}): {}", v.message);
    let hint = format!(
        "CloudFormation checks every `{type_name}` against its resource schema and would refuse this template; \
         if the value comes from the stack file, change it there, otherwise this is a stackctl defect"
    );
    Finding {
        resource: Some(id.to_string()),
        path: v.path,
        value: v.value,
        diagnostic: Diagnostic::error(message).hint(hint),
    }
}

/// CloudFormation refuses a template that holds a null anywhere
/// ("'null' values are not allowed in templates").
fn nulls(template: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    find_nulls(template, &mut path, &mut out);
    out.into_iter()
        .map(|path| {
            let (resource, inner) = match path.as_slice() {
                [section, id, rest @ ..] if section == "Resources" => (Some(id.clone()), rest.to_vec()),
                _ => (None, path.clone()),
            };
            let message = format!("`{}` is null, and CloudFormation refuses any template that holds a null value", dotted(&path));
            let diagnostic = Diagnostic::error(message).hint("leave the property out instead of writing null (a stackctl defect, or a `--templates` override that writes null)");
            Finding { resource, path: inner, value: None, diagnostic }
        })
        .collect()
}

/// Walks the whole template; a path is spelled out only where a null is.
fn find_nulls<'v>(value: &'v Value, path: &mut Vec<Step<'v>>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Null => out.push(path.iter().map(Step::to_string).collect()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                find_nulls(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Step::Key(k));
                find_nulls(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

enum Step<'v> {
    Key(&'v str),
    Index(usize),
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Key(k) => f.write_str(k),
            Step::Index(i) => write!(f, "{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_null_is_found_wherever_it_is() {
        let t = json!({"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"Tags": [{"Key": "a", "Value": null}]}}}, "Outputs": {"O": {"Value": null}}});
        let found = check_resources(&t);
        let nulls: Vec<(Option<&str>, String)> = found
            .iter()
            .filter(|f| f.diagnostic.message.contains("is null"))
            .map(|f| (f.resource.as_deref(), dotted(&f.path)))
            .collect();
        assert_eq!(
            nulls,
            vec![
                (Some("T"), "Properties.Tags[0].Value".to_string()),
                (None, "Outputs.O.Value".to_string())
            ]
        );
    }

    #[test]
    fn a_type_without_a_schema_is_a_warning_not_a_silent_pass() {
        let found = check_resources(
            &json!({"Resources": {"S": {"Type": "AWS::StepFunctions::StateMachine"}}}),
        );
        assert_eq!(found.len(), 1);
        assert!(!found[0].diagnostic.is_error());
    }
}
