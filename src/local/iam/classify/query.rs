//! Query-protocol services (SNS, SQS's older protocol, EC2, STS, CloudWatch):
//! form parameters in the body or the query string, the operation in
//! `Action`.

use super::{json, pairs, param, Check, Classified, Request, Scope};

pub(super) fn classify(service: &str, request: &Request<'_>, scope: &Scope<'_>) -> Classified {
    let mut params = pairs(request.query);
    params.extend(pairs(&String::from_utf8_lossy(request.body)));
    let Some(operation) = param(&params, "Action").map(str::to_string) else {
        return Classified::not_checked(service, request.method, "no Action parameter");
    };
    let operation = operation.as_str();
    let get = |name: &str| param(&params, name);
    match service {
        "sns" => sns(
            operation,
            get("TopicArn").or(get("TargetArn")),
            get("Name"),
            scope,
        ),
        // The query protocol may also name the queue by the request's path.
        "sqs" => {
            let path_url = (request.path.len() > 1).then_some(request.path);
            json::sqs(
                operation,
                get("QueueUrl").or(path_url),
                get("QueueName"),
                scope,
            )
        }
        "ec2" => ec2(operation, &params, scope),
        "sts" => sts(operation, get("RoleArn")),
        "monitoring" => json::cloudwatch(operation),
        other => Classified::not_checked(other, operation, "a service `local` does not classify"),
    }
}

fn sns(operation: &str, topic: Option<&str>, name: Option<&str>, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "sns";
    let action = if operation == "PublishBatch" {
        "Publish"
    } else {
        operation
    };
    let resource = match (operation, topic, name) {
        ("ListTopics", ..) => "*".to_string(),
        ("CreateTopic", _, Some(name)) => scope.arn(SERVICE, name),
        // A text message to a phone number has no topic.
        ("Publish", None, _) => "*".to_string(),
        (_, Some(topic), _) => topic.to_string(),
        _ => return Classified::not_checked(SERVICE, operation, "no topic named in the request"),
    };
    Classified::checked(
        SERVICE,
        operation,
        vec![Check::new(format!("sns:{action}"), resource)],
    )
}

fn ec2(operation: &str, params: &[(String, String)], scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "ec2";
    // Describe calls have no resource-level permissions.
    if operation.starts_with("Describe") {
        return Classified::one(SERVICE, operation, "*".into());
    }
    let instances: Vec<Check> = params
        .iter()
        .filter(|(k, _)| k.starts_with("InstanceId."))
        .map(|(_, id)| {
            Check::new(
                format!("ec2:{operation}"),
                scope.arn(SERVICE, &format!("instance/{id}")),
            )
        })
        .collect();
    if instances.is_empty() {
        return Classified::not_checked(
            SERVICE,
            operation,
            "only Describe* and calls on instances are classified",
        );
    }
    Classified::checked(SERVICE, operation, instances)
}

fn sts(operation: &str, role: Option<&str>) -> Classified {
    const SERVICE: &str = "sts";
    match (operation, role) {
        ("GetCallerIdentity", _) => Classified::no_permission(SERVICE, operation),
        ("AssumeRole", Some(role)) => Classified::one(SERVICE, operation, role.to_string()),
        _ => Classified::not_checked(
            SERVICE,
            operation,
            "only GetCallerIdentity and AssumeRole are classified",
        ),
    }
}
