//! Which log groups `logs` reads, from the stack's rendered template: each
//! function's `LoggingConfig.LogGroup` and each API stage's access-log
//! destination, joined with the deployed stack's physical ids, and named
//! by their stack-file names. Nothing here does I/O.

use crate::kinds::{API, FUNCTION};
use crate::model::StackDef;
use serde_json::Value;
use std::collections::BTreeMap;

/// What writes to a log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Writer {
    Function,
    Api,
}

/// One log group of the stack and what writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    /// The function's or API's name in the stack file (its logical id when
    /// the stack file does not declare it).
    pub name: String,
    pub writer: Writer,
    /// The group's name; `None` when the deployed stack holds no such group.
    pub group: Option<String>,
    /// The template's log group resource, when it declares one.
    pub group_logical_id: Option<String>,
}

/// Every function's and API's log group, functions first, each in the
/// template's order.
pub fn log_sources(
    template: &Value,
    def: &StackDef,
    physical_ids: &BTreeMap<String, String>,
) -> Vec<LogSource> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let log_group = |id: &str| {
        resources
            .get(id)
            .filter(|r| r["Type"] == "AWS::Logs::LogGroup")
            .map(|_| LogSource {
                name: String::new(),
                writer: Writer::Function,
                group: physical_ids.get(id).cloned(),
                group_logical_id: Some(id.to_string()),
            })
    };
    let mut sources = Vec::new();
    for (id, resource) in resources {
        if resource["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let name = declared_name(def.functions.keys(), |n| FUNCTION.logical_id(n), id);
        let configured = &resource["Properties"]["LoggingConfig"]["LogGroup"];
        let source = match configured {
            Value::String(group) => LogSource {
                name,
                writer: Writer::Function,
                group: Some(group.clone()),
                group_logical_id: None,
            },
            Value::Null => LogSource {
                name,
                writer: Writer::Function,
                // What Lambda writes to when the function names no group.
                group: physical_ids.get(id).map(|f| format!("/aws/lambda/{f}")),
                group_logical_id: None,
            },
            other => match reference(other).and_then(|target| log_group(&target)) {
                Some(found) => LogSource { name, ..found },
                None => continue,
            },
        };
        sources.push(source);
    }
    for (id, resource) in resources {
        let settings = match resource["Type"].as_str() {
            Some("AWS::ApiGatewayV2::Stage") => &resource["Properties"]["AccessLogSettings"],
            Some("AWS::ApiGateway::Stage") => &resource["Properties"]["AccessLogSetting"],
            _ => continue,
        };
        let Some(found) = reference(&settings["DestinationArn"]).and_then(|t| log_group(&t)) else {
            continue;
        };
        let properties = &resource["Properties"];
        let api = reference(&properties["ApiId"])
            .or_else(|| reference(&properties["RestApiId"]))
            .unwrap_or_else(|| id.clone());
        let name = declared_name(def.apis.keys(), |n| API.logical_id(n), &api);
        sources.push(LogSource {
            name,
            writer: Writer::Api,
            ..found
        });
    }
    sources
}

/// The stack-file name whose logical id is `logical_id`, else the id.
fn declared_name<'a>(
    names: impl Iterator<Item = &'a String>,
    logical_id_of: impl Fn(&str) -> String,
    logical_id: &str,
) -> String {
    names
        .into_iter()
        .find(|n| logical_id_of(n) == logical_id)
        .cloned()
        .unwrap_or_else(|| logical_id.to_string())
}

/// The resource a `Ref` or `Fn::GetAtt` (either form) points at.
fn reference(value: &Value) -> Option<String> {
    if let Some(id) = value.get("Ref").and_then(Value::as_str) {
        return Some(id.to_string());
    }
    match value.get("Fn::GetAtt")? {
        Value::Array(parts) => parts.first()?.as_str().map(String::from),
        Value::String(dotted) => dotted.split_once('.').map(|(id, _)| id.to_string()),
        _ => None,
    }
}

/// The names the command line may use: functions, then APIs, without repeats.
pub fn known_names(sources: &[LogSource]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for s in sources {
        if !names.contains(&s.name.as_str()) {
            names.push(&s.name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(yaml: &str) -> StackDef {
        let (_, resolved) = crate::load::resolve_text("s.yaml", yaml, "dev");
        resolved.def().expect("a definition").clone()
    }

    #[test]
    fn groups_come_from_the_template_and_the_deployment() {
        let template = json!({"Resources": {
            "HelloFunctionLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/x/${AWS::StackName}"}}},
            "HelloFunction": {"Type": "AWS::Lambda::Function", "Properties": {"LoggingConfig": {"LogGroup": {"Ref": "HelloFunctionLogGroup"}}}},
            "PlainFunction": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "PublicApi": {"Type": "AWS::ApiGatewayV2::Api"},
            "PublicApiAccessLogs": {"Type": "AWS::Logs::LogGroup"},
            "PublicApiDefaultStage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {
                "ApiId": {"Ref": "PublicApi"},
                "AccessLogSettings": {"DestinationArn": {"Fn::GetAtt": ["PublicApiAccessLogs", "Arn"]}}}},
            "OrdersApiStage": {"Type": "AWS::ApiGateway::Stage", "Properties": {
                "RestApiId": {"Ref": "OrdersApi"},
                "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": "OrdersApiLogs.Arn"}}}},
        }});
        let physical: BTreeMap<String, String> = [
            ("HelloFunctionLogGroup", "/custom/hello-dev"),
            ("PlainFunction", "hello-dev-plain"),
            ("PublicApiAccessLogs", "/aws/apigateway/hello-dev-public"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let stack = def("name: hello\nfunctions:\n  hello: {crate: h}\napis:\n  public: {type: http, routes: {}}\n");
        let sources = log_sources(&template, &stack, &physical);
        let seen: Vec<(&str, Writer, Option<&str>)> = sources
            .iter()
            .map(|s| (s.name.as_str(), s.writer, s.group.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                ("hello", Writer::Function, Some("/custom/hello-dev")),
                (
                    "PlainFunction",
                    Writer::Function,
                    Some("/aws/lambda/hello-dev-plain")
                ),
                (
                    "public",
                    Writer::Api,
                    Some("/aws/apigateway/hello-dev-public")
                ),
            ],
            "the REST stage points at no log group resource, so it is left out"
        );
        assert_eq!(known_names(&sources), ["hello", "PlainFunction", "public"]);
    }

    #[test]
    fn a_group_the_deployment_lacks_is_kept_without_a_name() {
        let template = json!({"Resources": {
            "AFunctionLogGroup": {"Type": "AWS::Logs::LogGroup"},
            "AFunction": {"Type": "AWS::Lambda::Function", "Properties": {"LoggingConfig": {"LogGroup": {"Ref": "AFunctionLogGroup"}}}},
        }});
        let sources = log_sources(
            &template,
            &def("name: s\nfunctions:\n  a: {crate: h}\n"),
            &BTreeMap::new(),
        );
        assert_eq!(sources.len(), 1);
        assert_eq!(
            (sources[0].name.as_str(), sources[0].group.as_deref()),
            ("a", None)
        );
        assert_eq!(
            sources[0].group_logical_id.as_deref(),
            Some("AFunctionLogGroup")
        );
    }
}
