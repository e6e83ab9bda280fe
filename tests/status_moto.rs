//! `stackctl status` against the emulator (tier `tier-emulator`), through
//! the binary: guitar-collection deployed with stand-in packages; a clean
//! run lists every declared alarm and exits 0; error metrics put for a
//! function and its alarm set to ALARM (moto evaluates no alarm itself;
//! SetAlarmState is the API that changes a state) make it exit 1 with that
//! alarm first, its reason, and the counts as put, in both views; the alarm
//! set back to OK gives exit 0 again; before the deploy, the stack is
//! reported as not deployed; when CloudFormation refuses to describe it
//! (a stand-in), it cannot be read: exit 1. The run's AWS requests are counted
//! from the emulator's request log.

mod support;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit, StateValue};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;
use support::fake_cloudformation::{self, error, Call};
use support::moto::Moto;
use support::{repo_root, with_stand_in_package};

const SEED: &str = "guitar-collection";
const STACK: &str = "guitar-collection-dev";
/// Every alarm guitar-collection declares, by its stack-file name.
const ALARMS: [&str; 7] = [
    "api-5xx-rate",
    "auth-error-rate",
    "guitars-error-rate",
    "guitars-throttles",
    "images-error-rate",
    "user-error-rate",
    "users-throttles",
];

/// A copy of the seed whose functions ship one stand-in package (what is
/// tested is what status reads, not the handlers).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    let stand_in = dir.path().join("stand-in.zip");
    std::fs::write(
        &stand_in,
        stackctl::artifact::zip::bootstrap_zip(b"#!/bin/sh\necho stand-in\n"),
    )
    .unwrap();
    let text = with_stand_in_package(
        &std::fs::read_to_string(repo_root().join(format!("stacks/{SEED}.yaml"))).unwrap(),
        &stand_in,
    );
    std::fs::write(dir.path().join(format!("stacks/{SEED}.yaml")), text).unwrap();
    dir
}

fn stackctl(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    stackctl_with(moto, dir, args, &[])
}

fn stackctl_with(moto: &Moto, dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .arg("--stacks-dir")
        .arg(dir.join("stacks"))
        .arg("--build-dir")
        .arg(dir.join(".stackctl"))
        .args(args)
        .current_dir(dir)
        .envs(moto.env())
        .env("CI", "true")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .output()
        .expect("run stackctl")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The request lines the emulator has logged so far.
fn requests(moto: &Moto) -> Vec<String> {
    let log = std::env::temp_dir().join(format!("stackctl-moto-{}.log", moto.port));
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| l.contains(" HTTP/1.1\" "))
        .map(String::from)
        .collect()
}

/// `status --output json` of the one stack.
fn status_json(moto: &Moto, dir: &Path) -> (Option<i32>, Value) {
    let out = stackctl(
        moto,
        dir,
        &["status", "--env", "dev", "--output", "json", SEED],
    );
    let (stdout, stderr) = text(&out);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("one JSON object ({e}):\n{stdout}\n{stderr}"));
    (out.status.code(), report)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn put_lambda_metric(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    function: &str,
    metric: &str,
    values: &[f64],
) {
    let data = values.iter().map(|v| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(
                Dimension::builder()
                    .name("FunctionName")
                    .value(function)
                    .build(),
            )
            .timestamp(DateTime::from_secs(now() - 120))
            .value(*v)
            .unit(StandardUnit::Count)
            .build()
    });
    cloudwatch
        .put_metric_data()
        .namespace("AWS/Lambda")
        .set_metric_data(Some(data.collect()))
        .send()
        .await
        .expect("PutMetricData");
}

async fn set_state(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    alarm: &str,
    state: StateValue,
    reason: &str,
) {
    cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(state)
        .state_reason(reason)
        .send()
        .await
        .expect("SetAlarmState");
}

#[tokio::test]
async fn status_lists_every_alarm_and_gates_on_one_in_alarm() {
    let moto = Moto::start();
    let dir = project();

    // Not deployed yet: said so, with the command that would deploy it.
    let out = stackctl(&moto, dir.path(), &["status", "--env", "dev", SEED]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        format!(
            "{STACK}: not deployed\n  = hint: deploy it with `stackctl deploy --env dev {SEED}`\n"
        )
    );

    let started = Instant::now();
    let out = stackctl(
        &moto,
        dir.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            SEED,
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "deploy failed:\n{stdout}\n{stderr}");
    eprintln!("deploy took {:.1} s", started.elapsed().as_secs_f64());
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&moto.sdk_config().await);

    // A clean stack: exit 0, every declared alarm listed, none in ALARM.
    let before = requests(&moto).len();
    let started = Instant::now();
    let out = stackctl(&moto, dir.path(), &["status", "--env", "dev", SEED]);
    let elapsed = started.elapsed();
    let calls: Vec<String> = requests(&moto)[before..].to_vec();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The benchmark figure (printed, never asserted): five more runs.
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            stackctl(&moto, dir.path(), &["status", "--env", "dev", SEED]);
            started.elapsed().as_secs_f64() * 1e3
        })
        .chain([elapsed.as_secs_f64() * 1e3])
        .collect();
    times.sort_by(f64::total_cmp);
    eprintln!(
        "status of {STACK}: {:.0} ms median of 6 runs ({:.0}-{:.0} ms), {} requests:\n{}\n{stdout}",
        times[3],
        times[0],
        times[5],
        calls.len(),
        calls.join("\n")
    );
    assert!(
        stdout.starts_with(&format!("{STACK}: CREATE_COMPLETE, created ")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  alarms: 0 of {} in ALARM\n", ALARMS.len())),
        "{stdout}"
    );
    // moto creates alarms in OK (AWS: INSUFFICIENT_DATA until evaluated).
    for alarm in ALARMS {
        assert!(
            stdout
                .lines()
                .any(|l| l.split_whitespace().take(2).eq(["OK", alarm])),
            "{alarm} is listed with its state:\n{stdout}"
        );
    }
    // STS, DescribeStacks, ListStackResources, DescribeAlarms, GetMetricData.
    assert_eq!(calls.len(), 5, "{calls:#?}");
    let cloudwatch_calls: Vec<&String> =
        calls.iter().filter(|c| c.contains("/operation/")).collect();
    assert_eq!(cloudwatch_calls.len(), 2, "{calls:#?}");
    assert!(cloudwatch_calls
        .iter()
        .any(|c| c.contains("/operation/DescribeAlarms ")));
    assert!(cloudwatch_calls
        .iter()
        .any(|c| c.contains("/operation/GetMetricData ")));

    // Errors for `guitars`, and its alarm in ALARM.
    let (code, report) = status_json(&moto, dir.path());
    assert_eq!(code, Some(0), "{report}");
    let guitars = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "guitars")
        .unwrap_or_else(|| panic!("guitars is listed: {report}"));
    let function = guitars["function_name"].as_str().unwrap().to_string();
    assert_eq!(function, "guitar-collection-dev-guitars");
    assert_eq!(guitars["invocations"], 0.0, "{report}");
    put_lambda_metric(&cloudwatch, &function, "Invocations", &[12.0, 8.0]).await;
    put_lambda_metric(&cloudwatch, &function, "Errors", &[3.0, 2.0]).await;
    // 100 invocations of 1..=100 ms: the 99th percentile is 99 ms.
    let durations: Vec<f64> = (1..=100).map(f64::from).collect();
    put_lambda_metric(&cloudwatch, &function, "Duration", &durations).await;
    let alarm = format!("{STACK}-guitars-error-rate");
    let reason = "Threshold Crossed: 1 datapoint [25.0] was greater than the threshold (1.0).";
    set_state(&cloudwatch, &alarm, StateValue::Alarm, reason).await;

    let out = stackctl(&moto, dir.path(), &["status", "--env", "dev", SEED]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    eprintln!("{stdout}");
    let alarm_lines: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("  alarms: "))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert_eq!(alarm_lines.len(), ALARMS.len(), "{stdout}");
    let first: Vec<&str> = alarm_lines[0].split_whitespace().take(3).collect();
    assert!(
        first == ["ALARM", "guitars-error-rate", "since"]
            && alarm_lines[0].ends_with(&format!(" UTC: {reason}")),
        "the alarm in ALARM comes first, with its reason:\n{stdout}"
    );
    assert!(
        alarm_lines[1..]
            .iter()
            .all(|l| l.trim_start().starts_with("OK ")),
        "{stdout}"
    );
    assert!(stdout.contains("  alarms: 1 of 7 in ALARM\n"), "{stdout}");
    let guitars_line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("guitars "))
        .unwrap_or_else(|| panic!("a row for guitars:\n{stdout}"));
    let figures: Vec<&str> = guitars_line.split_whitespace().collect();
    assert_eq!(figures, ["guitars", "20", "5", "0", "99", "ms"], "{stdout}");

    let (code, report) = status_json(&moto, dir.path());
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["in_alarm"], 1);
    assert_eq!(report["alarms"][0]["name"], "guitars-error-rate");
    assert_eq!(report["alarms"][0]["alarm_name"], alarm.as_str());
    assert_eq!(report["alarms"][0]["state"], "ALARM");
    assert_eq!(report["alarms"][0]["reason"], reason);
    let since = report["alarms"][0]["since"].as_str().unwrap();
    assert!(since.ends_with('Z') && since.len() == 20, "{since}");
    let guitars = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "guitars")
        .unwrap();
    assert_eq!(guitars["invocations"], 20.0, "{report}");
    assert_eq!(guitars["errors"], 5.0, "{report}");
    assert_eq!(guitars["throttles"], 0.0, "{report}");
    // CloudWatch's `p99` over the window (the emulator computes it since
    // fix 13 of scripts/emulator/moto_server.py; moto itself had none).
    assert_eq!(guitars["p99_duration_ms"], 99.0, "{report}");
    assert_eq!(report["apis"][0]["name"], "main");
    assert_eq!(report["apis"][0]["type"], "http");
    assert_eq!(report["apis"][0]["4xx"], 0.0);
    assert_eq!(report["apis"][0]["5xx"], 0.0);
    let endpoints = report["endpoints"].as_array().unwrap();
    assert!(
        endpoints
            .iter()
            .any(|e| e["output"] == "MainApiUrl"
                && e["url"].as_str().unwrap().starts_with("https://")),
        "{report}"
    );

    // Back to OK: the gate opens again.
    set_state(
        &cloudwatch,
        &alarm,
        StateValue::Ok,
        "Threshold Crossed: back under 1.0",
    )
    .await;
    let out = stackctl(&moto, dir.path(), &["status", "--env", "dev", SEED]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("  alarms: 0 of 7 in ALARM\n"), "{stdout}");

    // CloudFormation refusing to describe the stack (a stand-in; STS and
    // CloudWatch stay on the emulator): the stack cannot be read, exit 1.
    let script = |call: &Call| match call.action.as_str() {
        "DescribeStacks" => error(
            403,
            "AccessDenied",
            "User is not authorized to perform: cloudformation:DescribeStacks",
        ),
        _ => error(400, "ValidationError", "not expected"),
    };
    let (calls, _called) = std::sync::mpsc::channel();
    let port = fake_cloudformation::start(Box::new(script), calls);
    let cloudformation = [(
        "AWS_ENDPOINT_URL_CLOUDFORMATION",
        format!("http://127.0.0.1:{port}"),
    )];
    let out = stackctl_with(
        &moto,
        dir.path(),
        &["status", "--env", "dev", SEED],
        &cloudformation,
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "{STACK}: could not be read: cannot describe stack {STACK}: access denied"
        )),
        "{stdout}"
    );
    assert!(
        stderr.starts_with("error: cannot describe stack "),
        "{stderr}"
    );
    assert!(stderr.contains("\n  = hint: "), "{stderr}");
}
