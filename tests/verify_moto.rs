//! `stackctl verify` against the emulator (tier `tier-emulator`): the four
//! seed stacks deploy and verify clean; then cloud-platform is broken by
//! hand through each service's own API (web ACL disassociated, key rotation
//! off, a policy attached to a role and one added inline, an alarm deleted,
//! point-in-time recovery off, the bucket's public access block removed)
//! and `verify` reports exactly those, by name, with exit 1; put back, it
//! is clean again.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;
use support::moto::Moto;
use support::{repo_root, with_stand_in_package};

const SEED: &str = "cloud-platform";
const SEEDS: [&str; 4] = [
    "cloud-platform",
    "ebay-sniper",
    "fleet-console",
    "guitar-collection",
];
const STACK: &str = "cloud-platform-dev";
/// A managed policy someone attaches by hand (the emulator does not hold
/// AWS's own managed policies, so it is one of the account's).
const ADMIN: &str = "arn:aws:iam::123456789012:policy/ops-full-access";

/// The seed stacks, their functions shipping a stand-in package (handler
/// code is not what is verified).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let stacks = dir.path().join("stacks");
    std::fs::create_dir_all(&stacks).unwrap();
    let stand_in = dir.path().join("stand-in.zip");
    std::fs::write(
        &stand_in,
        stackctl::artifact::zip::bootstrap_zip(b"#!/bin/sh\necho stand-in\n"),
    )
    .unwrap();
    for seed in SEEDS {
        let text =
            std::fs::read_to_string(repo_root().join(format!("stacks/{seed}.yaml"))).unwrap();
        let text = with_stand_in_package(&text, &stand_in);
        std::fs::write(stacks.join(format!("{seed}.yaml")), text).unwrap();
    }
    dir
}

fn stackctl(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .arg("--stacks-dir")
        .arg(dir.join("stacks"))
        .arg("--build-dir")
        .arg(dir.join(".stackctl"))
        .args(args)
        .current_dir(repo_root())
        .envs(moto.env())
        .env("CI", "true")
        .output()
        .expect("run stackctl")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `verify --output json`: (status, check, logical id) of every line.
fn verdicts(moto: &Moto, dir: &Path) -> (Option<i32>, Vec<Value>, String) {
    let out = stackctl(
        moto,
        dir,
        &["verify", "--env", "dev", "--output", "json", SEED],
    );
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code(), lines, text(&out))
}

fn failing(lines: &[Value]) -> BTreeSet<(String, String)> {
    lines
        .iter()
        .filter(|l| l["status"] != "PASS")
        .map(|l| {
            (
                l["logical_id"].as_str().unwrap_or_default().to_string(),
                l["check"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

struct Physical {
    ids: std::collections::BTreeMap<String, String>,
}

impl Physical {
    async fn read(cfn: &aws_sdk_cloudformation::Client) -> Physical {
        let out = cfn
            .list_stack_resources()
            .stack_name(STACK)
            .send()
            .await
            .unwrap();
        Physical {
            ids: out
                .stack_resource_summaries()
                .iter()
                .map(|r| {
                    (
                        r.logical_resource_id().unwrap_or_default().to_string(),
                        r.physical_resource_id().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        }
    }

    fn of(&self, logical_id: &str) -> &str {
        self.ids
            .get(logical_id)
            .unwrap_or_else(|| panic!("{STACK} holds no {logical_id}: {:?}", self.ids.keys()))
    }
}

#[tokio::test]
async fn verify_reports_each_hand_made_break_by_name_and_passes_once_restored() {
    let moto = Moto::start();
    let dir = project();
    let deploy = stackctl(
        &moto,
        dir.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "--concurrency",
            "4",
        ],
    );
    assert!(deploy.status.success(), "{}", text(&deploy));
    // Every seed, as deployed, verifies clean: no check fails on a stack
    // nobody touched.
    let all = stackctl(&moto, dir.path(), &["verify", "--env", "dev"]);
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    println!("{}", String::from_utf8_lossy(&all.stdout));

    // As deployed: every check passes.
    let started = Instant::now();
    let (code, clean, output) = verdicts(&moto, dir.path());
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{output}");
    let checks: BTreeSet<&str> = clean.iter().filter_map(|l| l["check"].as_str()).collect();
    for wanted in [
        "web ACL attached",
        "key enabled",
        "key rotation",
        "key policy",
        "attached policies",
        "alarm",
        "subscription",
        "point-in-time recovery",
        "table key",
        "public access blocked",
        "bucket encryption",
    ] {
        assert!(checks.contains(wanted), "no `{wanted}` check: {output}");
    }
    println!("verify of {STACK}: {} checks in {took:?}", clean.len());
    let human = stackctl(&moto, dir.path(), &["verify", "--env", "dev", SEED]);
    assert_eq!(human.status.code(), Some(0), "{}", text(&human));
    println!("{}", String::from_utf8_lossy(&human.stdout));

    // Broken by hand, through each service's own API.
    let sdk = moto.sdk_config().await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);
    let ids = Physical::read(&cfn).await;
    let template: Value = serde_json::from_slice(
        &stackctl(
            &moto,
            dir.path(),
            &["render", "--env", "dev", "--format", "json", SEED],
        )
        .stdout,
    )
    .unwrap();
    let api_stage = format!(
        "arn:aws:apigateway:us-east-1::/restapis/{}/stages/{}",
        ids.of("MainApi"),
        ids.of("MainApiStage")
    );
    let wafv2 = aws_sdk_wafv2::Client::new(&sdk);
    wafv2
        .disassociate_web_acl()
        .resource_arn(&api_stage)
        .send()
        .await
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&sdk);
    kms.disable_key_rotation()
        .key_id(ids.of("StackKey"))
        .send()
        .await
        .unwrap();
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = ids.of("UsersFunctionRole");
    iam.create_policy()
        .policy_name("ops-full-access")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(role)
        .policy_arn(ADMIN)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(role)
        .policy_name("Backdoor")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarm = ids.of("ApiErrorsAlarm").to_string();
    cloudwatch
        .delete_alarms()
        .alarm_names(&alarm)
        .send()
        .await
        .unwrap();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = ids.of("UsersTable");
    dynamodb
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = ids.of("EtlInputBucket");
    s3.delete_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();

    let (code, broken, output) = verdicts(&moto, dir.path());
    assert_eq!(code, Some(1), "{output}");
    let expected: BTreeSet<(String, String)> = [
        ("ApiAclWebAclProtectsMainApi", "web ACL attached"),
        ("StackKey", "key rotation"),
        ("UsersFunctionRole", "attached policies"),
        ("UsersFunctionRole", "inline policy Backdoor"),
        ("ApiErrorsAlarm", "alarm"),
        ("UsersTable", "point-in-time recovery"),
        ("EtlInputBucket", "public access blocked"),
    ]
    .iter()
    .map(|(l, c)| (l.to_string(), c.to_string()))
    .collect();
    assert_eq!(failing(&broken), expected, "{output}");
    let human = stackctl(&moto, dir.path(), &["verify", "--env", "dev", SEED]);
    let shown = text(&human);
    assert_eq!(human.status.code(), Some(1), "{shown}");
    for line in [
        "FAIL  web ACL attached",
        "found no web ACL protects it",
        "FAIL  key rotation",
        "expected on; found off",
        "attached outside the stack: arn:aws:iam::123456789012:policy/ops-full-access",
        "an inline policy added outside the stack",
        "found it does not exist",
        "FAIL  public access blocked",
        "found no public access block",
        "cloud-platform-dev: ",
    ] {
        assert!(shown.contains(line), "no `{line}` in:\n{shown}");
    }
    println!("{shown}");

    // Put back: clean again.
    // The stack's own web ACL (fleet-console has one too): its Ref is
    // `name|id|scope`.
    let acl_id = ids
        .of("ApiAclWebAcl")
        .split('|')
        .nth(1)
        .unwrap()
        .to_string();
    let acl_arn = wafv2
        .list_web_acls()
        .scope(aws_sdk_wafv2::types::Scope::Regional)
        .send()
        .await
        .unwrap()
        .web_acls()
        .iter()
        .find(|a| a.id() == Some(acl_id.as_str()))
        .and_then(|a| a.arn().map(str::to_string))
        .expect("the stack's web ACL");
    wafv2
        .associate_web_acl()
        .web_acl_arn(acl_arn)
        .resource_arn(&api_stage)
        .send()
        .await
        .unwrap();
    kms.enable_key_rotation()
        .key_id(ids.of("StackKey"))
        .send()
        .await
        .unwrap();
    iam.detach_role_policy()
        .role_name(role)
        .policy_arn(ADMIN)
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name(role)
        .policy_name("Backdoor")
        .send()
        .await
        .unwrap();
    put_alarm_back(
        &cloudwatch,
        &template["Resources"]["ApiErrorsAlarm"]["Properties"],
        &alarm,
        &ids,
    )
    .await;
    dynamodb
        .update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, restored, output) = verdicts(&moto, dir.path());
    assert_eq!(
        (code, failing(&restored)),
        (Some(0), BTreeSet::new()),
        "{output}"
    );
}

/// The alarm as the template declares it (values the template computes
/// are taken from the deployed stack).
async fn put_alarm_back(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    declared: &Value,
    name: &str,
    ids: &Physical,
) {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let topic = ids.of("AlertsTopic");
    let dimensions = declared["Dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let value = match &d["Value"] {
                Value::String(s) => s.clone(),
                // `${AWS::StackName}-main`
                other => other["Fn::Sub"]
                    .as_str()
                    .unwrap()
                    .replace("${AWS::StackName}", STACK),
            };
            Dimension::builder()
                .name(d["Name"].as_str().unwrap())
                .value(value)
                .build()
        })
        .collect::<Vec<_>>();
    cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .set_alarm_description(declared["AlarmDescription"].as_str().map(str::to_string))
        .namespace(declared["Namespace"].as_str().unwrap())
        .metric_name(declared["MetricName"].as_str().unwrap())
        .set_dimensions(Some(dimensions))
        .period(declared["Period"].as_i64().unwrap() as i32)
        .statistic(Statistic::from(declared["Statistic"].as_str().unwrap()))
        .threshold(declared["Threshold"].as_f64().unwrap())
        .comparison_operator(ComparisonOperator::from(
            declared["ComparisonOperator"].as_str().unwrap(),
        ))
        .evaluation_periods(declared["EvaluationPeriods"].as_i64().unwrap() as i32)
        .treat_missing_data(declared["TreatMissingData"].as_str().unwrap())
        .alarm_actions(topic)
        .ok_actions(topic)
        .send()
        .await
        .unwrap();
}
