//! `stackctl build` for real: the guitar backend's crates become packages
//! whose `bootstrap` runs on Lambda's glibc, whose bytes do not change when
//! the code does not, and which answer through the Lambda Runtime API; a
//! handler built the same way reports a panic as the invocation's error.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{ensure, repo_root, ZIGBUILD};

fn stackctl_build(build_dir: &Path) -> Value {
    let zigbuild = ensure(&ZIGBUILD);
    let out = Command::new(env!("CARGO_BIN_EXE_stackctl"))
        .args(["--build-dir"])
        .arg(build_dir)
        .args(["build", "--env", "dev", "guitar-collection"])
        .current_dir(repo_root())
        .env("STACKCTL_ZIGBUILD", &zigbuild)
        .env("CI", "true")
        .output()
        .expect("run stackctl build");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stackctl build failed:\n{stderr}");
    eprintln!("{stderr}");
    let manifest = std::fs::read_to_string(build_dir.join("builds/guitar-collection-dev.json"))
        .expect("a manifest");
    serde_json::from_str(&manifest).unwrap()
}

fn unzip(zip: &Path, into: &Path) -> Vec<(String, u32)> {
    let script = "import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist():\n  z.extract(i, sys.argv[2]); os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr>>16 & 0o777); print(i.filename, i.external_attr>>16 & 0o777)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(zip)
        .arg(into)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, m) = l.split_once(' ').unwrap();
            (n.to_string(), m.parse().unwrap())
        })
        .collect()
}

#[test]
fn packages_are_deterministic_lambda_compatible_and_answer_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let first = stackctl_build(&dir.path().join("one"));
    let second = stackctl_build(&dir.path().join("two"));
    let artifacts = first["artifacts"].as_object().unwrap();
    assert_eq!(
        artifacts.keys().collect::<Vec<_>>(),
        ["auth", "guitars", "images", "user"]
    );
    for (function, a) in artifacts {
        let b = &second["artifacts"][function];
        assert_eq!(
            a["sha256"], b["sha256"],
            "{function}: building unchanged code twice gives the same package"
        );
        let sha = a["sha256"].as_str().unwrap();
        assert_eq!(
            a["key"],
            json!(format!("artifacts/guitar-collection/{function}/{sha}.zip")),
            "content-addressed"
        );
        let zip = std::fs::read(a["path"].as_str().unwrap()).unwrap();
        assert_eq!(
            std::fs::read(b["path"].as_str().unwrap()).unwrap(),
            zip,
            "{function}: byte-identical zips"
        );
        eprintln!("{function}: {} bytes zipped", zip.len());
    }

    // The bootstrap of one package, through an independent zip reader.
    let guitars = &artifacts["guitars"];
    let extracted = dir.path().join("guitars");
    let entries = unzip(Path::new(guitars["path"].as_str().unwrap()), &extracted);
    assert_eq!(entries, vec![("bootstrap".to_string(), 0o755)]);
    let bootstrap = extracted.join("bootstrap");
    let elf = std::fs::read(&bootstrap).unwrap();
    assert_eq!(
        u16::from_le_bytes([elf[18], elf[19]]),
        0x3e,
        "an x86-64 executable"
    );
    let needs = stackctl::artifact::elf::version_needs(&elf).unwrap();
    let newest = stackctl::artifact::elf::newest_glibc(&needs).expect("links glibc dynamically");
    assert!(
        newest <= (2, 34),
        "needs GLIBC_{}.{}: newer than Lambda's 2.34 ({needs:?})",
        newest.0,
        newest.1
    );
    eprintln!("bootstrap needs at most GLIBC_{}.{}", newest.0, newest.1);

    runtime_api_round_trip(&bootstrap);
    missing_configuration_fails_at_start(&bootstrap);
    // After the packages: the zig wrappers are not safe to run twice at once.
    a_panic_is_reported_and_the_next_event_served(&ensure(&ZIGBUILD));
}

/// One invocation the way Lambda does it: the bootstrap polls `next`, gets
/// an event, posts the response.
fn runtime_api_round_trip(bootstrap: &Path) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let event = json!({
        "version": "2.0", "routeKey": "GET /guitars", "rawPath": "/guitars", "headers": {},
        "requestContext": {"requestId": "abc", "http": {"method": "GET", "path": "/guitars", "sourceIp": "203.0.113.7", "userAgent": "t"}},
        "isBase64Encoded": false
    });
    let server = std::thread::spawn(move || serve_invocations(listener, &[event]));
    let mut child = lambda_process(bootstrap, port)
        .env("DYNAMODB_TABLE_GUITARS", "guitar-collection-guitars-dev")
        .spawn()
        .unwrap();
    let started = Instant::now();
    let outcomes = server.join().expect("the stand-in served one invocation");
    eprintln!(
        "cold start and first answer through the runtime API: {:?}",
        started.elapsed()
    );
    child.kill().ok();
    let stdout = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect::<Vec<_>>();
    child.wait().ok();
    let (outcome, answer) = &outcomes[0];
    assert_eq!(outcome, "response", "{answer}");
    assert_eq!(answer["statusCode"], 401, "{answer}");
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "AUTH_UNAUTHORIZED");
    let log: Value = serde_json::from_str(
        stdout
            .iter()
            .find(|l| l.contains("requestId"))
            .expect("a structured log line"),
    )
    .unwrap();
    assert_eq!(log["requestId"], "req-0001");
}

/// The bootstrap as Lambda starts it, polling the runtime API on `port`.
fn lambda_process(bootstrap: &Path, port: u16) -> Command {
    let mut command = Command::new(bootstrap);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "guitar-collection-dev-guitars")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]abc")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/guitar-collection-dev-guitars",
        )
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped());
    command
}

/// A minimal Lambda Runtime API: hands out `events` in turn (request ids
/// `req-0001`, `req-0002`, …) and returns what the function posted for
/// each: `response` or `error`, with the posted JSON.
fn serve_invocations(listener: TcpListener, events: &[Value]) -> Vec<(String, Value)> {
    listener.set_nonblocking(false).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut outcomes = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the bootstrap did not answer within 30 s"
        );
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        // Requests on one connection, kept alive as the runtime client does.
        while let Some((method, path, body)) = read_request(&mut reader) {
            let current = format!("req-{:04}", outcomes.len() + 1);
            if method == "GET" && path.ends_with("/runtime/invocation/next") {
                let event = events[outcomes.len()].to_string();
                let headers = format!("Lambda-Runtime-Aws-Request-Id: {current}\r\nLambda-Runtime-Deadline-Ms: 9999999999999\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:guitar-collection-dev-guitars\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n");
                write!(writer, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{headers}Content-Length: {}\r\n\r\n{event}", event.len()).unwrap();
            } else if let Some(outcome) = ["response", "error"].into_iter().find(|outcome| {
                method == "POST"
                    && path.ends_with(&format!("/runtime/invocation/{current}/{outcome}"))
            }) {
                write!(writer, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n").unwrap();
                let posted = serde_json::from_str(&body).unwrap_or(Value::String(body));
                outcomes.push((outcome.to_string(), posted));
                if outcomes.len() == events.len() {
                    return outcomes;
                }
            } else {
                panic!("unexpected runtime API call {method} {path}: {body}");
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, String)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, String::from_utf8_lossy(&body).into_owned()))
}

/// Without its table name the function stops at start, naming what is missing.
fn missing_configuration_fails_at_start(bootstrap: &Path) {
    let out = Command::new(bootstrap)
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DYNAMODB_TABLE_GUITARS"), "{stderr}");
}

/// Built with the handlers' profile, a function whose handler panics posts
/// the panic as the invocation's error, then serves the next event: one bad
/// input does not take the process (and the requests queued behind it) down.
fn a_panic_is_reported_and_the_next_event_served(zigbuild: &Path) {
    let executable = build_example(zigbuild, "panicking_function");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let events = [json!({"panic": "fixture"}), json!({"echo": 1})];
    let server = std::thread::spawn(move || serve_invocations(listener, &events));
    let mut child = lambda_process(&executable, port)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let outcomes = server.join().expect("the stand-in served both invocations");
    child.kill().ok();
    child.wait().ok();
    let (outcome, error) = &outcomes[0];
    assert_eq!(outcome, "error", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("asked to panic: fixture")),
        "{error}"
    );
    assert_eq!(outcomes[1], ("response".to_string(), json!({"echo": 1})));
}

/// An example of the handler support crate, built the way `stackctl build`
/// builds handlers (same profile, target and linker).
fn build_example(zigbuild: &Path, example: &str) -> PathBuf {
    let toolchain = stackctl::build::Toolchain {
        zigbuild: zigbuild.to_path_buf(),
        path_prefix: zigbuild
            .parent()
            .map(Path::to_path_buf)
            .into_iter()
            .collect(),
    };
    let out = Command::new(&toolchain.zigbuild)
        .args([
            "zigbuild",
            "--profile",
            stackctl::build::LAMBDA_PROFILE,
            "--locked",
        ])
        .args([
            "--target",
            "x86_64-unknown-linux-gnu.2.17",
            "--message-format=json",
        ])
        .args(["-p", "handler-support", "--example", example])
        .current_dir(repo_root())
        .env("PATH", toolchain.path_env())
        .output()
        .expect("run cargo zigbuild");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == example)
        .and_then(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}
