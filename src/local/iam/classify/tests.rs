use super::*;
use crate::local::iam::condition::{Condition, Test};
use http::HeaderMap;
use serde_json::json;

const SECRETS: [&str; 1] = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf"];

fn with_scope<T>(f: impl FnOnce(&Scope<'_>) -> T) -> T {
    let secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    f(&Scope {
        partition: "aws",
        region: "eu-west-1",
        account: "123456789012",
        secret_arns: &secrets,
    })
}

struct Req {
    method: &'static str,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
    service: Option<&'static str>,
}

fn req(method: &'static str, path_and_query: &str, service: &'static str) -> Req {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    Req {
        method,
        path: path.into(),
        query: query.into(),
        headers: HeaderMap::new(),
        body: Vec::new(),
        service: Some(service),
    }
}

fn json_call(target: &str, service: &'static str, body: serde_json::Value) -> Req {
    let mut r = req("POST", "/", service);
    r.headers.insert("x-amz-target", target.parse().unwrap());
    r.body = serde_json::to_vec(&body).unwrap();
    r
}

impl Req {
    fn header(mut self, name: &'static str, value: &str) -> Req {
        self.headers.insert(name, value.parse().unwrap());
        self
    }
    fn body(mut self, body: &str) -> Req {
        self.body = body.as_bytes().to_vec();
        self
    }
    fn classify(&self) -> Classified {
        let request = Request {
            method: self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
            signing_service: self.service,
        };
        with_scope(|scope| classify(&request, scope))
    }
    /// (action, resource) of each check, and the operation.
    fn checks(&self) -> (String, Vec<(String, String)>) {
        match self.classify() {
            Classified::Checked(call) => (
                call.operation,
                call.checks
                    .into_iter()
                    .map(|c| (c.action, c.resource))
                    .collect(),
            ),
            other => panic!("not checked: {other:?}"),
        }
    }
}

fn pairs_of(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .collect()
}

const TABLE: &str = "arn:aws:dynamodb:eu-west-1:123456789012:table/";

#[test]
fn dynamodb_single_item_calls_and_index_queries() {
    let (op, checks) = json_call(
        "DynamoDB_20120810.GetItem",
        "dynamodb",
        json!({"TableName": "guitars"}),
    )
    .checks();
    assert_eq!(op, "GetItem");
    assert_eq!(
        checks,
        pairs_of(&[("dynamodb:GetItem", &format!("{TABLE}guitars"))])
    );
    let (_, checks) = json_call(
        "DynamoDB_20120810.Query",
        "dynamodb",
        json!({"TableName": "guitars", "IndexName": "byUser"}),
    )
    .checks();
    assert_eq!(
        checks,
        pairs_of(&[("dynamodb:Query", &format!("{TABLE}guitars/index/byUser"))])
    );
    let arn = format!("{TABLE}by-arn");
    let (_, checks) = json_call(
        "DynamoDB_20120810.Scan",
        "dynamodb",
        json!({"TableName": arn}),
    )
    .checks();
    assert_eq!(checks, pairs_of(&[("dynamodb:Scan", &arn)]));
}

#[test]
fn dynamodb_batches_check_each_table_and_transactions_each_item_by_kind() {
    let body = json!({"RequestItems": {"a": [], "b": []}});
    let (_, checks) = json_call("DynamoDB_20120810.BatchWriteItem", "dynamodb", body).checks();
    assert_eq!(
        checks,
        pairs_of(&[
            ("dynamodb:BatchWriteItem", &format!("{TABLE}a")),
            ("dynamodb:BatchWriteItem", &format!("{TABLE}b"))
        ])
    );
    let body = json!({"TransactItems": [
        {"Put": {"TableName": "a"}}, {"Update": {"TableName": "b"}},
        {"Delete": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}, {"Put": {"TableName": "a"}}
    ]});
    let (_, checks) = json_call("DynamoDB_20120810.TransactWriteItems", "dynamodb", body).checks();
    assert_eq!(
        checks,
        pairs_of(&[
            ("dynamodb:PutItem", &format!("{TABLE}a")),
            ("dynamodb:UpdateItem", &format!("{TABLE}b")),
            ("dynamodb:DeleteItem", &format!("{TABLE}a")),
            ("dynamodb:ConditionCheckItem", &format!("{TABLE}b")),
        ])
    );
    let body = json!({"TransactItems": [{"Get": {"TableName": "a"}}]});
    let (_, checks) = json_call("DynamoDB_20120810.TransactGetItems", "dynamodb", body).checks();
    assert_eq!(
        checks,
        pairs_of(&[("dynamodb:GetItem", &format!("{TABLE}a"))])
    );
}

/// What `append`'s condition (`StringEqualsIfExists` on
/// `dynamodb:ReturnValues`) comes to for each check of a DynamoDB call.
fn append_condition(target: &str, body: serde_json::Value) -> Vec<(String, Test)> {
    let condition =
        Condition::parse_block(&json!({"StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}))
            .remove(0);
    match json_call(target, "dynamodb", body).classify() {
        Classified::Checked(call) => call
            .checks
            .iter()
            .map(|c| (c.action.clone(), condition.test(&c.context)))
            .collect(),
        other => panic!("not checked: {other:?}"),
    }
}

#[test]
fn dynamodb_writes_tell_their_return_values_and_other_calls_its_absence() {
    let put = |body| append_condition("DynamoDB_20120810.PutItem", body);
    let met = vec![("dynamodb:PutItem".to_string(), Test::Met)];
    assert_eq!(put(json!({"TableName": "log"})), met, "absent");
    assert_eq!(
        put(json!({"TableName": "log", "ReturnValues": "NONE"})),
        met
    );
    assert_eq!(
        put(json!({"TableName": "log", "ReturnValues": "ALL_OLD"})),
        vec![("dynamodb:PutItem".to_string(), Test::NotMet)]
    );
    let json_put = json_call(
        "DynamoDB_20120810.PutItem",
        "dynamodb",
        json!({"TableName": "log", "ReturnValues": "ALL_OLD"}),
    );
    let Classified::Checked(call) = json_put.classify() else {
        panic!("checked")
    };
    assert_eq!(
        call.checks[0].context.value("dynamodb:ReturnValues"),
        Some("ALL_OLD")
    );
    assert_eq!(
        append_condition(
            "DynamoDB_20120810.UpdateItem",
            json!({"TableName": "log", "ReturnValues": "UPDATED_NEW"})
        ),
        vec![("dynamodb:UpdateItem".to_string(), Test::NotMet)]
    );
    // A transaction's puts and a read have no ReturnValues: known absent,
    // never "not known locally".
    let body = json!({"TransactItems": [{"Put": {"TableName": "log"}}], "ReturnValues": "ALL_OLD"});
    assert_eq!(
        append_condition("DynamoDB_20120810.TransactWriteItems", body),
        met
    );
    assert_eq!(
        append_condition("DynamoDB_20120810.GetItem", json!({"TableName": "log"})),
        vec![("dynamodb:GetItem".to_string(), Test::Met)]
    );
}

#[test]
fn partiql_is_not_checked_and_says_why() {
    let r = json_call(
        "DynamoDB_20120810.ExecuteStatement",
        "dynamodb",
        json!({"Statement": "SELECT * FROM t"}),
    );
    assert!(matches!(r.classify(), Classified::NotChecked { why, .. } if why.contains("PartiQL")));
}

#[test]
fn s3_object_calls_map_to_the_actions_iam_checks() {
    let obj = "arn:aws:s3:::b/images/a b.jpg";
    for (method, path, op, action) in [
        (
            "GET",
            "/b/images/a%20b.jpg?x-id=GetObject",
            "GetObject",
            "s3:GetObject",
        ),
        ("HEAD", "/b/images/a%20b.jpg", "HeadObject", "s3:GetObject"),
        (
            "PUT",
            "/b/images/a%20b.jpg?x-id=PutObject",
            "PutObject",
            "s3:PutObject",
        ),
        (
            "DELETE",
            "/b/images/a%20b.jpg",
            "DeleteObject",
            "s3:DeleteObject",
        ),
        (
            "DELETE",
            "/b/images/a%20b.jpg?versionId=3",
            "DeleteObject",
            "s3:DeleteObjectVersion",
        ),
        (
            "POST",
            "/b/images/a%20b.jpg?uploads",
            "CreateMultipartUpload",
            "s3:PutObject",
        ),
        (
            "PUT",
            "/b/images/a%20b.jpg?partNumber=1&uploadId=u",
            "UploadPart",
            "s3:PutObject",
        ),
        (
            "POST",
            "/b/images/a%20b.jpg?uploadId=u",
            "CompleteMultipartUpload",
            "s3:PutObject",
        ),
        (
            "DELETE",
            "/b/images/a%20b.jpg?uploadId=u",
            "AbortMultipartUpload",
            "s3:AbortMultipartUpload",
        ),
    ] {
        let (o, checks) = req(method, path, "s3").checks();
        assert_eq!(
            (o.as_str(), checks),
            (op, pairs_of(&[(action, obj)])),
            "{method} {path}"
        );
    }
}

#[test]
fn s3_copy_needs_put_on_the_target_and_get_on_the_source() {
    let r = req("PUT", "/b/new.jpg", "s3").header("x-amz-copy-source", "src/old%20one.jpg");
    let (op, checks) = r.checks();
    assert_eq!(op, "CopyObject");
    assert_eq!(
        checks,
        pairs_of(&[
            ("s3:PutObject", "arn:aws:s3:::b/new.jpg"),
            ("s3:GetObject", "arn:aws:s3:::src/old one.jpg")
        ])
    );
    let r = req("PUT", "/b/new.jpg?partNumber=2&uploadId=u", "s3")
        .header("x-amz-copy-source", "/src/v.jpg?versionId=7");
    let (op, checks) = r.checks();
    assert_eq!(op, "UploadPartCopy");
    assert_eq!(
        checks[1],
        (
            "s3:GetObjectVersion".to_string(),
            "arn:aws:s3:::src/v.jpg".to_string()
        )
    );
}

#[test]
fn s3_listing_checks_list_bucket_on_the_bucket_with_the_prefix_as_context() {
    let r = req(
        "GET",
        "/b?list-type=2&prefix=incoming%2Fa&max-keys=10",
        "s3",
    );
    let Classified::Checked(call) = r.classify() else {
        panic!()
    };
    assert_eq!(call.operation, "ListObjectsV2");
    let check = &call.checks[0];
    assert_eq!(
        (check.action.as_str(), check.resource.as_str()),
        ("s3:ListBucket", "arn:aws:s3:::b")
    );
    assert_eq!(check.context.value("s3:prefix"), Some("incoming/a"));
    assert_eq!(check.context.value("s3:max-keys"), Some("10"));
    // No prefix: known to be absent, not unknown.
    let Classified::Checked(call) = req("GET", "/b/?list-type=2", "s3").classify() else {
        panic!()
    };
    assert_eq!(
        call.checks[0].context,
        Context::new()
            .with("s3:prefix", None)
            .with("s3:delimiter", None)
            .with("s3:max-keys", None)
    );
}

#[test]
fn s3_delete_objects_needs_delete_on_every_key() {
    let body = "<Delete><Object><Key>a&amp;b.jpg</Key></Object><Object><Key>c.jpg</Key><VersionId>1</VersionId></Object><Quiet>true</Quiet></Delete>";
    let (op, checks) = req("POST", "/b?delete", "s3").body(body).checks();
    assert_eq!(op, "DeleteObjects");
    assert_eq!(
        checks,
        pairs_of(&[
            ("s3:DeleteObject", "arn:aws:s3:::b/a&b.jpg"),
            ("s3:DeleteObjectVersion", "arn:aws:s3:::b/c.jpg")
        ])
    );
}

#[test]
fn s3_bucket_configuration_is_not_checked() {
    assert!(matches!(
        req("PUT", "/b?policy", "s3").classify(),
        Classified::NotChecked { .. }
    ));
    assert!(matches!(
        req("GET", "/b?cors", "s3").classify(),
        Classified::NotChecked { .. }
    ));
}

#[test]
fn cognito_admin_calls_name_the_pool_and_public_ones_need_no_permission() {
    let (op, checks) = json_call(
        "AWSCognitoIdentityProviderService.AdminUpdateUserAttributes",
        "cognito-idp",
        json!({"UserPoolId": "eu-west-1_Pool", "Username": "u"}),
    )
    .checks();
    assert_eq!(op, "AdminUpdateUserAttributes");
    assert_eq!(
        checks,
        pairs_of(&[(
            "cognito-idp:AdminUpdateUserAttributes",
            "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Pool"
        )])
    );
    let mut unsigned = json_call(
        "AWSCognitoIdentityProviderService.InitiateAuth",
        "cognito-idp",
        json!({}),
    );
    unsigned.service = None;
    assert_eq!(
        unsigned.classify(),
        Classified::NoPermission {
            service: "cognito-idp".into(),
            operation: "InitiateAuth".into()
        }
    );
}

#[test]
fn a_secret_named_by_name_or_partial_arn_is_checked_on_its_full_arn() {
    for id in [
        "app/db",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db",
        SECRETS[0],
    ] {
        let (_, checks) = json_call(
            "secretsmanager.GetSecretValue",
            "secretsmanager",
            json!({"SecretId": id}),
        )
        .checks();
        assert_eq!(
            checks,
            pairs_of(&[("secretsmanager:GetSecretValue", SECRETS[0])]),
            "{id}"
        );
    }
    let (_, checks) = json_call(
        "secretsmanager.GetSecretValue",
        "secretsmanager",
        json!({"SecretId": "other"}),
    )
    .checks();
    assert_eq!(
        checks[0].1,
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:other"
    );
}

#[test]
fn sns_publish_in_the_query_protocol() {
    let topic = "arn:aws:sns:eu-west-1:123456789012:alerts";
    let body = format!(
        "Action=Publish&Version=2010-03-31&TopicArn={}&Message=hi+there",
        topic.replace(':', "%3A")
    );
    let r = req("POST", "/", "sns")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(&body);
    assert_eq!(
        r.checks(),
        ("Publish".to_string(), pairs_of(&[("sns:Publish", topic)]))
    );
}

#[test]
fn sqs_in_both_protocols_names_the_queue_from_its_url() {
    let queue = "arn:aws:sqs:eu-west-1:123456789012:jobs";
    let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";
    let (_, checks) = json_call(
        "AmazonSQS.SendMessageBatch",
        "sqs",
        json!({"QueueUrl": url}),
    )
    .checks();
    assert_eq!(checks, pairs_of(&[("sqs:SendMessage", queue)]));
    let body = format!(
        "Action=DeleteMessage&QueueUrl={}",
        url.replace(':', "%3A").replace('/', "%2F")
    );
    assert_eq!(
        req("POST", "/", "sqs").body(&body).checks().1,
        pairs_of(&[("sqs:DeleteMessage", queue)])
    );
}

#[test]
fn lambda_invoke_by_name_arn_and_qualifier() {
    let arn = "arn:aws:lambda:eu-west-1:123456789012:function:app-dev-worker";
    for path in [
        "/2015-03-31/functions/app-dev-worker/invocations",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aapp-dev-worker/invocations",
    ] {
        assert_eq!(req("POST", path, "lambda").checks(), ("Invoke".to_string(), pairs_of(&[("lambda:InvokeFunction", arn)])));
    }
    let (_, checks) = req(
        "POST",
        "/2015-03-31/functions/app-dev-worker/invocations?Qualifier=live",
        "lambda",
    )
    .checks();
    assert_eq!(checks[0].1, format!("{arn}:live"));
}

#[test]
fn scheduler_create_needs_pass_role_to_the_scheduler_service() {
    let body = json!({"GroupName": "app-dev-bids", "Target": {"Arn": "arn:aws:lambda:…", "RoleArn": "arn:aws:iam::123456789012:role/r"}});
    let r = req("POST", "/schedules/bid-1", "scheduler").body(&body.to_string());
    let Classified::Checked(call) = r.classify() else {
        panic!()
    };
    assert_eq!(call.operation, "CreateSchedule");
    assert_eq!(
        call.checks[0].resource,
        "arn:aws:scheduler:eu-west-1:123456789012:schedule/app-dev-bids/bid-1"
    );
    assert_eq!(call.checks[1].action, "iam:PassRole");
    assert_eq!(
        call.checks[1].context.value("iam:PassedToService"),
        Some("scheduler.amazonaws.com")
    );
    let (op, checks) = req("DELETE", "/schedules/bid-1?groupName=g", "scheduler").checks();
    assert_eq!(
        (op.as_str(), checks[0].1.as_str()),
        (
            "DeleteSchedule",
            "arn:aws:scheduler:eu-west-1:123456789012:schedule/g/bid-1"
        )
    );
}

#[test]
fn ec2_describe_is_star_and_instance_calls_name_each_instance() {
    assert_eq!(
        req("POST", "/", "ec2")
            .body("Action=DescribeInstances&Version=2016-11-15")
            .checks()
            .1,
        pairs_of(&[("ec2:DescribeInstances", "*")])
    );
    let (_, checks) = req("POST", "/", "ec2")
        .body("Action=RebootInstances&InstanceId.1=i-1&InstanceId.2=i-2")
        .checks();
    assert_eq!(
        checks,
        pairs_of(&[
            (
                "ec2:RebootInstances",
                "arn:aws:ec2:eu-west-1:123456789012:instance/i-1"
            ),
            (
                "ec2:RebootInstances",
                "arn:aws:ec2:eu-west-1:123456789012:instance/i-2"
            ),
        ])
    );
}

#[test]
fn sts_kms_logs_and_cloudwatch() {
    assert!(matches!(
        req("POST", "/", "sts")
            .body("Action=GetCallerIdentity")
            .classify(),
        Classified::NoPermission { .. }
    ));
    let (_, checks) = json_call(
        "TrentService.GenerateDataKey",
        "kms",
        json!({"KeyId": "k-1"}),
    )
    .checks();
    assert_eq!(
        checks,
        pairs_of(&[(
            "kms:GenerateDataKey",
            "arn:aws:kms:eu-west-1:123456789012:key/k-1"
        )])
    );
    assert!(matches!(
        json_call("TrentService.Decrypt", "kms", json!({})).classify(),
        Classified::NotChecked { .. }
    ));
    let body = json!({"logGroupName": "/aws/lambda/f", "logStreamName": "s"});
    let (_, checks) = json_call("Logs_20140328.PutLogEvents", "logs", body).checks();
    assert_eq!(
        checks[0].1,
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:log-stream:s"
    );
    let r = req(
        "POST",
        "/service/GraniteServiceVersion20100801/operation/GetMetricData",
        "monitoring",
    );
    assert_eq!(r.checks().1, pairs_of(&[("cloudwatch:GetMetricData", "*")]));
    assert_eq!(
        req("POST", "/", "monitoring")
            .body("Action=ListMetrics")
            .checks()
            .1,
        pairs_of(&[("cloudwatch:ListMetrics", "*")])
    );
}

/// What `stack_key`'s condition (`StringEquals` on
/// `kms:EncryptionContext:purpose`) comes to for each check of a KMS call.
fn purpose_condition(operation: &str, body: serde_json::Value) -> Vec<(String, Test)> {
    let condition = Condition::parse_block(
        &json!({"StringEquals": {"kms:EncryptionContext:purpose": "ebay-refresh-token"}}),
    )
    .remove(0);
    match json_call(&format!("TrentService.{operation}"), "kms", body).classify() {
        Classified::Checked(call) => call
            .checks
            .iter()
            .map(|c| (c.action.clone(), condition.test(&c.context)))
            .collect(),
        other => panic!("not checked: {other:?}"),
    }
}

#[test]
fn kms_calls_tell_their_encryption_context_and_its_absence() {
    let key = "arn:aws:kms:eu-west-1:123456789012:key/k-1";
    let body = |context: serde_json::Value| json!({"KeyId": key, "EncryptionContext": context});
    let met = |action: &str| vec![(action.to_string(), Test::Met)];
    let not_met = |action: &str| vec![(action.to_string(), Test::NotMet)];
    let sent = json!({"purpose": "ebay-refresh-token", "userId": "u-1"});
    assert_eq!(
        purpose_condition("Encrypt", body(sent.clone())),
        met("kms:Encrypt")
    );
    assert_eq!(
        purpose_condition("Decrypt", body(sent.clone())),
        met("kms:Decrypt")
    );
    assert_eq!(
        purpose_condition("GenerateDataKey", body(sent)),
        met("kms:GenerateDataKey")
    );
    assert_eq!(
        purpose_condition("Encrypt", body(json!({"purpose": "session"}))),
        not_met("kms:Encrypt")
    );
    // No context, or one without the pair: the key is absent, never "not
    // known locally", so the grant does not apply, as in AWS.
    assert_eq!(
        purpose_condition("Encrypt", json!({"KeyId": key})),
        not_met("kms:Encrypt")
    );
    assert_eq!(
        purpose_condition("Decrypt", body(json!({"userId": "u-1"}))),
        not_met("kms:Decrypt")
    );
    assert_eq!(
        purpose_condition("DescribeKey", json!({"KeyId": key})),
        not_met("kms:DescribeKey")
    );
    let Classified::Checked(call) = json_call(
        "TrentService.Encrypt",
        "kms",
        body(json!({"Purpose": "a", "userId": "u-1"})),
    )
    .classify() else {
        panic!("checked")
    };
    assert_eq!(call.checks[0].resource, key, "on the key the call names");
    assert_eq!(
        call.checks[0].context.value("kms:EncryptionContext:userid"),
        Some("u-1"),
        "condition key names compare without case"
    );
    // ReEncrypt carries two contexts and CreateGrant a constraint: not told.
    let re = purpose_condition(
        "ReEncrypt",
        json!({"DestinationKeyId": key, "KeyId": key, "SourceEncryptionContext": {"purpose": "ebay-refresh-token"}}),
    );
    assert!(matches!(re[0].1, Test::Unknown(_)), "{re:?}");
    // The key is named inside the ciphertext when Decrypt names none.
    assert!(matches!(
        json_call(
            "TrentService.Decrypt",
            "kms",
            json!({"EncryptionContext": {"purpose": "ebay-refresh-token"}})
        )
        .classify(),
        Classified::NotChecked { .. }
    ));
}

#[test]
fn an_unknown_service_or_unsigned_request_is_not_checked() {
    assert!(matches!(
        json_call("AWSEvents.PutEvents", "events", json!({})).classify(),
        Classified::NotChecked { .. }
    ));
    assert!(matches!(
        req("POST", "/", "iam").body("Action=ListRoles").classify(),
        Classified::NotChecked { .. }
    ));
    let mut r = req("GET", "/", "s3");
    r.service = None;
    assert!(matches!(r.classify(), Classified::NotChecked { .. }));
}
