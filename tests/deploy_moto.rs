//! `stackctl deploy`, `diff` and `destroy` end to end against the emulator:
//! the four seed stacks deploy, and what they create is read back through
//! each service's own API; a second deploy does nothing; a change shows
//! exactly in the diff and lands; a destroy keeps what it must.
//!
//! guitar-collection ships its real handler crates (built with zig). The
//! other seeds' handler crates are not written yet, so their functions
//! ship one stand-in package instead (the infrastructure is what is tested).

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use support::moto::{Moto, MOTO};
use support::{ensure, repo_root, ZIGBUILD};

const SEEDS: [&str; 4] = [
    "cloud-platform",
    "ebay-sniper",
    "fleet-console",
    "guitar-collection",
];

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// A copy of the seed stacks; those naming crates that do not exist yet
    /// get a stand-in package.
    fn new() -> Project {
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
            let mut text =
                std::fs::read_to_string(repo_root().join(format!("stacks/{seed}.yaml"))).unwrap();
            if seed != "guitar-collection" {
                text = text
                    .lines()
                    .map(|l| match l.trim_start().strip_prefix("crate: ") {
                        Some(_) => format!(
                            "{}zip: {{path: \"{}\"}}\n",
                            &l[..l.len() - l.trim_start().len()],
                            stand_in.display()
                        ),
                        None => format!("{l}\n"),
                    })
                    .collect();
            }
            std::fs::write(stacks.join(format!("{seed}.yaml")), text).unwrap();
        }
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn edit(&self, seed: &str, from: &str, to: &str) {
        let path = self.path().join(format!("stacks/{seed}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{seed} has no `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    fn stackctl(&self, moto: &Moto, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .arg("--stacks-dir")
            .arg(self.path().join("stacks"))
            .arg("--build-dir")
            .arg(self.path().join(".stackctl"))
            .args(args)
            .current_dir(repo_root())
            .envs(moto.env())
            .env("STACKCTL_ZIGBUILD", ensure(&ZIGBUILD))
            .env("CI", "true")
            .output()
            .expect("run stackctl")
    }

    fn succeed(&self, moto: &Moto, args: &[&str]) -> (String, String) {
        let out = self.stackctl(moto, args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            out.status.success(),
            "stackctl {args:?} failed ({:?}):\n{stdout}\n{stderr}",
            out.status
        );
        (stdout, stderr)
    }

    fn template(&self, moto: &Moto, seed: &str, env: &str) -> Value {
        let (stdout, _) = self.succeed(moto, &["render", "--env", env, "--format", "json", seed]);
        serde_json::from_str(&stdout).unwrap()
    }

    fn manifest(&self, seed: &str, env: &str) -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(
                self.path()
                    .join(format!(".stackctl/builds/{seed}-{env}.json")),
            )
            .unwrap(),
        )
        .unwrap()
    }
}

/// Each resource as its own service reports it (see `support/inspect_aws.py`).
fn inspect(moto: &Moto, wanted: &[(String, String)]) -> Vec<Value> {
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

async fn cloudformation(moto: &Moto) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&moto.sdk_config().await)
}

/// (type, physical id) of every resource of a stack of the kinds inspected.
async fn stack_resources(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Vec<(String, String, String)> {
    let out = cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .unwrap();
    out.stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_string(),
                r.resource_type().unwrap_or_default().to_string(),
                r.physical_resource_id().unwrap_or_default().to_string(),
            )
        })
        .filter(|(_, t, _)| {
            [
                "AWS::DynamoDB::Table",
                "AWS::Lambda::Function",
                "AWS::IAM::Role",
                "AWS::Logs::LogGroup",
                "AWS::S3::Bucket",
            ]
            .contains(&t.as_str())
        })
        .collect()
}

fn key_schema(t: &Value) -> Vec<Value> {
    t["KeySchema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!([k["AttributeName"], k["KeyType"]]))
        .collect()
}

#[tokio::test]
async fn the_four_seeds_deploy_and_exist_as_declared() {
    let moto = Moto::start();
    let project = Project::new();
    let cfn = cloudformation(&moto).await;
    // All four in one deploy, concurrently (they do not depend on each other).
    let outputs_file = project.path().join("outputs.json");
    let (_, stderr) = project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "--concurrency",
            "4",
            "--outputs-file",
            outputs_file.to_str().unwrap(),
        ],
    );
    let outputs: Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs_file).unwrap()).unwrap();
    assert_eq!(
        outputs.as_object().unwrap().len(),
        SEEDS.len(),
        "the outputs file holds the applications only: {outputs}"
    );
    account_settings_exist_once(
        &moto,
        &cfn,
        &stderr,
        &["cloud-platform-dev", "fleet-console-dev"],
    )
    .await;
    for seed in SEEDS {
        let stack = format!("{seed}-dev");
        assert!(
            stderr.contains(&format!("{stack}: CREATE_COMPLETE")),
            "{stderr}"
        );
        assert!(
            outputs[&stack]["StackKeyArn"]
                .as_str()
                .is_some_and(|a| a.starts_with("arn:aws:kms:")),
            "{stack} outputs: {outputs}"
        );
        let template = project.template(&moto, seed, "dev");
        let resources = template["Resources"].as_object().unwrap();
        assert!(
            !resources
                .values()
                .any(|r| r["Type"] == "AWS::ApiGateway::Account"),
            "{stack} leaves the account setting to stackctl"
        );
        let manifest = project.manifest(seed, "dev");
        let deployed = stack_resources(&cfn, &stack).await;
        let wanted: Vec<(String, String)> = deployed
            .iter()
            .map(|(_, t, p)| (t.clone(), p.clone()))
            .collect();
        let found = inspect(&moto, &wanted);
        let mut seen_types = std::collections::BTreeMap::<String, usize>::new();
        for ((logical, ty, physical), report) in deployed.iter().zip(&found) {
            assert_eq!(
                report["exists"], true,
                "{stack}: {logical} ({ty}) {physical} does not exist: {report}"
            );
            *seen_types.entry(ty.clone()).or_default() += 1;
            let declared = &resources[logical.as_str()]["Properties"];
            match ty.as_str() {
                "AWS::DynamoDB::Table" => {
                    assert_eq!(
                        report["keys"],
                        json!(key_schema(declared)),
                        "{stack}: {logical} keys"
                    );
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
                "AWS::Lambda::Function" => {
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
                }
                "AWS::IAM::Role" => {
                    let declared_actions: std::collections::BTreeSet<String> = declared["Policies"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
                        .flat_map(|s| match &s["Action"] {
                            Value::Array(a) => a
                                .iter()
                                .map(|x| x.as_str().unwrap().to_string())
                                .collect::<Vec<_>>(),
                            v => vec![v.as_str().unwrap().to_string()],
                        })
                        .collect();
                    let live_actions: std::collections::BTreeSet<String> = report["policies"]
                        .as_object()
                        .unwrap()
                        .values()
                        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
                        .flat_map(|s| match &s["Action"] {
                            Value::Array(a) => a
                                .iter()
                                .map(|x| x.as_str().unwrap().to_string())
                                .collect::<Vec<_>>(),
                            v => vec![v.as_str().unwrap().to_string()],
                        })
                        .collect();
                    assert_eq!(
                        live_actions, declared_actions,
                        "{stack}: {logical} grants exactly the declared actions"
                    );
                    assert!(
                        !live_actions.iter().any(|a| a.ends_with(":*")),
                        "{stack}: {logical} has no wildcard action"
                    );
                }
                _ => {}
            }
        }
        let declared_count = |ty: &str| resources.values().filter(|r| r["Type"] == ty).count();
        for ty in [
            "AWS::DynamoDB::Table",
            "AWS::Lambda::Function",
            "AWS::IAM::Role",
            "AWS::Logs::LogGroup",
        ] {
            assert_eq!(
                seen_types.get(ty).copied().unwrap_or(0),
                declared_count(ty),
                "{stack}: every {ty} exists"
            );
        }
        eprintln!("{stack}: {seen_types:?} verified");
    }
}

/// The account-settings stack exists once, holds the API Gateway
/// CloudWatch role, and was made before the stacks that need it.
async fn account_settings_exist_once(
    moto: &Moto,
    cfn: &aws_sdk_cloudformation::Client,
    stderr: &str,
    needed_by: &[&str],
) {
    use stackctl::plan::account::ACCOUNT_SETTINGS_STACK;
    assert!(
        stderr.contains(&format!(
            "account settings ({ACCOUNT_SETTINGS_STACK}): created"
        )),
        "{stderr}"
    );
    let all = cfn.describe_stacks().send().await.unwrap();
    let created = |name: &str| {
        all.stacks()
            .iter()
            .find(|s| s.stack_name() == Some(name))
            .and_then(|s| s.creation_time())
            .map(|t| t.as_nanos())
            .unwrap_or_else(|| panic!("no stack {name}"))
    };
    assert_eq!(
        all.stacks()
            .iter()
            .filter(|s| s.stack_name() == Some(ACCOUNT_SETTINGS_STACK))
            .count(),
        1
    );
    for stack in needed_by {
        assert!(
            created(ACCOUNT_SETTINGS_STACK) < created(stack),
            "the account settings come in an earlier wave than {stack}"
        );
    }
    let roles: Vec<(String, String, String)> = stack_resources(cfn, ACCOUNT_SETTINGS_STACK).await;
    assert_eq!(
        roles
            .iter()
            .map(|(l, t, _)| (l.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
        [("ApiGatewayCloudWatchRole", "AWS::IAM::Role")]
    );
    assert_eq!(
        inspect(moto, &[(roles[0].1.clone(), roles[0].2.clone())])[0]["exists"],
        true,
        "the role exists in IAM"
    );
}

#[tokio::test]
async fn redeploy_diff_change_and_destroy() {
    let moto = Moto::start();
    let project = Project::new();
    let cfn = cloudformation(&moto).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config().await)
            .force_path_style(true)
            .build(),
    );
    let seed = "guitar-collection";
    let stack = "guitar-collection-dev";
    let dotenv = project.path().join("frontend.env");
    project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "--outputs-file",
            dotenv.to_str().unwrap(),
            seed,
        ],
    );
    let dotenv = std::fs::read_to_string(&dotenv).unwrap();
    assert!(
        dotenv.contains("GUITARS_TABLE_NAME=guitar-collection-guitars-dev\n"),
        "{dotenv}"
    );

    // Again, unchanged: nothing executed, nothing uploaded.
    let events_before = cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .stack_events()
        .len();
    let versions = |s3: aws_sdk_s3::Client| async move {
        s3.list_object_versions()
            .bucket("stackctl-artifacts-123456789012-us-east-1")
            .send()
            .await
            .unwrap()
            .versions()
            .len()
    };
    let objects_before = versions(s3.clone()).await;
    let (stdout, stderr) = project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            seed,
        ],
    );
    assert!(
        stderr.contains(&format!("{stack}: no changes; nothing deployed")),
        "{stderr}"
    );
    assert!(
        stdout.contains("GuitarsTableName"),
        "outputs are printed even when nothing changed: {stdout}"
    );
    assert_eq!(
        cfn.describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .unwrap()
            .stack_events()
            .len(),
        events_before,
        "no operation ran"
    );
    assert_eq!(
        versions(s3.clone()).await,
        objects_before,
        "nothing uploaded"
    );
    assert!(
        cfn.list_change_sets()
            .stack_name(stack)
            .send()
            .await
            .unwrap()
            .summaries()
            .iter()
            .all(|c| c.execution_status().map(|s| s.as_str()) == Some("EXECUTE_COMPLETE")),
        "no change set left pending"
    );

    // A function's memory and a table's stream: the diff shows exactly those.
    project.edit(seed, "    memory: 256\n", "    memory: 1024\n");
    project.edit(
        seed,
        "    billing: on_demand\n  users:",
        "    billing: on_demand\n    stream: new_image\n  users:",
    );
    let out = project.stackctl(
        &moto,
        &[
            "diff",
            "--env",
            "dev",
            "--exit-code",
            "--output",
            "json",
            seed,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes: Vec<(String, Vec<String>)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["logical_id"].as_str().unwrap().to_string(),
                c["properties"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["path"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                "GuitarsTable".to_string(),
                vec!["StreamSpecification".to_string()]
            ),
            ("UserFunction".to_string(), vec!["MemorySize".to_string()])
        ],
        "{report}"
    );
    assert_eq!(report["data_loss"], json!([]));

    // The memory change deploys and lands. (moto drops a DynamoDB table
    // from its stack on any table update, so the stream change is only diffed.)
    project.edit(seed, "    stream: new_image\n", "");
    let (_, stderr) = project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            seed,
        ],
    );
    assert!(
        stderr.contains(&format!("{stack}: UPDATE_COMPLETE")),
        "{stderr}"
    );
    assert!(
        stderr.contains("~ UserFunction  AWS::Lambda::Function")
            && stderr.contains("MemorySize: 256 → 1024"),
        "the deploy shows its diff: {stderr}"
    );
    let function = stack_resources(&cfn, stack)
        .await
        .into_iter()
        .find(|(l, _, _)| l == "UserFunction")
        .unwrap();
    assert_eq!(
        inspect(&moto, &[(function.1, function.2)])[0]["memory"],
        1024
    );

    // Replacing a table is refused, and nothing changes.
    project.edit(
        seed,
        "partition_key: {name: userId, type: S}\n    billing",
        "partition_key: {name: id, type: S}\n    billing",
    );
    let out = project.stackctl(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            seed,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("refused, nothing deployed")
            && stderr.contains(
                "UsersTable (AWS::DynamoDB::Table) would be replaced because KeySchema changes"
            )
            && stderr.contains("--allow-replace guitar-collection-dev:UsersTable"),
        "{stderr}"
    );
    assert_eq!(
        cfn.describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .unwrap()
            .stacks()[0]
            .stack_status()
            .unwrap()
            .as_str(),
        "UPDATE_COMPLETE"
    );
}

#[tokio::test]
async fn destroy_keeps_the_data_it_must() {
    let moto = Moto::start();
    let project = Project::new();
    let cfn = cloudformation(&moto).await;
    // Staging retains data (dev does not); a stand-in package keeps this test off the compiler.
    let seed = "cloud-platform";
    // Before the first deploy, diff says the account settings would be created, and for whom.
    let (stdout, _) = project.succeed(&moto, &["diff", "--env", "staging", seed]);
    assert!(
        stdout.contains("account settings (stackctl-account-settings): would be created (the API Gateway CloudWatch role of this account and region, which the REST API logs of cloud-platform-staging need)"),
        "{stdout}"
    );
    project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "staging",
            "--require-approval",
            "never",
            seed,
        ],
    );
    let stack = "cloud-platform-staging";
    // Again: the account settings are up to date, in two reads.
    let (_, stderr) = project.succeed(
        &moto,
        &[
            "deploy",
            "--env",
            "staging",
            "--require-approval",
            "never",
            seed,
        ],
    );
    assert!(
        stderr.contains("account settings (stackctl-account-settings): up to date")
            && stderr.contains(&format!("{stack}: no changes")),
        "{stderr}"
    );
    let (stdout, _) = project.succeed(&moto, &["diff", "--env", "staging", seed]);
    assert!(
        stdout.contains("account settings (stackctl-account-settings): up to date"),
        "{stdout}"
    );
    let before = stack_resources(&cfn, stack).await;
    let template = project.template(&moto, seed, "staging");
    let retained: Vec<&(String, String, String)> = before
        .iter()
        .filter(|(l, _, _)| template["Resources"][l.as_str()]["DeletionPolicy"] == "Retain")
        .collect();
    assert!(
        retained.iter().any(|(_, t, _)| t == "AWS::DynamoDB::Table"),
        "staging retains its tables: {before:?}"
    );

    let out = project.stackctl(&moto, &["destroy", "--env", "staging", seed]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pass --yes"),
        "no terminal, no --yes: refused"
    );

    let (_, stderr) = project.succeed(&moto, &["destroy", "--env", "staging", "--yes", seed]);
    assert!(stderr.contains(&format!("{stack}: deleted")), "{stderr}");
    for (logical, ty, physical) in &retained {
        assert!(
            stderr.contains(&format!("{logical} ({ty}): {physical}")),
            "{logical} listed as retained: {stderr}"
        );
    }
    let found = inspect(
        &moto,
        &before
            .iter()
            .map(|(_, t, p)| (t.clone(), p.clone()))
            .collect::<Vec<_>>(),
    );
    for ((logical, ty, _), report) in before.iter().zip(&found) {
        let kept = retained.iter().any(|(l, _, _)| l == logical);
        assert_eq!(
            report["exists"],
            kept,
            "{logical} ({ty}) {}",
            if kept { "is retained" } else { "is deleted" }
        );
    }
    assert!(
        cfn.describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .is_err(),
        "the stack is gone"
    );
    let settings = cfn
        .describe_stacks()
        .stack_name(stackctl::plan::account::ACCOUNT_SETTINGS_STACK)
        .send()
        .await
        .unwrap();
    assert_eq!(
        settings.stacks()[0].stack_status().unwrap().as_str(),
        "CREATE_COMPLETE",
        "destroying an application leaves the account settings alone"
    );

    let (_, stderr) = project.succeed(&moto, &["destroy", "--env", "staging", "--yes", seed]);
    assert!(
        stderr.contains("does not exist; nothing to destroy"),
        "{stderr}"
    );
}
