//! What a deployed stack made, read back through each service's own API
//! (`inspect_aws.py`, boto3 from the emulator's venv) and compared with the
//! rendered template: the properties the emulator honours, and for the
//! types the launcher creates (Cognito, API Gateway v2, alarms, WAF …) the
//! settings a reviewer would look at first.

use super::moto::{Moto, MOTO};
use super::{ensure, repo_root};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Types `inspect_aws.py` can read back.
pub const INSPECTED: [&str; 14] = [
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Function",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::ApiGatewayV2::Api",
    "AWS::CloudWatch::Alarm",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::SecretsManager::Secret",
    "AWS::CloudFront::Distribution",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Logs::SubscriptionFilter",
];

/// Each resource as its own service reports it, in the order asked.
pub fn inspect(moto: &Moto, wanted: &[(String, String)]) -> Vec<Value> {
    let python = ensure(&MOTO).with_file_name("python");
    let out = Command::new(python)
        .arg(repo_root().join("tests/support/inspect_aws.py"))
        .arg(moto.endpoint())
        .arg(serde_json::to_string(wanted).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A deployed stack's resources as ListStackResources names them, with its template.
pub struct Deployed<'a> {
    pub stack: String,
    pub template: &'a Value,
    /// logical id → (type, physical id)
    pub resources: BTreeMap<String, (String, String)>,
}

impl Deployed<'_> {
    pub fn physical(&self, logical: &str) -> &str {
        &self
            .resources
            .get(logical)
            .unwrap_or_else(|| panic!("{}: {logical} was not created", self.stack))
            .1
    }

    fn declared(&self, logical: &str) -> &Value {
        &self.template["Resources"][logical]["Properties"]
    }

    /// The resource a `Ref` or `Fn::GetAtt` names.
    fn target<'v>(&self, value: &'v Value) -> &'v str {
        value["Ref"]
            .as_str()
            .or_else(|| value["Fn::GetAtt"][0].as_str())
            .unwrap_or_else(|| panic!("{}: {value} is not a Ref or GetAtt", self.stack))
    }

    /// A declared value as the deployed stack resolves it: a literal, or a
    /// Ref to a resource (its physical id).
    fn resolved(&self, value: &Value) -> Value {
        match value.get("Ref").and_then(Value::as_str) {
            Some(logical) => json!(self.physical(logical)),
            None => value.clone(),
        }
    }

    /// The id `inspect_aws.py` reads a resource by.
    pub fn inspect_id(&self, logical: &str) -> (String, String) {
        let (ty, physical) = &self.resources[logical];
        match ty.as_str() {
            "AWS::Cognito::UserPoolClient" => (
                ty.clone(),
                format!(
                    "{}|{physical}",
                    self.physical(self.target(&self.declared(logical)["UserPoolId"]))
                ),
            ),
            "AWS::Logs::SubscriptionFilter" => (
                ty.clone(),
                format!(
                    "{}|{physical}",
                    self.physical(self.target(&self.declared(logical)["LogGroupName"]))
                ),
            ),
            _ => (ty.clone(), physical.clone()),
        }
    }

    /// Whether `arn` names the resource a declared reference points at (its
    /// physical id is a name, a queue URL or the ARN itself).
    fn names(&self, arn: &Value, reference: &Value) -> bool {
        let physical = self.physical(self.target_in(reference));
        let name = physical.rsplit(['/', ':']).next().unwrap_or(physical);
        arn.as_str()
            .is_some_and(|a| a.ends_with(&format!(":{name}")))
    }

    /// Compares one resource's read-back report with its declaration.
    pub fn check(&self, logical: &str, report: &Value, manifest: &Value) {
        let (stack, declared) = (&self.stack, self.declared(logical));
        let ty = self.resources[logical].0.as_str();
        assert_eq!(
            report["exists"], true,
            "{stack}: {logical} ({ty}) does not exist: {report}"
        );
        let key_id = |v: &Value| self.physical(self.target(v)).to_string();
        match ty {
            "AWS::DynamoDB::Table" => {
                let keys: Vec<Value> = declared["KeySchema"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| json!([k["AttributeName"], k["KeyType"]]))
                    .collect();
                assert_eq!(report["keys"], json!(keys), "{stack}: {logical} keys");
                let mut indexes: Vec<&str> = declared["GlobalSecondaryIndexes"]
                    .as_array()
                    .map(|g| g.iter().map(|i| i["IndexName"].as_str().unwrap()).collect())
                    .unwrap_or_default();
                indexes.sort();
                assert_eq!(
                    report["indexes"],
                    json!(indexes),
                    "{stack}: {logical} indexes"
                );
            }
            "AWS::Lambda::Function" => self.check_function(logical, report, manifest),
            "AWS::IAM::Role" => check_role(stack, logical, declared, report),
            "AWS::Logs::LogGroup" => {
                assert_eq!(
                    report["retention"], declared["RetentionInDays"],
                    "{stack}: {logical} retention"
                );
                let kms = report["kms"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{stack}: {logical} has no key: {report}"));
                assert!(
                    kms.ends_with(&format!(":key/{}", key_id(&declared["KmsKeyId"]))),
                    "{stack}: {logical} is encrypted with the declared key: {report}"
                );
            }
            "AWS::S3::Bucket" => {
                let rule = &declared["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
                    ["ServerSideEncryptionByDefault"];
                assert_eq!(
                    report["encryption"], rule["SSEAlgorithm"],
                    "{stack}: {logical} encryption"
                );
                if !rule["KMSMasterKeyID"].is_null() {
                    assert!(
                        report["kms"]
                            .as_str()
                            .is_some_and(|k| k.ends_with(&key_id(&rule["KMSMasterKeyID"]))),
                        "{stack}: {logical} is encrypted with the declared key: {report}"
                    );
                }
            }
            "AWS::Cognito::UserPool" => {
                assert_eq!(
                    report["password_policy"], declared["Policies"]["PasswordPolicy"],
                    "{stack}: {logical} password policy"
                );
                assert_eq!(
                    report["deletion_protection"], declared["DeletionProtection"],
                    "{stack}: {logical} deletion protection"
                );
            }
            "AWS::Cognito::UserPoolClient" => {
                assert_eq!(
                    report["auth_flows"], declared["ExplicitAuthFlows"],
                    "{stack}: {logical} auth flows"
                );
                assert_eq!(
                    report["has_secret"],
                    declared["GenerateSecret"].as_bool().unwrap_or(false),
                    "{stack}: {logical} secret"
                );
            }
            "AWS::ApiGatewayV2::Api" => self.check_http_api(logical, report),
            "AWS::CloudWatch::Alarm" => {
                for (field, member) in [
                    ("namespace", "Namespace"),
                    ("metric", "MetricName"),
                    ("threshold", "Threshold"),
                    ("comparison", "ComparisonOperator"),
                ] {
                    assert_eq!(
                        report[field], declared[member],
                        "{stack}: {logical} {member}"
                    );
                }
                let ids: Vec<&Value> = declared["Metrics"]
                    .as_array()
                    .map(|m| m.iter().map(|q| &q["Id"]).collect())
                    .unwrap_or_default();
                assert_eq!(
                    report["metrics"],
                    json!(ids),
                    "{stack}: {logical} metric queries"
                );
                for (field, member) in [
                    ("alarm_actions", "AlarmActions"),
                    ("ok_actions", "OKActions"),
                ] {
                    let actions: Vec<Value> = declared[member]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| self.resolved(a))
                        .collect();
                    assert_eq!(report[field], json!(actions), "{stack}: {logical} {member}");
                }
            }
            "AWS::WAFv2::WebACLAssociation" => {
                let acl = self.physical(self.target(&declared["WebACLArn"]));
                assert_eq!(
                    report["web_acl_name"].as_str(),
                    acl.split('|').next(),
                    "{stack}: {logical} associates the declared web ACL: {report}"
                );
                let resource = self.physical(logical).split('|').next().unwrap();
                let owner = self.target_in(&declared["ResourceArn"]);
                assert!(
                    resource.contains(self.physical(owner).split('|').next().unwrap()),
                    "{stack}: {logical} protects {owner} ({resource})"
                );
            }
            "AWS::SecretsManager::Secret" => {
                assert!(
                    report["kms"]
                        .as_str()
                        .is_some_and(|k| k.ends_with(&key_id(&declared["KmsKeyId"]))),
                    "{stack}: {logical} key: {report}"
                );
            }
            "AWS::Lambda::EventInvokeConfig" => {
                for (field, member) in [
                    ("retries", "MaximumRetryAttempts"),
                    ("max_age", "MaximumEventAgeInSeconds"),
                ] {
                    assert_eq!(
                        report[field], declared[member],
                        "{stack}: {logical} {member}"
                    );
                }
                for (field, member) in [("on_failure", "OnFailure"), ("on_success", "OnSuccess")] {
                    let wanted = &declared["DestinationConfig"][member]["Destination"];
                    assert!(
                        (wanted.is_null() && report[field].is_null())
                            || self.names(&report[field], wanted),
                        "{stack}: {logical} {member} is {wanted}: {report}"
                    );
                }
            }
            "AWS::Logs::SubscriptionFilter" => {
                assert_eq!(
                    report["pattern"], declared["FilterPattern"],
                    "{stack}: {logical} filter pattern"
                );
                assert!(
                    self.names(&report["destination"], &declared["DestinationArn"]),
                    "{stack}: {logical} delivers to its function: {report}"
                );
            }
            "AWS::CloudFront::Distribution" => {
                let origins: Vec<&Value> = declared["DistributionConfig"]["Origins"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| &o["Id"])
                    .collect();
                assert_eq!(
                    report["origins"],
                    json!(origins),
                    "{stack}: {logical} origins"
                );
            }
            _ => {}
        }
    }

    /// The first resource a value refers to, also inside `Fn::Sub`.
    fn target_in<'v>(&self, value: &'v Value) -> &'v str {
        if let Some(text) = value["Fn::Sub"].as_str() {
            return text
                .split("${")
                .skip(1)
                .map(|r| r.split('}').next().unwrap())
                .find(|r| self.template["Resources"].get(r).is_some())
                .unwrap_or_else(|| panic!("{value} names no resource"));
        }
        self.target(value)
    }

    fn check_function(&self, logical: &str, report: &Value, manifest: &Value) {
        let (stack, declared) = (&self.stack, self.declared(logical));
        let key = declared["Code"]["S3Key"].as_str().unwrap();
        let artifact = manifest["artifacts"]
            .as_object()
            .unwrap()
            .values()
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("{logical}: {key} is not in the manifest"));
        assert_eq!(
            report["code_sha256"], artifact["code_sha256"],
            "{stack}: {logical} runs exactly the built package"
        );
        assert_eq!(
            report["memory"], declared["MemorySize"],
            "{stack}: {logical} memory"
        );
        assert_eq!(
            report["timeout"], declared["Timeout"],
            "{stack}: {logical} timeout"
        );
        assert!(
            report["role"].as_str().unwrap().ends_with(&format!(
                "/{}",
                self.physical(self.target(&declared["Role"]))
            )),
            "{stack}: {logical} runs as its declared role: {report}"
        );
        let variables = declared["Environment"]["Variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let live = report["environment"].as_object().unwrap();
        assert_eq!(
            live.keys().collect::<BTreeSet<_>>(),
            variables.keys().collect::<BTreeSet<_>>(),
            "{stack}: {logical} environment variables"
        );
        for (name, value) in &variables {
            let got = live[name].as_str().unwrap();
            match value {
                Value::String(literal) => assert_eq!(got, literal, "{stack}: {logical} {name}"),
                _ => assert!(
                    !got.is_empty() && !got.contains("${") && !got.contains("emulated"),
                    "{stack}: {logical} {name} resolves to a real value: {got:?}"
                ),
            }
            if let Some(target) = value["Ref"]
                .as_str()
                .filter(|t| self.resources.contains_key(*t))
            {
                assert_eq!(
                    got,
                    self.physical(target),
                    "{stack}: {logical} {name} is {target}'s id"
                );
            }
        }
    }

    fn check_http_api(&self, logical: &str, report: &Value) {
        let stack = &self.stack;
        let resources = self.template["Resources"].as_object().unwrap();
        let of_this_api = |ty: &'static str| {
            resources
                .iter()
                .filter(move |(_, r)| r["Type"] == ty && r["Properties"]["ApiId"]["Ref"] == logical)
        };
        let declared_routes: BTreeMap<&str, &Value> = of_this_api("AWS::ApiGatewayV2::Route")
            .map(|(_, r)| {
                (
                    r["Properties"]["RouteKey"].as_str().unwrap(),
                    &r["Properties"],
                )
            })
            .collect();
        let live_routes = report["routes"].as_object().unwrap();
        assert_eq!(
            live_routes
                .keys()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            declared_routes.keys().copied().collect::<BTreeSet<_>>(),
            "{stack}: {logical} routes"
        );
        for (key, route) in declared_routes {
            let live = &live_routes[key];
            assert_eq!(
                live["authorization"],
                route
                    .get("AuthorizationType")
                    .cloned()
                    .unwrap_or(json!("NONE")),
                "{stack}: {logical} `{key}` authorization"
            );
            let authorizer = route
                .get("AuthorizerId")
                .map(|a| json!(self.physical(self.target(a))))
                .unwrap_or(Value::Null);
            assert_eq!(
                live["authorizer"], authorizer,
                "{stack}: {logical} `{key}` authorizer"
            );
            let integration = self.target_in(&route["Target"]);
            assert_eq!(
                live["target"],
                json!(format!("integrations/{}", self.physical(integration))),
                "{stack}: {logical} `{key}` integration"
            );
        }
        for (name, authorizer) in of_this_api("AWS::ApiGatewayV2::Authorizer") {
            let live = &report["authorizers"][self.physical(name)];
            let jwt = &authorizer["Properties"]["JwtConfiguration"];
            let pool = self.physical(self.target_in(&jwt["Issuer"]));
            assert_eq!(
                live["issuer"],
                json!(format!(
                    "https://cognito-idp.us-east-1.amazonaws.com/{pool}"
                )),
                "{stack}: {name} trusts the stack's user pool"
            );
            let audience: Vec<Value> = jwt["Audience"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| self.resolved(a))
                .collect();
            assert_eq!(
                live["audience"],
                json!(audience),
                "{stack}: {name} audience"
            );
        }
        assert_eq!(
            report["endpoint"],
            json!(format!(
                "https://{}.execute-api.us-east-1.amazonaws.com",
                self.physical(logical)
            )),
            "{stack}: {logical} endpoint"
        );
    }
}

fn check_role(stack: &str, logical: &str, declared: &Value, report: &Value) {
    let actions = |statements: Vec<Value>| -> BTreeSet<String> {
        statements
            .iter()
            .flat_map(|s| match &s["Action"] {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
                v => vec![v.as_str().unwrap().to_string()],
            })
            .collect()
    };
    let declared_actions = actions(
        declared["Policies"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
            .collect(),
    );
    let live_actions = actions(
        report["policies"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .collect(),
    );
    assert_eq!(
        live_actions, declared_actions,
        "{stack}: {logical} grants exactly the declared actions"
    );
    assert!(
        !live_actions.iter().any(|a| a.ends_with(":*")),
        "{stack}: {logical} has no wildcard action"
    );
}
