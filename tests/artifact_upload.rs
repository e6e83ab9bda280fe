//! `stackctl build --upload` against the emulator's S3: the artifact bucket
//! is created private, versioned and encrypted; packages land under their
//! content-addressed keys; building again without changes uploads nothing.

mod support;

use std::process::Command;
use support::moto::Moto;
use support::{ensure, repo_root, ZIGBUILD};

fn build_and_upload(moto: &Moto, build_dir: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .arg("--build-dir")
        .arg(build_dir)
        .args(["build", "--upload", "--env", "dev", "guitar-collection"])
        .current_dir(repo_root())
        .env("STACKCTL_ZIGBUILD", ensure(&ZIGBUILD))
        .env("CI", "true")
        .envs(moto.env())
        .output()
        .expect("run stackctl");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[tokio::test]
async fn unchanged_packages_are_uploaded_once() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let first = build_and_upload(&moto, dir.path());
    assert!(
        first.contains(
            "uploaded 4 packages, 0 already in s3://stackctl-artifacts-123456789012-us-east-1"
        ),
        "{first}"
    );
    let second = build_and_upload(&moto, dir.path());
    assert!(
        second.contains("uploaded 0 packages, 4 already in"),
        "{second}"
    );

    moto.export();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = "stackctl-artifacts-123456789012-us-east-1";
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("builds/guitar-collection-dev.json")).unwrap(),
    )
    .unwrap();
    for (function, a) in manifest["artifacts"].as_object().unwrap() {
        let head = s3
            .head_object()
            .bucket(bucket)
            .key(a["key"].as_str().unwrap())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{function} not uploaded: {e:?}"));
        assert_eq!(head.content_length(), a["size"].as_i64(), "{function}");
    }
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(v) => assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled")),
        // moto 5.2.5 names the XML root `GetBucketVersioningResponse`, which the
        // SDK refuses to parse; the status is in the body all the same.
        Err(e) => {
            let body = e
                .raw_response()
                .and_then(|r| r.body().bytes())
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            assert!(
                body.contains("<Status>Enabled</Status>"),
                "versioning is not enabled: {body}"
            );
        }
    }
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(encryption.server_side_encryption_configuration().is_some());
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (block.block_public_acls(), block.restrict_public_buckets()),
        (Some(true), Some(true))
    );
}

#[test]
fn a_missing_region_or_credential_is_one_sentence_and_a_hint_that_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    // Packages are built by the other tests; an empty stack dir needs no build.
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join("stacks/s.yaml"),
        "name: s\nfunctions:\n  f: {zip: {path: f.zip}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stacks/f.zip"),
        stackctl::artifact::zip::bootstrap_zip(b"x"),
    )
    .unwrap();
    // Without --upload: the prebuilt zip is hashed and recorded like a built crate.
    let built = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["build", "--env", "dev"])
        .current_dir(dir.path())
        .env("STACKCTL_ZIGBUILD", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".stackctl/builds/s-dev.json")).unwrap(),
    )
    .unwrap();
    let zip = std::fs::read(dir.path().join("stacks/f.zip")).unwrap();
    let sha = stackctl::artifact::sha256(&zip);
    assert_eq!(
        manifest["artifacts"]["f"]["sha256"],
        serde_json::json!(sha.hex)
    );
    assert_eq!(
        manifest["artifacts"]["f"]["key"],
        serde_json::json!(format!("artifacts/s/f/{}.zip", sha.hex))
    );
    let rendered = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["render", "--env", "dev", "s"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&rendered.stdout)
            .contains(&format!("S3Key: artifacts/s/f/{}.zip", sha.hex)),
        "render references the built package"
    );

    // Every command that reaches AWS says the same, on one line.
    for (args, extra_env) in [
        (vec!["build", "--upload", "--env", "dev"], vec![]),
        (vec!["deploy", "--env", "dev"], vec![]),
        (vec!["diff", "--env", "dev"], vec![]),
        (vec!["destroy", "--env", "dev", "--yes", "s"], vec![]),
        (
            vec!["deploy", "--env", "dev", "--region", "eu-west-1"],
            vec![("AWS_EC2_METADATA_DISABLED", "true")],
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("HOME", dir.path())
            .env("STACKCTL_ZIGBUILD", "/nonexistent")
            .envs(extra_env)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(error_lines.len(), 1, "{args:?}: one error line: {stderr}");
        // One sentence, then a hint that says what to set.
        let (expected, hint) = if args.contains(&"--region") {
            (
                "error: cannot find out whose the AWS credentials are (STS GetCallerIdentity): no AWS credentials were found",
                "  = hint: set AWS_PROFILE or pass --profile",
            )
        } else {
            (
                "error: cannot choose an AWS region: no AWS region is set",
                "  = hint: pass --region, set AWS_REGION",
            )
        };
        assert_eq!(error_lines[0], expected, "{args:?}: {stderr}");
        assert!(
            stderr.lines().any(|l| l.starts_with(hint)),
            "{args:?}: {stderr}"
        );
    }
}
