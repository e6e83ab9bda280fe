//! The command line where it meets AWS, offline: the declared region is
//! checked by every command before any call, and a missing credential reads
//! as one sentence with a hint.

mod support;

use std::path::Path;
use std::process::Command;

/// A project whose one stack must live in us-east-1, with a function
/// packaged from a zip (so `build` has something to upload).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join("stacks/pinned.yaml"),
        "name: pinned\nregion: us-east-1\ntables:\n  items:\n    partition_key: {name: id, type: S}\n",
    )
    .unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> support::in_process::Run {
    support::in_process::run(dir, args, std::io::empty(), false, |_| {})
}

#[test]
fn every_command_that_reaches_aws_refuses_a_region_the_stack_does_not_declare() {
    let dir = project();
    for command in [
        vec!["deploy", "--env", "dev", "--region", "eu-west-1", "pinned"],
        vec!["diff", "--env", "dev", "--region", "eu-west-1", "pinned"],
        vec![
            "destroy",
            "--env",
            "dev",
            "--yes",
            "--region",
            "eu-west-1",
            "pinned",
        ],
        vec!["outputs", "--env", "dev", "--region", "eu-west-1", "pinned"],
    ] {
        let (code, out, err) = run_in(dir.path(), &command);
        assert_eq!(code, 1, "{command:?}: {err}");
        assert!(out.is_empty(), "{command:?}: {out}");
        assert_eq!(
            err,
            "error: pinned-dev belongs in us-east-1 (its `region`), but the AWS region in use is eu-west-1\n  = hint: pass `--region us-east-1`\n",
            "{command:?}"
        );
    }
    let (code, _, err) = run_in(
        dir.path(),
        &["outputs", "--env", "dev", "--region", "Europe", "pinned"],
    );
    assert_eq!((code, err.as_str()), (2, "error: `Europe` is not an AWS region\n  = hint: regions look like `eu-west-1` or `us-east-1`\n"));
}

/// stackctl with nothing from this machine's AWS set-up, and no instance
/// metadata to ask.
fn without_credentials(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_credential_is_one_sentence_with_a_hint_and_the_dump_only_when_asked() {
    let dir = project();
    let (code, err) = without_credentials(dir.path(), &["outputs", "--env", "dev", "pinned"]);
    assert_eq!(code, 1, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "error: cannot find out whose the AWS credentials are (STS GetCallerIdentity): no AWS credentials were found",
        "{err}"
    );
    assert!(
        lines[1].starts_with("  = hint: set AWS_PROFILE or pass --profile"),
        "{err}"
    );
    assert_eq!(lines.len(), 2, "{err}");
    for debug in [
        "DispatchFailure",
        "ErrorMetadata",
        "ConnectorError",
        "Unhandled",
    ] {
        assert!(
            !err.contains(debug),
            "no SDK debug form without --verbose: {err}"
        );
    }
    let (code, verbose) = without_credentials(
        dir.path(),
        &["outputs", "--verbose", "--env", "dev", "pinned"],
    );
    assert_eq!(code, 1);
    assert!(verbose.starts_with(&err), "{verbose}");
    assert!(verbose.contains("details (--verbose):"), "{verbose}");
}
