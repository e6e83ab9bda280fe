//! REST-JSON services: Lambda's invocations and EventBridge Scheduler's
//! schedules, named by method and path.

use super::{decode, field, json_body, pairs, param, Check, Classified, Request, Scope};

pub(super) fn lambda(request: &Request<'_>, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "lambda";
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let (operation, action, name) = match (request.method, segments.as_slice()) {
        ("POST", ["2015-03-31", "functions", name, "invocations"]) => {
            ("Invoke", "InvokeFunction", *name)
        }
        ("POST", ["2014-11-13", "functions", name, "invoke-async"]) => {
            ("InvokeAsync", "InvokeFunction", *name)
        }
        ("GET", ["2015-03-31", "functions", name]) => ("GetFunction", "GetFunction", *name),
        ("GET", ["2015-03-31", "functions", name, "configuration"]) => (
            "GetFunctionConfiguration",
            "GetFunctionConfiguration",
            *name,
        ),
        _ => {
            return Classified::not_checked(
                SERVICE,
                request.path,
                "a Lambda call `local` does not classify",
            )
        }
    };
    let params = pairs(request.query);
    let arn = function_arn(&decode(name), param(&params, "Qualifier"), scope);
    Classified::checked(
        SERVICE,
        operation,
        vec![Check::new(format!("lambda:{action}"), arn)],
    )
}

/// A function named by name, `name:qualifier`, partial ARN
/// (`123456789012:function:name`) or ARN. A qualified call is checked on the
/// qualified ARN, as IAM does (`function:name` does not cover it).
fn function_arn(name: &str, qualifier: Option<&str>, scope: &Scope<'_>) -> String {
    let base = if name.starts_with("arn:") {
        name.to_string()
    } else if name.contains(":function:") {
        format!("arn:{}:lambda:{}:{name}", scope.partition, scope.region)
    } else {
        scope.arn("lambda", &format!("function:{name}"))
    };
    match qualifier {
        Some(q) if !base.ends_with(&format!(":{q}")) => format!("{base}:{q}"),
        _ => base,
    }
}

pub(super) fn scheduler(request: &Request<'_>, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "scheduler";
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let body = json_body(request.body);
    let params = pairs(request.query);
    let group = field(&body, "GroupName")
        .or(param(&params, "groupName"))
        .unwrap_or("default");
    let verb = match request.method {
        "POST" => "Create",
        "PUT" => "Update",
        "GET" => "Get",
        "DELETE" => "Delete",
        _ => "",
    };
    let (operation, resource) = match segments.as_slice() {
        ["schedules"] if verb == "Get" => ("ListSchedules".to_string(), "*".to_string()),
        ["schedules", name] if !verb.is_empty() => (
            format!("{verb}Schedule"),
            scope.arn(SERVICE, &format!("schedule/{group}/{}", decode(name))),
        ),
        ["schedule-groups", name] if verb != "Update" && !verb.is_empty() => (
            format!("{verb}ScheduleGroup"),
            scope.arn(SERVICE, &format!("schedule-group/{}", decode(name))),
        ),
        _ => {
            return Classified::not_checked(
                SERVICE,
                request.path,
                "a Scheduler call `local` does not classify",
            )
        }
    };
    let mut checks = vec![Check::new(format!("scheduler:{operation}"), resource)];
    // A schedule is handed a role to run as: that needs iam:PassRole on it.
    if let Some(role) = body.pointer("/Target/RoleArn").and_then(|r| r.as_str()) {
        checks.push(
            Check::new("iam:PassRole", role)
                .with("iam:PassedToService", Some("scheduler.amazonaws.com")),
        );
    }
    Classified::checked(SERVICE, &operation, checks)
}
