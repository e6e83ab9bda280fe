//! The supervisor driven against real processes: this test binary started
//! again as a fake `bootstrap` (see [`fake_bootstrap`]).

mod fake_bootstrap;

use super::*;
use fake_bootstrap::{MODE, TEST_NAME};
use serde_json::{json, Value};
use std::ffi::OsString;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// A template entry as `local::template` reads one.
pub(crate) fn spec(logical_id: &str, architecture: &str) -> FunctionSpec {
    let name = format!("stack-{logical_id}");
    FunctionSpec {
        logical_id: logical_id.into(),
        arn: format!("arn:aws:lambda:eu-west-1:123456789012:function:{name}"),
        log_group: format!("/aws/lambda/{name}"),
        name,
        memory_mb: 128,
        timeout_s: 3,
        role_arn: "arn:aws:iam::123456789012:role/stack-api".into(),
        architecture: architecture.into(),
        code_key: "artifacts/app/api/0.zip".into(),
        environment: vec![
            ("GREETING".into(), "hello".into()),
            ("SHARED".into(), "from the template".into()),
        ],
        reserved_concurrency: None,
    }
}

/// The fake bootstrap as a function, started in `mode`.
fn fake_with(
    mode: &str,
    spec: FunctionSpec,
    limits: Limits,
) -> (Function, UnboundedReceiver<LogLine>) {
    let me = std::env::current_exe().unwrap();
    let command = BootstrapCommand {
        args: [
            TEST_NAME,
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
            "--quiet",
        ]
        .map(OsString::from)
        .to_vec(),
        task_root: me.parent().unwrap().to_path_buf(),
        program: me,
    };
    let config = FunctionConfig {
        spec,
        command,
        extra_environment: vec![
            (MODE.into(), mode.into()),
            ("SHARED".into(), "from the caller".into()),
            ("AWS_ACCESS_KEY_ID".into(), "ASIAFUNCTIONROLE".into()),
        ],
    };
    let (logs, lines) = unbounded_channel();
    (Function::new(config, logs, limits), lines)
}

fn fake(mode: &str) -> (Function, UnboundedReceiver<LogLine>) {
    fake_with(mode, spec("Api", "x86_64"), Limits::default())
}

async fn call(function: &Function, command: Value) -> Invoked {
    function.invoke(command.to_string().into_bytes()).await
}

/// The JSON answer of a successful invocation.
fn answer(invoked: &Invoked) -> Value {
    match &invoked.result {
        InvokeResult::Response(body) => serde_json::from_slice(body).unwrap(),
        other => panic!("not a response: {other:?}"),
    }
}

fn pid_of(invoked: &Invoked) -> u64 {
    answer(invoked)["pid"].as_u64().unwrap()
}

/// Whether process `pid` still runs (a zombie does not).
fn running(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !matches!(
            stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]),
            Some("Z" | "X")
        )
    })
}

async fn gone(pid: u64) -> bool {
    for _ in 0..200 {
        if !running(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Log lines until one satisfies `last`, or all seen within two seconds.
async fn lines_until(
    lines: &mut UnboundedReceiver<LogLine>,
    last: impl Fn(&LogLine) -> bool,
) -> Vec<LogLine> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Some(line)) = tokio::time::timeout_at(deadline, lines.recv()).await {
        let done = last(&line);
        seen.push(line);
        if done {
            break;
        }
    }
    seen
}

/// The pid the fake prints as it starts.
async fn started_pid(lines: &mut UnboundedReceiver<LogLine>) -> u64 {
    let seen = lines_until(lines, |l| l.text.starts_with("initializing pid")).await;
    let line = seen.last().expect("the fake announced itself");
    line.text.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn a_function_can_be_shared_between_tasks() {
    fn send_and_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (function, _lines) = fake("run");
    send_and_sync(&function);
    send(&function.invoke(Vec::new()));
    send(&function.shutdown());
}

#[tokio::test]
async fn the_function_sees_lambdas_environment_and_not_ours() {
    let (function, _lines) = fake("run");
    let invoked = call(&function, json!({ "echo": "round trip" })).await;
    let answer = answer(&invoked);
    assert_eq!(answer["echo"], "round trip");
    let env = answer["env"].as_object().unwrap();
    let var = |name: &str| {
        env.get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} in {env:?}"))
    };
    assert_eq!(var("AWS_LAMBDA_FUNCTION_NAME"), "stack-Api");
    assert_eq!(var("AWS_LAMBDA_FUNCTION_VERSION"), "$LATEST");
    assert_eq!(var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "128");
    assert_eq!(var("AWS_LAMBDA_LOG_GROUP_NAME"), "/aws/lambda/stack-Api");
    assert_eq!(var("AWS_REGION"), "eu-west-1");
    assert_eq!(var("AWS_DEFAULT_REGION"), "eu-west-1");
    assert_eq!(var("_HANDLER"), "bootstrap");
    assert_eq!(var("TZ"), ":UTC");
    assert_eq!(var("LANG"), "en_US.UTF-8");
    assert!(var("AWS_LAMBDA_RUNTIME_API").starts_with("127.0.0.1:"));
    let stream = var("AWS_LAMBDA_LOG_STREAM_NAME");
    assert_eq!(stream.len(), "2026/12/03/[$LATEST]".len() + 32, "{stream}");
    assert_eq!(&stream[10..20], "/[$LATEST]", "{stream}");
    assert_eq!(var("GREETING"), "hello", "the template's variables");
    assert_eq!(var("SHARED"), "from the caller", "the caller's win");
    assert_eq!(var("AWS_ACCESS_KEY_ID"), "ASIAFUNCTIONROLE");
    let root = var("LAMBDA_TASK_ROOT");
    assert_eq!(answer["cwd"], root, "it runs in its task root");
    assert!(var("LD_LIBRARY_PATH").contains(root));
    let leaked: Vec<_> = env
        .keys()
        .filter(|k| {
            k.starts_with("CARGO") || ["HOME", "USER", "RUST_TEST_THREADS"].contains(&k.as_str())
        })
        .collect();
    assert!(leaked.is_empty(), "{leaked:?} leaked into the function");
    assert!(invoked.init_duration.is_some(), "a cold start");
}

#[tokio::test]
async fn a_warm_instance_is_reused_without_init() {
    let (function, _lines) = fake("run");
    let first = call(&function, json!({})).await;
    let second = call(&function, json!({})).await;
    assert!(first.init_duration.is_some());
    assert_eq!(second.init_duration, None);
    assert_eq!(pid_of(&first), pid_of(&second));
    assert!(second.max_memory_mb > 0, "{second:?}");
    assert_ne!(first.request_id, second.request_id);
}

#[tokio::test]
async fn the_init_phase_is_timed_apart_from_the_invocation() {
    let (function, _lines) = fake("slow_init:300");
    let invoked = call(&function, json!({})).await;
    let init = invoked.init_duration.unwrap();
    assert!(init >= Duration::from_millis(300), "{init:?}");
    assert!(
        invoked.duration < Duration::from_millis(300),
        "{:?}",
        invoked.duration
    );
}

#[tokio::test]
async fn concurrent_invocations_get_instances_up_to_the_reserved_concurrency() {
    let mut two = spec("Api", "x86_64");
    two.reserved_concurrency = Some(2);
    let (function, _lines) = fake_with("run", two, Limits::default());
    let (a, b, c) = tokio::join!(
        call(&function, json!({ "sleep_ms": 0 })),
        call(&function, json!({ "sleep_ms": 300 })),
        call(&function, json!({ "sleep_ms": 0 })),
    );
    assert_eq!(
        c.result,
        InvokeResult::Throttled,
        "over the cap at once, not queued"
    );
    assert_ne!(pid_of(&a), pid_of(&b), "two instances");
    // The last one parked is the first one reused.
    let next = call(&function, json!({})).await;
    assert_eq!(pid_of(&next), pid_of(&b));

    let limits = Limits {
        default_concurrency: 1,
        ..Limits::default()
    };
    let (single, _lines) = fake_with("run", spec("Api", "x86_64"), limits);
    let (first, second) = tokio::join!(
        call(&single, json!({ "sleep_ms": 100 })),
        call(&single, json!({}))
    );
    // Without reserved concurrency Lambda would run both: the second waits
    // for the one local instance instead of failing.
    assert!(
        matches!(second.result, InvokeResult::Response(_)),
        "{:?}",
        second.result
    );
    assert_eq!(pid_of(&first), pid_of(&second));
}

#[tokio::test]
async fn a_timeout_kills_the_process_and_the_next_call_starts_cold() {
    let mut quick = spec("Api", "x86_64");
    quick.timeout_s = 1;
    let (function, mut lines) = fake_with("run", quick, Limits::default());
    let invoked = call(&function, json!({ "sleep_ms": 10_000 })).await;
    let InvokeResult::Timeout { after, body } = &invoked.result else {
        panic!("{invoked:?}");
    };
    assert_eq!(*after, Duration::from_secs(1));
    assert!(
        invoked.duration >= Duration::from_secs(1) && invoked.duration < Duration::from_secs(3)
    );
    let message = serde_json::from_slice::<Value>(body).unwrap()["errorMessage"]
        .as_str()
        .unwrap()
        .to_string();
    let suffix = format!(" {} Task timed out after 1.00 seconds", invoked.request_id);
    assert!(message.ends_with(&suffix), "{message}");
    assert_eq!(
        message.len(),
        "2026-12-03T10:00:00.000Z".len() + suffix.len(),
        "{message}"
    );
    assert!(
        gone(started_pid(&mut lines).await).await,
        "killed at the deadline"
    );
    let next = call(&function, json!({})).await;
    assert!(next.init_duration.is_some(), "cold again");
}

#[tokio::test]
async fn going_over_the_memory_size_is_out_of_memory() {
    let (function, mut lines) = fake("run");
    let invoked = call(&function, json!({ "allocate_mb": 300 })).await;
    let InvokeResult::OutOfMemory { used_mb, body } = &invoked.result else {
        panic!("{invoked:?}");
    };
    assert!(*used_mb > 128, "{used_mb}");
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["errorType"], "Runtime.OutOfMemory");
    assert!(
        invoked.duration < Duration::from_secs(3),
        "killed long before its timeout"
    );
    assert!(gone(started_pid(&mut lines).await).await);
}

#[tokio::test]
async fn a_crash_is_an_exit_error_with_its_status_and_the_instance_is_replaced() {
    let (function, _lines) = fake("run");
    let invoked = call(&function, json!({ "exit": 3 })).await;
    let InvokeResult::Crashed { reason, body } = &invoked.result else {
        panic!("{invoked:?}");
    };
    assert_eq!(reason, "exit status 3");
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["errorType"], "Runtime.ExitError");
    let expected = format!(
        "RequestId: {} Error: Runtime exited with error: exit status 3",
        invoked.request_id
    );
    assert_eq!(body["errorMessage"], expected);
    assert!(call(&function, json!({})).await.init_duration.is_some());
}

#[tokio::test]
async fn an_idle_instance_whose_process_died_is_not_reused() {
    let (function, _lines) = fake("run");
    let pid = pid_of(&call(&function, json!({})).await);
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
    assert!(killed.unwrap().success());
    assert!(gone(pid).await);
    let next = call(&function, json!({})).await;
    assert!(next.init_duration.is_some(), "{next:?}");
    assert_ne!(pid_of(&next), pid);
}

#[tokio::test]
async fn a_function_error_keeps_its_type_and_the_instance_warm() {
    let (function, _lines) = fake("run");
    let first = call(&function, json!({})).await;
    let failed = call(&function, json!({ "error": "ValidationError" })).await;
    let InvokeResult::FunctionError { error_type, body } = &failed.result else {
        panic!("{failed:?}");
    };
    assert_eq!(error_type, "ValidationError");
    assert_eq!(failed.result.error_payload(), Some(body.as_slice()));
    assert_eq!(
        serde_json::from_slice::<Value>(body).unwrap()["errorMessage"],
        "it broke"
    );
    assert_eq!(pid_of(&call(&function, json!({})).await), pid_of(&first));
}

#[tokio::test]
async fn an_answer_over_six_megabytes_is_refused() {
    let (function, _lines) = fake("run");
    let invoked = call(&function, json!({ "big": 7_000_000 })).await;
    let InvokeResult::ResponseTooLarge { body } = &invoked.result else {
        panic!("{invoked:?}");
    };
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["errorType"], "Function.ResponseSizeTooLarge");
}

#[tokio::test]
async fn an_init_error_ends_the_invocation_and_every_try_starts_afresh() {
    let (function, _lines) = fake("init_error");
    for _ in 0..2 {
        let invoked = call(&function, json!({})).await;
        let InvokeResult::InitError { error_type, body } = &invoked.result else {
            panic!("{invoked:?}");
        };
        assert_eq!(error_type, "Runtime.TestInit");
        assert!(String::from_utf8_lossy(body).contains("no table"));
        assert!(invoked.init_duration.is_some());
    }
}

#[tokio::test]
async fn exiting_before_the_first_event_is_an_init_error_with_the_status() {
    let (function, _lines) = fake("exit_at_init");
    let invoked = call(&function, json!({})).await;
    let InvokeResult::InitError { error_type, body } = &invoked.result else {
        panic!("{invoked:?}");
    };
    assert_eq!(error_type, "Runtime.ExitError");
    assert!(String::from_utf8_lossy(body).contains("Runtime exited with error: exit status 2"));
}

#[tokio::test]
async fn an_init_over_its_limit_is_killed() {
    let limits = Limits {
        init_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let (function, mut lines) = fake_with("slow_init:10000", spec("Api", "x86_64"), limits);
    let invoked = call(&function, json!({})).await;
    assert!(
        matches!(&invoked.result, InvokeResult::InitError { error_type, .. } if error_type == "Sandbox.Timedout"),
        "{invoked:?}"
    );
    assert!(invoked.init_duration.unwrap() < Duration::from_secs(2));
    assert!(gone(started_pid(&mut lines).await).await);
}

#[tokio::test]
async fn a_program_that_cannot_start_is_an_invalid_entrypoint() {
    let (mut function, _lines) = fake("run");
    function.config.command.program = "/nonexistent/bootstrap".into();
    let invoked = call(&function, json!({})).await;
    assert!(
        matches!(&invoked.result, InvokeResult::InitError { error_type, .. } if error_type == "Runtime.InvalidEntrypoint"),
        "{invoked:?}"
    );
}

#[tokio::test]
async fn output_is_tagged_with_the_invocation_and_lambdas_lines_follow() {
    let (function, mut lines) = fake("run");
    let invoked = call(&function, json!({ "print": "hello" })).await;
    let id = Some(invoked.request_id.clone());
    let mut seen = lines_until(&mut lines, |_| false).await;
    seen.retain(|l| !l.text.starts_with("running ") && !l.text.is_empty());
    let init = seen
        .iter()
        .find(|l| l.text.starts_with("initializing"))
        .unwrap();
    assert_eq!(
        (init.request_id.as_deref(), init.stream),
        (None, LogStream::Stdout)
    );
    let find = |text: &str| {
        seen.iter()
            .find(|l| l.text == text)
            .unwrap_or_else(|| panic!("{text} in {seen:?}"))
    };
    assert_eq!(
        (
            &find("hello on stdout").request_id,
            find("hello on stdout").stream
        ),
        (&id, LogStream::Stdout)
    );
    assert_eq!(
        (
            &find("hello on stderr").request_id,
            find("hello on stderr").stream
        ),
        (&id, LogStream::Stderr)
    );
    let platform: Vec<_> = seen
        .iter()
        .filter(|l| l.stream == LogStream::Platform)
        .collect();
    assert_eq!(platform.len(), 3, "{platform:?}");
    assert!(platform
        .iter()
        .all(|l| l.request_id == id && l.function == "Api"));
    assert_eq!(
        platform[0].text,
        format!("START RequestId: {} Version: $LATEST", invoked.request_id)
    );
    assert_eq!(
        platform[1].text,
        format!("END RequestId: {}", invoked.request_id)
    );
    let report = &platform[2].text;
    assert!(
        report.starts_with(&format!(
            "REPORT RequestId: {}\tDuration: ",
            invoked.request_id
        )),
        "{report}"
    );
    for part in [
        "\tBilled Duration: ",
        " ms\tMemory Size: 128 MB\tMax Memory Used: ",
        " MB\tInit Duration: ",
    ] {
        assert!(report.contains(part), "{part} in {report}");
    }
}

#[tokio::test]
async fn shutdown_kills_idle_and_busy_instances_and_refuses_more() {
    let (function, mut lines) = fake("run");
    let busy = call(&function, json!({ "sleep_ms": 10_000 }));
    let idle_then_stop = async {
        let short = || call(&function, json!({ "sleep_ms": 100 }));
        let (a, b) = tokio::join!(short(), short());
        function.shutdown().await;
        (a, b)
    };
    let (busy, (a, b)) = tokio::join!(busy, idle_then_stop);
    assert_eq!(busy.result, InvokeResult::Stopped);
    assert!(a.result != InvokeResult::Stopped && b.result != InvokeResult::Stopped);
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(started_pid(&mut lines).await);
    }
    for pid in started {
        assert!(!running(pid), "{pid} left running");
    }
    assert_eq!(
        call(&function, json!({})).await.result,
        InvokeResult::Stopped
    );
}

#[tokio::test]
async fn dropping_the_function_leaves_no_process() {
    let (function, _lines) = fake("run");
    let pid = pid_of(&call(&function, json!({})).await);
    assert!(running(pid));
    drop(function);
    assert!(gone(pid).await);
}
