//! Ctrl-C during a deploy: stackctl stops, removes what it started, says
//! only what it did (nothing, a removal, or a clean-up that failed) or that
//! CloudFormation carries on, and exits 130. CloudFormation is a local
//! stand-in that leaves one call unanswered, so the interrupt reliably lands
//! while stackctl waits on AWS at a known step.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::fake_cloudformation::{
    self, created_change_set, error, missing_stack, ok, stack, stack_events, Call, Script,
};
use support::moto::Moto;

/// A project with one small stack, deployed with CloudFormation at `port`
/// (everything else at the emulator); returns the running stackctl.
fn deploy_with_cloudformation_at(
    moto: &Moto,
    dir: &std::path::Path,
    port: u16,
) -> std::process::Child {
    std::fs::create_dir_all(dir.join("stacks")).unwrap();
    std::fs::write(
        dir.join("stacks/cancelme.yaml"),
        "name: cancelme\ntables:\n  items:\n    partition_key: {name: id, type: S}\n",
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args([
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "cancelme",
        ])
        .current_dir(dir)
        .envs(moto.env())
        .env(
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            format!("http://127.0.0.1:{port}"),
        )
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends Ctrl-C (SIGINT) and collects what stackctl said and its exit code.
fn interrupt(child: std::process::Child) -> (Option<i32>, String) {
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_before_any_change_set_removes_nothing_and_says_so() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // The first CloudFormation call hangs; later ones are refused at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (first_call, called) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            if i == 0 {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = first_call.send(());
                held.push(stream);
            }
        }
    });

    let child = deploy_with_cloudformation_at(&moto, dir.path(), port);
    called
        .recv_timeout(Duration::from_secs(60))
        .expect("stackctl reached CloudFormation");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted; cleaning up"), "{stderr}");
    assert!(stderr.contains("interrupted before cancelme-dev was changed; no change set had been requested, so there was nothing to remove"), "{stderr}");
    assert!(
        !stderr.contains("was removed") && !stderr.contains("was deleted"),
        "no removal is claimed: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "clean-up is bounded: {:?}",
        started.elapsed()
    );
}

const STACK: &str = "cancelme-dev";

/// Runs a deploy against `script` until it asks about its change set (and
/// gets no answer), interrupts it, and returns its exit code, what it said
/// and every action it called.
fn interrupt_while_the_change_set_is_pending(
    script: Box<Script>,
) -> (Option<i32>, String, Vec<String>) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (calls, called) = mpsc::channel();
    let child =
        deploy_with_cloudformation_at(&moto, dir.path(), fake_cloudformation::start(script, calls));
    let mut seen: Vec<String> = Vec::new();
    while !seen.iter().any(|a| a == "DescribeChangeSet") {
        seen.push(
            called
                .recv_timeout(Duration::from_secs(60))
                .expect("stackctl asked about its change set")
                .action,
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    let (code, stderr) = interrupt(child);
    seen.extend(called.try_iter().map(|c| c.action));
    (code, stderr, seen)
}

#[test]
fn ctrl_c_with_a_pending_first_change_set_deletes_the_empty_stack_and_says_so() {
    let (code, stderr, calls) =
        interrupt_while_the_change_set_is_pending(Box::new(|call: &Call| {
            match (call.action.as_str(), call.n) {
                ("DescribeStacks", 0) => missing_stack(STACK),
                // A CREATE change set makes the stack at once, empty.
                ("DescribeStacks", _) => stack(STACK, "REVIEW_IN_PROGRESS", &[]),
                ("CreateChangeSet", _) => created_change_set(STACK),
                ("DeleteStack", _) => ok("DeleteStack", ""),
                _ => None,
            }
        }));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted before cancelme-dev was changed; the new stack's empty shell (REVIEW_IN_PROGRESS) was deleted"), "{stderr}");
    assert_eq!(
        calls.iter().filter(|c| *c == "DeleteStack").count(),
        1,
        "{calls:?}"
    );
}

#[test]
fn ctrl_c_whose_clean_up_fails_says_so_with_the_command_to_finish_it() {
    let (code, stderr, calls) =
        interrupt_while_the_change_set_is_pending(Box::new(|call: &Call| {
            match (call.action.as_str(), call.n) {
                ("DescribeStacks", 0) => missing_stack(STACK),
                ("DescribeStacks", _) => error(
                    403,
                    "AccessDenied",
                    "User is not authorized to perform: cloudformation:DescribeStacks",
                ),
                ("CreateChangeSet", _) => created_change_set(STACK),
                _ => None,
            }
        }));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted before cancelme-dev was changed, but its change set could not be removed ("), "{stderr}");
    assert!(
        stderr.contains("AccessDenied"),
        "the cause is named: {stderr}"
    );
    assert!(stderr.contains("remove it: aws cloudformation delete-change-set --stack-name cancelme-dev --change-set-name stackctl-"), "{stderr}");
    assert!(
        !stderr.contains("was removed") && !stderr.contains("was deleted"),
        "no removal is claimed: {stderr}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c == "DeleteStack" || c == "DeleteChangeSet"),
        "{calls:?}"
    );
}

#[test]
fn ctrl_c_during_execution_says_cloudformation_carries_on() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    // The stack does not exist; a change set is made and executed, and then
    // event polls get no answer, as while a long deploy runs.
    let script = Box::new(|call: &Call| {
        match (call.action.as_str(), call.n) {
        ("DescribeStacks", _) => missing_stack(STACK),
        ("CreateChangeSet", _) => created_change_set(STACK),
        ("DescribeChangeSet", _) => ok("DescribeChangeSet", "<Status>CREATE_COMPLETE</Status><Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>ItemsTable</LogicalResourceId><ResourceType>AWS::DynamoDB::Table</ResourceType></ResourceChange></member></Changes>"),
        ("ExecuteChangeSet", _) => ok("ExecuteChangeSet", ""),
        ("DescribeStackEvents", 0) => stack_events(STACK, &[("e0", STACK, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")]),
        _ => None,
    }
    });
    let (calls, called) = mpsc::channel();
    let child =
        deploy_with_cloudformation_at(&moto, dir.path(), fake_cloudformation::start(script, calls));
    while called
        .recv_timeout(Duration::from_secs(60))
        .expect("stackctl executed the change set")
        .action
        != "ExecuteChangeSet"
    {}
    std::thread::sleep(Duration::from_millis(300));
    let (code, stderr) = interrupt(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("stopped watching cancelme-dev; CloudFormation carries on with the deploy"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws cloudformation describe-stack-events --stack-name cancelme-dev"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("change set was removed"),
        "an executing change set is not touched: {stderr}"
    );
}
