//! `stackctl logs` against the emulator: a small stack (two functions that
//! log, one whose log group is gone, an HTTP API) is deployed with a
//! stand-in package; lines written with PutLogEvents into two functions'
//! groups come back merged in time order and tagged with the functions'
//! stack-file names; one function, `--filter`, `--since` and `--output json`
//! narrow or reshape them; `--tail` follows a line written after it started
//! and ends with exit 0 on Ctrl-C; an unknown function is refused.

mod support;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::moto::Moto;

const STACK: &str = "name: logtest
functions:
  orders:
    zip: {path: \"STAND_IN\"}
  payments:
    zip: {path: \"STAND_IN\"}
  quiet:
    zip: {path: \"STAND_IN\"}
apis:
  public:
    type: http
    routes:
      GET /orders: {function: orders, public: true}
";

/// A deployed logtest-dev and how to run stackctl on it.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let stand_in = dir.path().join("stand-in.zip");
        std::fs::write(
            &stand_in,
            stackctl::artifact::zip::bootstrap_zip(b"#!/bin/sh\necho stand-in\n"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::write(
            dir.path().join("stacks/logtest.yaml"),
            STACK.replace("STAND_IN", &stand_in.display().to_string()),
        )
        .unwrap();
        Project { dir }
    }

    fn command(&self, moto: &Moto, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stackctl"));
        command
            .arg("--stacks-dir")
            .arg(self.dir.path().join("stacks"))
            .arg("--build-dir")
            .arg(self.dir.path().join(".stackctl"))
            .args(args)
            .current_dir(self.dir.path())
            .envs(moto.env())
            .env("CI", "true");
        command
    }

    fn run(&self, moto: &Moto, args: &[&str]) -> (Option<i32>, String, String) {
        let out: Output = self.command(moto, args).output().expect("run stackctl");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `logs --env dev logtest ARGS…`, which must succeed: its stdout.
    fn logs(&self, moto: &Moto, args: &[&str]) -> String {
        let mut all = vec!["logs", "--env", "dev", "logtest"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = self.run(moto, &all);
        assert_eq!(code, Some(0), "logs {args:?}:\n{stdout}\n{stderr}");
        stdout
    }
}

/// `HH:MM:SS.mmm name  message` → (name, message).
fn tagged(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|line| {
            let (_time, rest) = line.split_once(' ').expect("a time first");
            let (name, message) = rest.split_once("  ").expect("two spaces after the name");
            (name.trim().to_string(), message.trim_start().to_string())
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(n, m)| (n.to_string(), m.to_string()))
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn put(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    events: &[(i64, &str)],
) {
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(
            events
                .iter()
                .map(|(t, m)| {
                    InputLogEvent::builder()
                        .timestamp(*t)
                        .message(*m)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
}

/// The deployed log groups by logical id (never guessed from names).
async fn log_groups(moto: &Moto) -> BTreeMap<String, String> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config().await);
    let listed = cfn
        .list_stack_resources()
        .stack_name("logtest-dev")
        .send()
        .await
        .unwrap();
    listed
        .stack_resource_summaries()
        .iter()
        .filter(|r| r.resource_type() == Some("AWS::Logs::LogGroup"))
        .map(|r| {
            (
                r.logical_resource_id().unwrap().to_string(),
                r.physical_resource_id().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn logs_are_merged_tagged_narrowed_and_followed() {
    let moto = Moto::start();
    let project = Project::new();
    let (code, stdout, stderr) = project.run(
        &moto,
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "never",
            "logtest",
        ],
    );
    assert_eq!(code, Some(0), "deploy:\n{stdout}\n{stderr}");

    let groups = log_groups(&moto).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let (orders, payments) = (
        &groups["OrdersFunctionLogGroup"],
        &groups["PaymentsFunctionLogGroup"],
    );
    // quiet's group is gone (as if never created): said once, not an error.
    logs.delete_log_group()
        .log_group_name(&groups["QuietFunctionLogGroup"])
        .send()
        .await
        .unwrap();
    let base = now_ms() - 5 * 60_000;
    put(
        &logs,
        orders,
        "a",
        &[(base, "order 1\n"), (base + 2_000, "order 3\n")],
    )
    .await;
    put(
        &logs,
        orders,
        "b",
        &[(base + 4_000, "ERROR order 5 failed\n")],
    )
    .await;
    put(
        &logs,
        payments,
        "c",
        &[
            (now_ms() - 2 * 3_600_000, "payment 0, long ago\n"),
            (base + 1_000, "payment 2\n"),
            (base + 2_000, "payment 3, same millisecond\n"),
            (base + 3_000, "payment 4\nsecond line\n"),
        ],
    )
    .await;

    // Everything of the last 10 minutes, merged, tagged; the tie goes to
    // the function first in the stack.
    let (code, stdout, stderr) = project.run(&moto, &["logs", "--env", "dev", "logtest"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    println!("{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    assert_eq!(
        tagged(&lines[..5].join("\n")),
        pairs(&[
            ("orders", "order 1"),
            ("payments", "payment 2"),
            ("orders", "order 3"),
            ("payments", "payment 3, same millisecond"),
            ("payments", "payment 4"),
        ]),
        "{stdout}"
    );
    assert_eq!(
        lines[5].trim_start(),
        "second line",
        "under the message column: {stdout}"
    );
    assert_eq!(lines[5].find("second"), lines[4].find("payment 4"));
    assert!(
        lines[6].ends_with("orders    ERROR order 5 failed"),
        "{stdout}"
    );
    assert_eq!(
        stderr.matches("does not exist yet").count(),
        1,
        "quiet's missing group, once: {stderr}"
    );
    assert!(
        stderr.contains("quiet: log group") && stderr.contains("does not exist yet"),
        "{stderr}"
    );

    // One function.
    let only = project.logs(&moto, &["orders"]);
    assert_eq!(
        tagged(&only)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["orders", "orders", "orders"],
        "{only}"
    );

    // A filter pattern, passed to the service (moto knows single terms
    // and quoted phrases; a JSON pattern it lets everything through).
    let errors = project.logs(&moto, &["--filter", "ERROR"]);
    assert_eq!(
        tagged(&errors),
        pairs(&[("orders", "ERROR order 5 failed")])
    );
    let phrase = project.logs(&moto, &["--filter", "\"same millisecond\""]);
    assert_eq!(
        tagged(&phrase),
        pairs(&[("payments", "payment 3, same millisecond")])
    );

    // --since: the long-ago line only in a span that reaches it.
    assert!(!stdout.contains("long ago"));
    let longer = project.logs(&moto, &["payments", "--since", "3h"]);
    assert!(
        longer
            .lines()
            .next()
            .unwrap()
            .ends_with("payments  payment 0, long ago"),
        "{longer}"
    );

    // One JSON object per line.
    let json = project.logs(&moto, &["orders", "--output", "json"]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["function"], "orders");
    assert_eq!(first["group"], orders.as_str());
    assert_eq!(first["stream"], "a");
    assert_eq!(first["message"], "order 1");
    assert!(
        first["timestamp"].as_str().unwrap().ends_with('Z'),
        "{first}"
    );

    // An unknown function is refused, with the stack's names.
    let (code, _, stderr) = project.run(&moto, &["logs", "--env", "dev", "logtest", "shipping"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("stack logtest has no function or API named shipping")
            && stderr.contains("orders, payments, quiet, public"),
        "{stderr}"
    );

    tail_follows_a_new_line_and_stops_on_ctrl_c(&moto, &project, &logs, payments).await;
}

async fn tail_follows_a_new_line_and_stops_on_ctrl_c(
    moto: &Moto,
    project: &Project,
    logs: &aws_sdk_cloudwatchlogs::Client,
    payments: &str,
) {
    let mut child = project
        .command(moto, &["logs", "--env", "dev", "logtest", "--tail"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = read_lines(child.stdout.take().unwrap());
    let stderr_lines = read_lines(child.stderr.take().unwrap());
    // The --since span first.
    wait_for(&lines, "ERROR order 5 failed");
    // Following: moto's live tail endpoint cannot be reached, so it polls.
    let note = wait_for(&stderr_lines, "following");
    println!("{note}");
    assert!(note.contains("polling"), "{note}");
    put(
        logs,
        payments,
        "d",
        &[(now_ms(), "payment 6, after the start\n")],
    )
    .await;
    let line = wait_for(&lines, "payment 6, after the start");
    assert!(line.contains(" payments  "), "{line}");
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "Ctrl-C ends a tail cleanly");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(
        !rest.iter().any(|l| l.contains("payment 6")),
        "printed once: {rest:?}"
    );
}

/// A pipe's lines, as they come.
fn read_lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// The first line containing `text`; fails when the output ends without
/// it (or nothing comes for a minute: a hang, not a measurement).
fn wait_for(lines: &mpsc::Receiver<String>, text: &str) -> String {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains(text) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no line with `{text}` ({e}); saw {seen:?}"),
        }
    }
}
