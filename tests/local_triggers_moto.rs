//! `stackctl local`'s other triggers end to end on the emulator (tier
//! `tier-emulator`): `stackctl local invoke` with an event file and with a
//! schedule's input; while `stackctl local` runs, a schedule fired by
//! typing its name, and an object landing in a notifying bucket delivered
//! to its function as an S3 event. The guitar-collection stack file gets a
//! schedule and a bucket notification for this.
#![cfg(feature = "tier-emulator")]

mod support;

use serde_json::{json, Value};
use std::io::Write;
use std::time::{Duration, Instant};
use support::local::{Local, Project, STACK};
use support::moto::Moto;

fn with_triggers(project: &Project) {
    project.edit(
        "    bucket_name: \"{app}-{env}-{account}\"\n",
        "    bucket_name: \"{app}-{env}-{account}\"\n    notifications:\n      - function: images\n        events: [object_created]\n        prefix: incoming/\n",
    );
    project.edit(
        "\napis:\n",
        "\nschedules:\n  nightly:\n    function: guitars\n    expression: cron(0 2 * * ? *)\n    input: {kind: nightly}\n\napis:\n",
    );
}

/// A payload 2.0 event for `GET /guitars` as the JWT authorizer passes it.
fn list_guitars_event() -> Value {
    json!({
        "version": "2.0", "routeKey": "GET /guitars", "rawPath": "/guitars", "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost",
            "http": {"method": "GET", "path": "/guitars", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r-1", "routeKey": "GET /guitars", "stage": "$default",
            "time": "03/Dec/2026:00:00:00 +0000", "timeEpoch": 1796256000000u64,
            "authorizer": {"jwt": {"claims": {"sub": "user-without-guitars"}, "scopes": null}}
        },
        "isBase64Encoded": false
    })
}

/// `stackctl local invoke --env dev guitar-collection ARGS…`.
fn invoke(project: &Project, moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut all = vec!["local", "invoke", "--env", "dev", STACK];
    all.extend_from_slice(args);
    project.command(moto, &all).output().unwrap()
}

fn wait_for(local: &Local, wanted: &str, seconds: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let text = local.output();
        if text.contains(wanted) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no `{wanted}` within {seconds} s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_schedules_and_bucket_notifications_reach_their_functions() {
    let moto = Moto::start();
    let project = Project::new();
    with_triggers(&project);
    project.deploy(&moto);

    // One invocation with an event file: the answer on stdout.
    let event = project.dir.path().join("list.json");
    std::fs::write(&event, list_guitars_event().to_string()).unwrap();
    let out = invoke(
        &project,
        &moto,
        &["guitars", "--event", event.to_str().unwrap()],
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let answer: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert!(
        stderr.contains("[GuitarsFunction") && stderr.contains("REPORT RequestId"),
        "{stderr}"
    );

    // The schedule's input, sent as the schedule sends it: not an HTTP
    // event, which the guitars function refuses as a function error.
    let out = invoke(&project, &moto, &["guitars", "--schedule", "nightly"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the function failed"), "{stderr}");
    let out = invoke(&project, &moto, &["nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GuitarsFunction"),
        "the functions are listed"
    );

    // While `local` runs: a schedule typed on standard input, and an object
    // landing under the notification's prefix.
    let (local, mut stdin) = Local::start_with_input(&project, &moto, "triggers");
    writeln!(stdin, "nightly").unwrap();
    let printed = wait_for(&local, "firing NightlySchedule → GuitarsFunction", 30);
    assert!(printed.contains("type a schedule's name"), "{printed}");
    wait_for(&local, "[GuitarsFunction", 30);

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&moto.sdk_config().await)
            .force_path_style(true)
            .build(),
    );
    for key in ["elsewhere/ignored.png", "incoming/photo.png"] {
        s3.put_object()
            .bucket("guitar-collection-dev-123456789012")
            .key(key)
            .body(b"not really a png".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    wait_for(&local, "[ImagesFunction", 30);
    drop(stdin);
    let printed = local.stop();
    // One object under the prefix: one invocation of the images function
    // (the key outside it is filtered out, as the unit tests show in detail).
    let starts = printed
        .lines()
        .filter(|l| l.starts_with("[ImagesFunction") && l.contains("* START"))
        .count();
    assert_eq!(starts, 1, "{printed}");
}
