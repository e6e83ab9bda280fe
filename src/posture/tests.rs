use super::judge::{
    judge, BucketFacts, KeyFacts, Observed, RoleFacts, SubscriptionFacts, TableFacts,
};
use super::*;
use crate::local::template::Deployed;
use serde_json::json;

fn template() -> Value {
    json!({"Resources": {
        "StackKey": {"Type": "AWS::KMS::Key", "Properties": {
            "EnableKeyRotation": true,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*", "Resource": "*"}]}}},
        "Users": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
            "SSESpecification": {"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]}}}},
        "UsersRole": {"Type": "AWS::IAM::Role", "Properties": {
            "Policies": [{"PolicyName": "ReadUsers", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["Users", "Arn"]}}]}}],
            "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}]}},
        "Acl": {"Type": "AWS::WAFv2::WebACL", "Properties": {}},
        "AclProtectsApi": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {
            "ResourceArn": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/prod"},
            "WebACLArn": {"Fn::GetAtt": ["Acl", "Arn"]}}},
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
        "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "AlertsMail": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "Alerts"}, "Protocol": "email", "Endpoint": "ops@example.com"}},
        "Errors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Threshold": 0.0,
            "ComparisonOperator": "GreaterThanThreshold", "Period": 60, "EvaluationPeriods": 1,
            "Dimensions": [{"Name": "FunctionName", "Value": "users-fn"}],
            "AlarmActions": [{"Ref": "Alerts"}], "OKActions": [{"Ref": "Alerts"}]}},
        "Site": {"Type": "AWS::S3::Bucket", "Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["StackKey", "Arn"]}}}]}}}
    }})
}

fn deployed() -> Deployed {
    let ids = [
        ("StackKey", "key-1"),
        ("Users", "shop-prod-users"),
        ("UsersRole", "shop-prod-UsersRole-X"),
        ("Acl", "acl|id-1|REGIONAL"),
        ("AclProtectsApi", "arn:api|arn:acl"),
        ("Api", "api1"),
        ("Alerts", "arn:aws:sns:us-east-1:123456789012:alerts"),
        (
            "AlertsMail",
            "arn:aws:sns:us-east-1:123456789012:alerts:sub-1",
        ),
        ("Errors", "shop-prod-errors"),
        ("Site", "shop-prod-site"),
    ];
    Deployed {
        stack_name: "shop-prod".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        physical_ids: ids
            .iter()
            .map(|(l, p)| (l.to_string(), p.to_string()))
            .collect(),
        overrides: [
            (
                "StackKey.Arn",
                "arn:aws:kms:us-east-1:123456789012:key/key-1",
            ),
            (
                "Users.Arn",
                "arn:aws:dynamodb:us-east-1:123456789012:table/shop-prod-users",
            ),
            (
                "Acl.Arn",
                "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acl/id-1",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Deployed::default()
    }
}

fn expected_of(logical_id: &str) -> Expectation {
    let template = template();
    let deployed = deployed();
    let resolver = Resolver::new(&template, &deployed);
    expectations(&template, &resolver)
        .into_iter()
        .find(|e| e.logical_id == logical_id)
        .expect("expected")
}

const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/key-1";
const ACL_ARN: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acl/id-1";

#[test]
fn every_posture_resource_of_the_template_gets_an_expectation_with_values_resolved() {
    let template = template();
    let deployed = deployed();
    let found = expectations(&template, &Resolver::new(&template, &deployed));
    let ids: Vec<&str> = found.iter().map(|e| e.logical_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "AclProtectsApi",
            "StackKey",
            "UsersRole",
            "Errors",
            "AlertsMail",
            "Users",
            "Site"
        ]
    );
    assert!(found.iter().all(|e| e.unresolved.is_empty()), "{found:?}");
    assert_eq!(
        expected_of("AclProtectsApi").expected,
        Expected::WebAclAttached {
            resource_arn: "arn:aws:apigateway:us-east-1::/restapis/api1/stages/prod".into(),
            web_acl_arn: ACL_ARN.into(),
        }
    );
    let Expected::Role {
        role_name,
        inline,
        managed,
    } = expected_of("UsersRole").expected
    else {
        panic!("a role")
    };
    assert_eq!(role_name, "shop-prod-UsersRole-X");
    assert_eq!(
        inline["ReadUsers"]["Statement"][0]["Resource"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/shop-prod-users"
    );
    assert_eq!(
        managed.into_iter().collect::<Vec<_>>(),
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
    assert_eq!(
        expected_of("Users").expected,
        Expected::Table {
            name: "shop-prod-users".into(),
            point_in_time_recovery: true,
            kms_key_arn: Some(KEY_ARN.into())
        }
    );
}

#[test]
fn a_value_the_deployment_cannot_tell_fails_the_check_and_says_which() {
    let template = template();
    let mut deployed = deployed();
    deployed.physical_ids.remove("Api");
    let found = expectations(&template, &Resolver::new(&template, &deployed));
    let association = found
        .iter()
        .find(|e| e.logical_id == "AclProtectsApi")
        .unwrap();
    let checks = judge(association, &Observed::WebAcl(None));
    assert!(!checks[0].passed);
    assert!(checks[0].found.contains("Api"), "{}", checks[0].found);
}

#[test]
fn a_disassociated_web_acl_fails_and_the_right_one_passes() {
    let e = expected_of("AclProtectsApi");
    let gone = judge(&e, &Observed::WebAcl(None));
    assert_eq!(
        (gone[0].passed, gone[0].found.as_str()),
        (false, "no web ACL protects it")
    );
    let other = judge(&e, &Observed::WebAcl(Some("arn:other".into())));
    assert!(!other[0].passed);
    assert!(judge(&e, &Observed::WebAcl(Some(ACL_ARN.into())))[0].passed);
}

fn key_facts(rotation: bool, state: &str) -> KeyFacts {
    KeyFacts {
        state: state.into(),
        rotation,
        policy: json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::123456789012:root"]}, "Action": ["kms:*"], "Resource": "*"}}),
    }
}

#[test]
fn a_key_must_be_enabled_rotate_and_keep_its_policy() {
    let e = expected_of("StackKey");
    let fine = judge(&e, &Observed::Key(Some(key_facts(true, "Enabled"))));
    assert!(fine.iter().all(|c| c.passed), "{fine:?}");
    let bad = judge(&e, &Observed::Key(Some(key_facts(false, "Disabled"))));
    let failed: Vec<&str> = bad
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.check.as_str())
        .collect();
    assert_eq!(failed, ["key enabled", "key rotation"]);
    let mut widened = key_facts(true, "Enabled");
    widened.policy["Statement"] = json!([widened.policy["Statement"].clone(),
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:Decrypt", "Resource": "*"}]);
    let policy = judge(&e, &Observed::Key(Some(widened)));
    assert!(
        !policy[2].passed && policy[2].found.starts_with("+1 statement"),
        "{policy:?}"
    );
    assert!(!judge(&e, &Observed::Key(None))[0].passed);
}

#[test]
fn a_role_with_a_policy_attached_by_hand_or_an_inline_one_changed_fails() {
    let e = expected_of("UsersRole");
    let Expected::Role {
        inline, managed, ..
    } = e.expected.clone()
    else {
        panic!()
    };
    let same = RoleFacts {
        inline: inline.clone(),
        managed: managed.clone(),
    };
    assert!(judge(&e, &Observed::Role(Some(same.clone())))
        .iter()
        .all(|c| c.passed));
    let mut attached = same.clone();
    attached
        .managed
        .insert("arn:aws:iam::aws:policy/AdministratorAccess".into());
    let checks = judge(&e, &Observed::Role(Some(attached)));
    let failed = checks.iter().find(|c| !c.passed).unwrap();
    assert_eq!(failed.check, "attached policies");
    assert_eq!(
        failed.found,
        "attached outside the stack: arn:aws:iam::aws:policy/AdministratorAccess"
    );
    let mut extra_inline = same.clone();
    extra_inline
        .inline
        .insert("Backdoor".into(), json!({"Statement": []}));
    let checks = judge(&e, &Observed::Role(Some(extra_inline)));
    let failed = checks.iter().find(|c| !c.passed).unwrap();
    assert_eq!(
        (failed.check.as_str(), failed.found.as_str()),
        (
            "inline policy Backdoor",
            "an inline policy added outside the stack"
        )
    );
    let mut widened = same;
    widened.inline.insert(
        "ReadUsers".into(),
        json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}),
    );
    let checks = judge(&e, &Observed::Role(Some(widened)));
    assert!(checks
        .iter()
        .any(|c| !c.passed && c.check == "inline policy ReadUsers"));
}

#[test]
fn subscriptions_must_exist_and_be_confirmed() {
    let e = expected_of("AlertsMail");
    let sub = |arn: &str| SubscriptionFacts {
        protocol: "email".into(),
        endpoint: "ops@example.com".into(),
        arn: arn.into(),
    };
    assert!(
        judge(
            &e,
            &Observed::Subscriptions(vec![sub("arn:aws:sns:us-east-1:1:alerts:s")])
        )[0]
        .passed
    );
    let pending = judge(
        &e,
        &Observed::Subscriptions(vec![sub("PendingConfirmation")]),
    );
    assert!(!pending[0].passed && pending[0].found.starts_with("pending confirmation"));
    let none = judge(&e, &Observed::Subscriptions(Vec::new()));
    assert_eq!(
        none[0].found,
        "not subscribed (the topic has 0 subscriptions)"
    );
}

#[test]
fn tables_need_pitr_and_the_stack_key_and_buckets_a_full_block_and_encryption() {
    let table = expected_of("Users");
    let facts = |pitr, key: Option<&str>| {
        Observed::Table(Some(TableFacts {
            point_in_time_recovery: pitr,
            kms_key_arn: key.map(str::to_string),
        }))
    };
    assert!(judge(&table, &facts(true, Some(KEY_ARN)))
        .iter()
        .all(|c| c.passed));
    let bad = judge(&table, &facts(false, None));
    assert_eq!(bad.iter().filter(|c| !c.passed).count(), 2);
    assert_eq!(bad[1].found, "an AWS owned key");
    let bucket = expected_of("Site");
    let facts = |block: Option<[bool; 4]>, alg: Option<&str>| {
        Observed::Bucket(Some(BucketFacts {
            public_access_block: block,
            algorithm: alg.map(str::to_string),
            kms_key: Some(KEY_ARN.into()),
        }))
    };
    assert!(judge(&bucket, &facts(Some([true; 4]), Some("aws:kms")))
        .iter()
        .all(|c| c.passed));
    let open = judge(
        &bucket,
        &facts(Some([true, true, false, false]), Some("AES256")),
    );
    assert_eq!(
        open[0].found,
        "off: BlockPublicPolicy, RestrictPublicBuckets"
    );
    assert!(!open[1].passed);
    assert_eq!(
        judge(&bucket, &facts(None, None))[0].found,
        "no public access block"
    );
}

fn live_alarm() -> crate::engine::cloudwatch::AlarmDefinition {
    use crate::engine::cloudwatch::{AlarmDefinition, AlarmState, MetricDimension};
    AlarmDefinition {
        name: "shop-prod-errors".into(),
        arn: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-prod-errors".into(),
        description: None,
        state: AlarmState::Ok,
        state_reason: None,
        state_updated_at: None,
        namespace: Some("AWS/Lambda".into()),
        metric_name: Some("Errors".into()),
        dimensions: vec![MetricDimension::new("FunctionName", "users-fn")],
        statistic: Some("Sum".into()),
        extended_statistic: None,
        threshold: Some(0.0),
        comparison_operator: Some("GreaterThanThreshold".into()),
        period: Some(60),
        evaluation_periods: Some(1),
        datapoints_to_alarm: None,
        treat_missing_data: Some("notBreaching".into()),
        actions_enabled: Some(true),
        alarm_actions: vec!["arn:aws:sns:us-east-1:123456789012:alerts".into()],
        ok_actions: vec!["arn:aws:sns:us-east-1:123456789012:alerts".into()],
        insufficient_data_actions: Vec::new(),
        metrics: Vec::new(),
    }
}

#[test]
fn an_alarm_must_watch_what_was_declared_and_tell_whom_it_was_told_to() {
    let e = expected_of("Errors");
    let same = judge(&e, &Observed::Alarm(Some(Box::new(live_alarm()))));
    assert!(same[0].passed, "{same:?}");
    let mut raised = live_alarm();
    raised.threshold = Some(5.0);
    raised.alarm_actions.clear();
    let checks = judge(&e, &Observed::Alarm(Some(Box::new(raised))));
    assert!(!checks[0].passed);
    assert!(
        checks[0].found.contains("threshold 5 (expected 0)"),
        "{}",
        checks[0].found
    );
    assert!(
        checks[0].found.contains("alarm actions {}"),
        "{}",
        checks[0].found
    );
    let mut silenced = live_alarm();
    silenced.actions_enabled = Some(false);
    let checks = judge(&e, &Observed::Alarm(Some(Box::new(silenced))));
    assert_eq!(checks[0].found, "actions disabled (expected enabled)");
    assert_eq!(
        judge(&e, &Observed::Alarm(None))[0].found,
        "it does not exist"
    );
}

#[test]
fn metric_math_queries_compare_line_by_line() {
    let dims: BTreeMap<String, String> = [("FunctionName".to_string(), "f".to_string())].into();
    assert_eq!(
        metric_query(
            "m1",
            None,
            Some(MetricNamed {
                namespace: "AWS/Lambda",
                name: "Errors",
                dimensions: &dims,
                stat: Some("Sum"),
                period: Some(60)
            }),
            Some(false)
        ),
        "m1 = AWS/Lambda Errors {FunctionName=f} Sum 60"
    );
    assert_eq!(
        metric_query("e1", Some("m1 / m2 * 100"), None, None),
        "e1 = m1 / m2 * 100 (returned)"
    );
}

#[test]
fn a_resource_not_deployed_yet_fails_as_resolvable_rather_than_being_asked_for_by_an_empty_name() {
    let template = template();
    let mut deployed = deployed();
    deployed.physical_ids.remove("Errors");
    deployed.physical_ids.insert("Users".into(), String::new());
    let found = expectations(&template, &Resolver::new(&template, &deployed));
    for id in ["Errors", "Users"] {
        let e = found.iter().find(|e| e.logical_id == id).unwrap();
        assert_eq!(e.unresolved.len(), 1, "{e:?}");
        assert!(e.unresolved[0].starts_with(&format!("{id}: ")), "{e:?}");
        let checks = judge(e, &Observed::Table(None));
        assert_eq!(
            (checks[0].check.as_str(), checks[0].passed),
            ("resolvable", false)
        );
    }
}
