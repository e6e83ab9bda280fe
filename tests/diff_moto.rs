//! `stackctl diff` against the emulator's CloudFormation: a new stack is
//! shown as all new and nothing is created; an existing stack shows exactly
//! what changed; no change set is left behind; its outputs are printed for tools.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::moto::Moto;

const STACK: &str = "name: difftest\ntables:\n  items:\n    partition_key: {name: id, type: S}\n";

fn stackctl(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .current_dir(dir)
        .envs(moto.env())
        .output()
        .expect("run stackctl")
}

fn render(moto: &Moto, dir: &Path) -> String {
    let out = stackctl(
        moto,
        dir,
        &["render", "--env", "dev", "--format", "json", "difftest"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn diff_shows_what_would_change_and_leaves_nothing_behind() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(dir.path().join("stacks/difftest.yaml"), STACK).unwrap();
    moto.export();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let cfn = aws_sdk_cloudformation::Client::new(&sdk);

    // A stack that does not exist: everything is new, nothing is created.
    let out = stackctl(
        &moto,
        dir.path(),
        &["diff", "--env", "dev", "--exit-code", "difftest"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("difftest-dev (new stack): 3 to add, 0 to modify, 0 to remove"),
        "{stdout}"
    );
    assert!(
        cfn.describe_stacks()
            .stack_name("difftest-dev")
            .send()
            .await
            .is_err(),
        "diff created no stack"
    );

    // Deploy the rendered template directly, with the key untagged: the
    // diff must then show exactly that one difference.
    let mut deployed: serde_json::Value = serde_json::from_str(&render(&moto, dir.path())).unwrap();
    deployed["Resources"]["StackKey"]["Properties"]
        .as_object_mut()
        .unwrap()
        .remove("Tags");
    cfn.create_stack()
        .stack_name("difftest-dev")
        .template_body(deployed.to_string())
        .send()
        .await
        .unwrap();
    let out = stackctl(
        &moto,
        dir.path(),
        &["diff", "--env", "dev", "--exit-code", "difftest"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("difftest-dev: 0 to add, 1 to modify, 0 to remove\n  ~ StackKey  AWS::KMS::Key\n      Tags: (none) → "), "{stdout}");

    std::fs::write(
        dir.path().join("stacks/difftest.yaml"),
        format!("{STACK}    stream: new_image\n"),
    )
    .unwrap();
    let out = stackctl(
        &moto,
        dir.path(),
        &[
            "diff",
            "--env",
            "dev",
            "--exit-code",
            "--output",
            "json",
            "difftest",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let changes: Vec<(&str, &str)> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["logical_id"].as_str().unwrap(),
                c["properties"][0]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        vec![("ItemsTable", "StreamSpecification"), ("StackKey", "Tags")],
        "{report}"
    );
    assert_eq!(report["data_loss"], serde_json::json!([]));
    let left = cfn
        .list_change_sets()
        .stack_name("difftest-dev")
        .send()
        .await
        .unwrap();
    assert!(
        left.summaries().is_empty(),
        "the change set was deleted: {:?}",
        left.summaries()
    );

    // Outputs, for tools.
    let out = stackctl(
        &moto,
        dir.path(),
        &["outputs", "--env", "dev", "--format", "json", "difftest"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outputs["ItemsTableName"], "difftest-dev-items", "{outputs}");
    assert!(
        outputs["StackKeyArn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:us-east-1:123456789012:key/"),
        "{outputs}"
    );
    let out = stackctl(&moto, dir.path(), &["outputs", "--env", "prod", "difftest"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stack difftest-prod does not exist"));

    // Changing the key schema is a replacement the deploy would refuse.
    std::fs::write(
        dir.path().join("stacks/difftest.yaml"),
        STACK.replace("name: id", "name: itemId"),
    )
    .unwrap();
    let out = stackctl(&moto, dir.path(), &["diff", "--env", "dev", "difftest"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The table's schema lists KeySchema as conditionally create-only, and moto's
    // change sets carry no verdict of their own (AWS's would say True).
    assert!(stdout.contains("! data loss: ItemsTable (AWS::DynamoDB::Table) would be possibly replaced (Conditional) because KeySchema changes"), "{stdout}");
}
