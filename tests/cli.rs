//! The command line: exit codes, output streams, files, overrides, help.

mod support;

use assert_cmd::Command;
use std::ffi::OsString;
use support::{repo_root, write};

/// Runs stackctl in-process from the repository root.
fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv: Vec<OsString> = vec![
        "stackctl".into(),
        "--stacks-dir".into(),
        repo_root().join("stacks").into(),
    ];
    argv.extend(args.iter().map(OsString::from));
    let code = stackctl::cli::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// One seed stack names handler crates that are not written yet: `build`
/// and `deploy` would fail on them, so `validate` says so, at the line.
#[test]
fn validate_passes_the_seed_stacks_with_code_and_reports_the_crates_not_written_yet() {
    let (code, out, err) = run(&["validate"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "validate writes messages to stderr only");
    for written in ["ebay-sniper", "fleet-console", "guitar-collection"] {
        let path = repo_root().join(format!("stacks/{written}.yaml"));
        assert!(err.contains(&format!("ok: {}", path.display())), "{err}");
    }
    let (stack, line, krate) = ("cloud-platform", 79, "platform-users");
    let place = format!(
        "{}:{line}:12",
        repo_root().join(format!("stacks/{stack}.yaml")).display()
    );
    assert!(err.contains(&place), "{place} not in:\n{err}");
    assert!(
        err.contains(&format!(
            "there is no crate `{krate}` with a binary in this workspace"
        )),
        "{err}"
    );
    assert!(
        err.ends_with("5 errors, 0 warnings in 1 of 4 stacks\n"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "validate",
        "guitar-collection",
        "fleet-console",
        "ebay-sniper",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn validate_reports_every_problem_with_place_and_hint_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.yaml",
        "name: bad\nfunctions:\n  api:\n    crate: guitar-user\n    memory: 20000\n    timout: 3\n",
    );
    let (code, _, err) = run(&["validate", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.yaml:5:13"), "{err}");
    assert!(
        err.contains("unknown field `timout`") && err.contains("did you mean `timeout`?"),
        "{err}"
    );
    assert!(
        err.contains("2 errors, 0 warnings in 1 of 1 stack"),
        "{err}"
    );
}

#[test]
fn validate_json_output_is_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.yaml", "name: bad\nenvironments: {dev: {}, prod: {functions: {api: {memory: 1}}}}\nfunctions:\n  api: {crate: guitar-user}\n");
    let (code, out, _) = run(&["validate", "--output", "json", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["environments"], serde_json::json!(["prod"]));
}

#[test]
fn render_writes_a_template_to_stdout() {
    let (code, out, err) = run(&["render", "--env", "prod", "guitar-collection"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"),
        "{}",
        &out[..200]
    );
    let (code, json_out, _) = run(&[
        "render",
        "--env",
        "prod",
        "--format",
        "json",
        "guitar-collection",
    ]);
    assert_eq!(code, 0);
    let template: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(template["Metadata"]["stackctl"]["env"], "prod");
}

#[test]
fn render_of_several_stacks_needs_an_output_folder() {
    let (code, out, err) = run(&["render", "--env", "dev"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("--out DIR"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[
        "render",
        "--env",
        "dev",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "cloud-platform-dev.yaml",
            "ebay-sniper-dev.yaml",
            "fleet-console-dev.yaml",
            "guitar-collection-dev.yaml"
        ]
    );
}

#[test]
fn unknown_stacks_and_environments_get_suggestions() {
    let (code, _, err) = run(&["render", "--env", "prod", "guitar-colection"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `guitar-collection`?"), "{err}");
    let (code, _, err) = run(&["render", "--env", "prdo", "guitar-collection"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no environment `prdo`") && err.contains("did you mean `prod`?"),
        "{err}"
    );
}

#[test]
fn template_overrides_replace_built_in_templates() {
    let dir = tempfile::tempdir().unwrap();
    let builtin =
        std::fs::read_to_string(repo_root().join("crates/core/templates/sns_topic.yaml")).unwrap();
    write(
        dir.path(),
        "sns_topic.yaml",
        &builtin.replace(
            "    KmsMasterKeyId:",
            "    FifoTopic: false\n    KmsMasterKeyId:",
        ),
    );
    let (code, out, err) = run(&[
        "render",
        "--env",
        "dev",
        "--templates",
        dir.path().to_str().unwrap(),
        "guitar-collection",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("FifoTopic: false"));

    write(
        dir.path(),
        "sns_topic.yaml",
        "{{json id}}:\n  Type: [unclosed\n",
    );
    let (code, _, err) = run(&[
        "render",
        "--env",
        "dev",
        "--templates",
        dir.path().to_str().unwrap(),
        "guitar-collection",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("template `sns_topic` did not produce valid YAML"),
        "{err}"
    );

    std::fs::remove_file(dir.path().join("sns_topic.yaml")).unwrap();
    write(dir.path(), "sns_topc.yaml", "x: 1\n");
    let (code, _, err) = run(&[
        "render",
        "--env",
        "dev",
        "--templates",
        dir.path().to_str().unwrap(),
        "guitar-collection",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no built-in template `sns_topc`"), "{err}");
}

#[test]
fn a_template_referring_to_a_missing_field_fails_in_strict_mode() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.yaml", "{{json id}}:\n  Type: AWS::SecretsManager::Secret\n  Properties: {Name: {{json no_such_field}} }\n");
    let (code, _, err) = run(&[
        "render",
        "--env",
        "dev",
        "--templates",
        dir.path().to_str().unwrap(),
        "ebay-sniper",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("template `secret` failed to render"), "{err}");
}

#[test]
fn an_override_that_puts_the_account_setting_in_an_application_stack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let builtin =
        std::fs::read_to_string(repo_root().join("crates/core/templates/rest_api.yaml")).unwrap();
    let account = "ApiGatewayAccount:\n  Type: AWS::ApiGateway::Account\n  Properties:\n    CloudWatchRoleArn: arn:aws:iam::123456789012:role/logs\n";
    write(dir.path(), "rest_api.yaml", &format!("{builtin}{account}"));
    let (code, out, err) = run(&[
        "render",
        "--env",
        "dev",
        "--templates",
        dir.path().to_str().unwrap(),
        "fleet-console",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("`ApiGatewayAccount` is an AWS::ApiGateway::Account, of which an AWS account and region has exactly one"), "{err}");
    assert!(
        err.contains("stackctl-account-settings"),
        "the hint says where it lives instead: {err}"
    );
}

#[test]
fn committed_schema_is_current() {
    let (code, out, _) = run(&["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(repo_root().join("schema/stack.schema.json")).unwrap();
    assert!(
        out == committed,
        "schema/stack.schema.json is stale: run `stackctl schema > schema/stack.schema.json`"
    );
}

#[test]
fn the_binary_has_documented_exit_codes_and_examples_in_help() {
    for command in ["validate", "render", "build", "diff", "outputs", "schema"] {
        let assert = Command::cargo_bin("stackctl")
            .unwrap()
            .args([command, "--help"])
            .assert()
            .success();
        let help = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        assert!(
            help.contains("Examples:"),
            "`{command} --help` shows no example:\n{help}"
        );
    }
    Command::cargo_bin("stackctl")
        .unwrap()
        .current_dir(repo_root())
        .args(["validate", "guitar-collection"])
        .assert()
        .code(0);
    Command::cargo_bin("stackctl")
        .unwrap()
        .args(["render"])
        .assert()
        .code(2);
    Command::cargo_bin("stackctl")
        .unwrap()
        .current_dir(repo_root())
        .args(["render", "--env", "dev", "nope"])
        .assert()
        .code(1);
}

#[test]
fn deploy_refuses_a_dotenv_outputs_file_for_several_stacks_before_touching_aws() {
    let (code, out, err) = run(&["deploy", "--env", "dev", "--outputs-file", "out.env"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains(
            "a dotenv outputs file holds one stack's outputs, and 4 stacks are being deployed"
        ),
        "{err}"
    );
    assert!(err.contains("--outputs-file outputs.json"), "{err}");
}

#[test]
fn deploy_and_destroy_explain_their_flags() {
    let (code, out, _) = run(&["deploy", "--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--require-approval",
        "--allow-replace",
        "--concurrency",
        "--outputs-file",
        "--wait-busy",
        "depends_on",
    ] {
        assert!(out.contains(flag), "deploy --help mentions {flag}");
    }
    let (code, out, _) = run(&["destroy", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--yes") && out.contains("termination protection"),
        "{out}"
    );
    let (code, _, err) = run(&["deploy", "--env", "dev", "--concurrency", "0"]);
    assert_eq!(code, 2, "{err}");
}
