//! Settings that exist once per AWS account and region, kept out of every
//! application stack in a small stack of stackctl's own.
//!
//! Today that is API Gateway's CloudWatch Logs role. AWS keeps one such
//! role per account and region (`AWS::ApiGateway::Account`: "To avoid
//! overwriting other roles, you should only have one
//! AWS::ApiGateway::Account resource per region per account", CloudFormation
//! template reference), and a REST API stage can log (access logs or
//! execution logs) only once it is set ("CloudWatch Logs role ARN must be
//! set in account settings to enable logging", API Gateway developer guide,
//! "Set up CloudWatch logging for REST APIs"). When two application stacks
//! each set it, each overwrites the other's role, and deleting either takes
//! away the role the account still points at. HTTP APIs log through
//! CloudWatch Logs resource policies instead and need no account role.

use super::{Fragment, Output, Plan};
use crate::render::{RenderError, Renderer};
use serde_json::{json, Value};

/// The stack that holds the account-level settings, one per account and
/// region (CloudFormation stack names are regional).
pub const ACCOUNT_SETTINGS_STACK: &str = "stackctl-account-settings";

/// The resource type that must live only in [`ACCOUNT_SETTINGS_STACK`].
pub const ACCOUNT_LEVEL_TYPES: [&str; 1] = ["AWS::ApiGateway::Account"];

/// Tags of the account-settings stack (and, through CloudFormation, its role).
pub fn account_settings_tags() -> Vec<(String, String)> {
    vec![
        ("app".into(), "stackctl".into()),
        ("component".into(), "account-settings".into()),
    ]
}

/// The plan of the account-settings stack: the API Gateway CloudWatch role
/// (trusting `apigateway.amazonaws.com`, with AWS's managed
/// `AmazonAPIGatewayPushToCloudWatchLogs` policy) and the account setting
/// pointing at it.
pub fn account_settings_plan() -> Plan {
    let tags = account_settings_tags();
    Plan {
        stack_name: ACCOUNT_SETTINGS_STACK.into(),
        description: "Account-level settings shared by every stack stackctl deploys in this account and region: the role API Gateway writes REST API logs with. Do not delete while a REST API here logs.".into(),
        globals: json!({"tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}),
        fragments: vec![Fragment { template: "account_settings", source: super::Path::root(), view: json!({}) }],
        outputs: vec![Output { id: "ApiGatewayCloudWatchRoleArn".into(), description: "The role API Gateway writes CloudWatch logs with".into(), value: json!({"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}) }],
        parameters: Vec::new(),
        imports: Vec::new(),
    }
}

/// The rendered account-settings template.
pub fn account_settings_template(renderer: &Renderer) -> Result<Value, RenderError> {
    let mut template = renderer.render_owned(account_settings_plan())?;
    // Not an application's environment: say what the stack is instead.
    template["Metadata"] = json!({"stackctl": {"scope": "account"}});
    Ok(template)
}

/// Whether a rendered application template needs the account's API Gateway
/// CloudWatch role: a REST API stage (or a deployment's stage description)
/// with access logs or execution logging.
pub fn needs_account_settings(template: &Value) -> bool {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return false;
    };
    resources.values().any(|r| {
        let props = r.get("Properties").unwrap_or(&Value::Null);
        match r.get("Type").and_then(Value::as_str) {
            Some("AWS::ApiGateway::Stage") => stage_logs(props),
            Some("AWS::ApiGateway::Deployment") => {
                props.get("StageDescription").is_some_and(stage_logs)
            }
            _ => false,
        }
    })
}

/// Access logs (`AccessLogSetting`, or `AccessLogSettingDestinationArn` in a
/// stage description) or execution logs (`LoggingLevel` other than OFF, or
/// `DataTraceEnabled`) on the stage or any of its method settings.
fn stage_logs(stage: &Value) -> bool {
    let execution_logs = |s: &Value| {
        s.get("LoggingLevel").is_some_and(|l| l != "OFF")
            || s.get("DataTraceEnabled") == Some(&Value::Bool(true))
    };
    let methods = stage
        .get("MethodSettings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    stage.get("AccessLogSetting").is_some()
        || stage.get("AccessLogSettingDestinationArn").is_some()
        || execution_logs(stage)
        || methods.into_iter().any(execution_logs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::TemplateSet;

    fn stage(props: Value) -> Value {
        json!({"Resources": {"S": {"Type": "AWS::ApiGateway::Stage", "Properties": props}}})
    }

    #[test]
    fn rest_stages_that_log_need_the_account_role_and_others_do_not() {
        assert!(needs_account_settings(&stage(
            json!({"AccessLogSetting": {"DestinationArn": "arn:l", "Format": "$context.requestId"}})
        )));
        assert!(needs_account_settings(&stage(
            json!({"MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "ERROR"}]})
        )));
        assert!(needs_account_settings(&stage(
            json!({"MethodSettings": [{"DataTraceEnabled": true}]})
        )));
        assert!(needs_account_settings(
            &json!({"Resources": {"D": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"StageDescription": {"LoggingLevel": "INFO"}}}}})
        ));
        assert!(
            !needs_account_settings(&stage(
                json!({"MethodSettings": [{"MetricsEnabled": true, "LoggingLevel": "OFF"}]})
            )),
            "metrics only"
        );
        let http = json!({"Resources": {"S": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"AccessLogSettings": {"DestinationArn": "arn:l"}}}}});
        assert!(
            !needs_account_settings(&http),
            "HTTP APIs log without the account role"
        );
        assert!(!needs_account_settings(&json!({})));
    }

    #[test]
    fn the_account_settings_template_sets_the_role_once_and_resolves() {
        let t =
            account_settings_template(&Renderer::new(&TemplateSet::builtin()).unwrap()).unwrap();
        let resources = t["Resources"].as_object().unwrap();
        let types: Vec<&str> = resources
            .values()
            .map(|r| r["Type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["AWS::IAM::Role", "AWS::ApiGateway::Account"]);
        let role = &resources["ApiGatewayCloudWatchRole"]["Properties"];
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json!({"Service": "apigateway.amazonaws.com"})
        );
        assert!(role["ManagedPolicyArns"][0]["Fn::Sub"]
            .as_str()
            .unwrap()
            .ends_with(":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"));
        assert_eq!(
            role["Tags"],
            json!([{"Key": "app", "Value": "stackctl"}, {"Key": "component", "Value": "account-settings"}])
        );
        assert_eq!(
            resources["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"],
            json!({"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]})
        );
        assert_eq!(crate::check::check(&t), vec![], "every reference resolves");
        let findings: Vec<String> = crate::check::check_resources(&t)
            .into_iter()
            .map(|f| f.diagnostic.message)
            .collect();
        assert_eq!(
            findings,
            Vec::<String>::new(),
            "every resource matches CloudFormation's schema"
        );
        assert_eq!(
            crate::check::account_level_resources(&t).len(),
            1,
            "…and an application template like it would be refused"
        );
        assert!(!t.to_string().contains("null"), "no null anywhere");
    }
}
