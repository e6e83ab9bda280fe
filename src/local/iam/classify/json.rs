//! JSON-protocol services other than DynamoDB: the operation is the part of
//! `X-Amz-Target` after the dot (or of an RPC v2 path), the resource comes
//! from the body.

use super::{field, Check, Classified, Scope};
use crate::local::iam::terms::secret_name;
use crate::plan::iam::ENCRYPTION_CONTEXT_PREFIX;
use serde_json::Value;

pub(super) fn classify(
    prefix: &str,
    operation: &str,
    body: &Value,
    scope: &Scope<'_>,
) -> Classified {
    match prefix {
        "AWSCognitoIdentityProviderService" => cognito(operation, body, scope),
        "secretsmanager" => secrets(operation, body, scope),
        "TrentService" => kms(operation, body, scope),
        "Logs_20140328" => logs(operation, body, scope),
        "AmazonSQS" => sqs(
            operation,
            field(body, "QueueUrl"),
            field(body, "QueueName"),
            scope,
        ),
        "GraniteServiceVersion20100801" => cloudwatch(operation),
        other => Classified::not_checked(other, operation, "a service `local` does not classify"),
    }
}

/// Cognito operations authorized by the user's own token or password,
/// not by IAM: callers may send them unsigned.
const COGNITO_PUBLIC: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

fn cognito(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "cognito-idp";
    if COGNITO_PUBLIC.contains(&operation) {
        return Classified::no_permission(SERVICE, operation);
    }
    match (operation, field(body, "UserPoolId")) {
        ("ListUserPools", _) => Classified::one(SERVICE, operation, "*".into()),
        (_, Some(pool)) => Classified::one(
            SERVICE,
            operation,
            scope.arn(SERVICE, &format!("userpool/{pool}")),
        ),
        (_, None) => {
            Classified::not_checked(SERVICE, operation, "no user pool named in the request")
        }
    }
}

fn secrets(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "secretsmanager";
    match operation {
        "ListSecrets" | "GetRandomPassword" => Classified::one(SERVICE, operation, "*".into()),
        // Each secret needs GetSecretValue besides the batch permission.
        "BatchGetSecretValue" => {
            let mut checks = vec![Check::new("secretsmanager:BatchGetSecretValue", "*")];
            let ids = body["SecretIdList"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            checks.extend(
                ids.map(|id| Check::new("secretsmanager:GetSecretValue", secret_arn(id, scope))),
            );
            Classified::checked(SERVICE, operation, checks)
        }
        _ => match field(body, "SecretId") {
            Some(id) => Classified::one(SERVICE, operation, secret_arn(id, scope)),
            None => Classified::not_checked(SERVICE, operation, "no secret named in the request"),
        },
    }
}

/// The full ARN of a secret named by name, partial ARN or ARN: the stack's
/// secret it names, else the ARN as well as it can be built.
fn secret_arn(id: &str, scope: &Scope<'_>) -> String {
    let known = scope.secret_arns.iter().find(|arn| {
        arn.as_str() == id
            || arn
                .strip_prefix(id)
                .is_some_and(|suffix| suffix.len() == 7 && suffix.starts_with('-'))
            || secret_name(arn) == Some(id)
    });
    match known {
        Some(arn) => arn.clone(),
        None if id.starts_with("arn:") => id.to_string(),
        None => scope.arn("secretsmanager", &format!("secret:{id}")),
    }
}

fn kms(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    let classified = kms_resource(operation, body, scope);
    match (classified, encryption_context(operation, body)) {
        (Classified::Checked(mut call), Some(pairs)) => {
            for check in &mut call.checks {
                check.context = std::mem::take(&mut check.context).with_family(
                    ENCRYPTION_CONTEXT_PREFIX,
                    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                );
            }
            Classified::Checked(call)
        }
        (classified, _) => classified,
    }
}

/// The request's encryption context as `kms:EncryptionContext:K` keys tell
/// it: the pairs of its `EncryptionContext`, every other key absent. "Use
/// this condition key to evaluate both the key and the value in the
/// encryption context pair"; it applies to "CreateGrant Encrypt Decrypt
/// GenerateDataKey GenerateDataKeyPair GenerateDataKeyPairWithoutPlaintext
/// GenerateDataKeyWithoutPlaintext ReEncrypt" (AWS KMS Developer Guide,
/// "AWS KMS condition keys", kms:EncryptionContext:context-key). Any other
/// call carries no encryption context, so each such key is absent. `None`
/// (not told) for ReEncrypt, which carries a source and a destination
/// context, and CreateGrant, whose context is a constraint: which of those
/// the key reads is not evaluated here.
fn encryption_context(operation: &str, body: &Value) -> Option<Vec<(String, String)>> {
    if operation.starts_with("ReEncrypt") || operation == "CreateGrant" {
        return None;
    }
    let pairs = body
        .get("EncryptionContext")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            (k.clone(), value)
        })
        .collect();
    Some(pairs)
}

/// The key a KMS call is authorized on.
fn kms_resource(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "kms";
    match (operation, field(body, "KeyId")) {
        ("GenerateRandom" | "ListKeys" | "ListAliases" | "CreateKey", _) => {
            Classified::one(SERVICE, operation, "*".into())
        }
        (_, Some(alias)) if alias.starts_with("alias/") || alias.contains(":alias/") => {
            Classified::not_checked(
                SERVICE,
                operation,
                format!("{alias} names a key only AWS can look up"),
            )
        }
        (_, Some(key)) if key.starts_with("arn:") => {
            Classified::one(SERVICE, operation, key.to_string())
        }
        (_, Some(key)) => Classified::one(
            SERVICE,
            operation,
            scope.arn(SERVICE, &format!("key/{key}")),
        ),
        ("Decrypt", None) => {
            Classified::not_checked(SERVICE, operation, "the key is named inside the ciphertext")
        }
        (_, None) => Classified::not_checked(SERVICE, operation, "no key named in the request"),
    }
}

fn logs(operation: &str, body: &Value, scope: &Scope<'_>) -> Classified {
    const SERVICE: &str = "logs";
    let group = field(body, "logGroupName");
    let resource = match (group, field(body, "logStreamName")) {
        (Some(g), Some(s)) => format!("log-group:{g}:log-stream:{s}"),
        (Some(g), None) => format!("log-group:{g}"),
        (None, _) if operation == "DescribeLogGroups" => "log-group:*".to_string(),
        (None, _) => {
            return Classified::not_checked(SERVICE, operation, "no log group named in the request")
        }
    };
    Classified::one(SERVICE, operation, scope.arn(SERVICE, &resource))
}

/// SQS in either protocol (the query one passes its parameters here).
pub(super) fn sqs(
    operation: &str,
    queue_url: Option<&str>,
    queue_name: Option<&str>,
    scope: &Scope<'_>,
) -> Classified {
    const SERVICE: &str = "sqs";
    // The batch operations are authorized as their single forms.
    let action = operation
        .strip_suffix("Batch")
        .filter(|single| {
            ["SendMessage", "DeleteMessage", "ChangeMessageVisibility"].contains(single)
        })
        .unwrap_or(operation);
    let queue = queue_url
        .and_then(queue_of_url)
        .or(queue_name.map(|n| (scope.account, n)));
    match (operation, queue) {
        ("ListQueues", _) => Classified::one(SERVICE, operation, "*".into()),
        (_, Some((account, name))) => {
            let arn = format!(
                "arn:{}:sqs:{}:{account}:{name}",
                scope.partition, scope.region
            );
            Classified::checked(
                SERVICE,
                operation,
                vec![Check::new(format!("sqs:{action}"), arn)],
            )
        }
        (_, None) => Classified::not_checked(SERVICE, operation, "no queue named in the request"),
    }
}

/// `https://sqs.eu-west-1.amazonaws.com/123456789012/orders` → (account, name).
fn queue_of_url(url: &str) -> Option<(&str, &str)> {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next()?;
    let account = parts.next()?;
    Some((account, name))
}

/// CloudWatch: metric reads and writes have no resource-level permissions.
pub(super) fn cloudwatch(operation: &str) -> Classified {
    const SERVICE: &str = "cloudwatch";
    match operation {
        "GetMetricData"
        | "GetMetricStatistics"
        | "ListMetrics"
        | "GetMetricWidgetImage"
        | "PutMetricData" => Classified::one(SERVICE, operation, "*".into()),
        _ => Classified::not_checked(
            SERVICE,
            operation,
            "alarm and dashboard calls are not classified",
        ),
    }
}
