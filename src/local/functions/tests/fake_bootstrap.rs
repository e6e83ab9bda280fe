//! A Lambda runtime inside this test binary: the supervisor's tests start
//! the binary again with [`MODE`] set and only [`serve`] selected, and it
//! then talks to `AWS_LAMBDA_RUNTIME_API` as a real `bootstrap` would, over
//! a minimal blocking HTTP/1.1 client. Each event is a JSON command saying
//! what to do: echo, sleep, allocate, exit, fail, print, answer big.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How the fake starts: `run`, `init_error`, `exit_at_init`, `slow_init:<ms>`.
pub(crate) const MODE: &str = "STACKCTL_TEST_BOOTSTRAP";
/// This test's name, for the harness's `--exact` filter.
pub(crate) const TEST_NAME: &str = "local::functions::tests::fake_bootstrap::serve";

const RUNTIME: &str = "/2018-06-01/runtime";

#[test]
fn serve() {
    // In an ordinary test run this test does nothing.
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    println!("initializing pid {}", std::process::id());
    let mut client = Client::connect();
    match mode.as_str() {
        "init_error" => {
            let body = br#"{"errorType":"TestInit","errorMessage":"no table"}"#;
            client.post(
                &format!("{RUNTIME}/init/error"),
                Some("Runtime.TestInit"),
                body,
            );
            std::process::exit(1);
        }
        "exit_at_init" => std::process::exit(2),
        slow => {
            let ms = slow
                .strip_prefix("slow_init:")
                .and_then(|ms| ms.parse().ok());
            std::thread::sleep(Duration::from_millis(ms.unwrap_or(0)));
        }
    }
    loop {
        let (id, event) = client.next();
        let command: Value = serde_json::from_slice(&event).unwrap_or(Value::Null);
        match handle(&command) {
            Ok(body) => client.post(&format!("{RUNTIME}/invocation/{id}/response"), None, &body),
            Err((kind, body)) => client.post(
                &format!("{RUNTIME}/invocation/{id}/error"),
                Some(&kind),
                &body,
            ),
        }
    }
}

/// The answer to one command, or the error type and body to report.
fn handle(command: &Value) -> Result<Vec<u8>, (String, Vec<u8>)> {
    let pid = std::process::id();
    if let Some(ms) = command["sleep_ms"].as_u64() {
        std::thread::sleep(Duration::from_millis(ms));
    }
    if let Some(mb) = command["allocate_mb"].as_u64() {
        // Written byte by byte, so every page is resident.
        let held = vec![1u8; mb as usize * 1024 * 1024];
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    }
    if let Some(code) = command["exit"].as_i64() {
        std::process::exit(code as i32);
    }
    if let Some(text) = command["print"].as_str() {
        println!("{text} on stdout");
        eprintln!("{text} on stderr");
    }
    if let Some(kind) = command["error"].as_str() {
        let body = json!({ "errorType": kind, "errorMessage": "it broke" });
        return Err((kind.to_string(), body.to_string().into_bytes()));
    }
    if let Some(size) = command["big"].as_u64() {
        return Ok(vec![b'x'; size as usize]);
    }
    let env: serde_json::Map<String, Value> =
        std::env::vars().map(|(k, v)| (k, v.into())).collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let answer = json!({ "pid": pid, "echo": command["echo"], "cwd": cwd, "env": env });
    Ok(answer.to_string().into_bytes())
}

/// One keep-alive connection to the Runtime API; any failure means the
/// supervisor is gone, and so the process goes too.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect() -> Client {
        let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_default();
        let stream = TcpStream::connect(api).unwrap_or_else(|_| std::process::exit(0));
        let _ = stream.set_nodelay(true);
        let writer = stream.try_clone().unwrap_or_else(|_| std::process::exit(0));
        Client {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// The next event's request id and payload.
    fn next(&mut self) -> (String, Vec<u8>) {
        let (headers, body) =
            self.exchange("GET", &format!("{RUNTIME}/invocation/next"), None, b"");
        let id = headers
            .iter()
            .find_map(|line| line.strip_prefix("lambda-runtime-aws-request-id: "))
            .unwrap_or_default();
        (id.to_string(), body)
    }

    fn post(&mut self, path: &str, error_type: Option<&str>, body: &[u8]) {
        let (headers, _) = self.exchange("POST", path, error_type, body);
        // A refused (413) body may have ended the connection: start afresh.
        if !headers
            .first()
            .is_some_and(|status| status.starts_with("HTTP/1.1 202"))
        {
            *self = Client::connect();
        }
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        error_type: Option<&str>,
        body: &[u8],
    ) -> (Vec<String>, Vec<u8>) {
        let error_header = error_type
            .map(|kind| format!("lambda-runtime-function-error-type: {kind}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: runtime\r\ncontent-length: {}\r\n{error_header}\r\n",
            body.len()
        );
        // One write: head and body apart would wait out Nagle and a delayed ACK.
        let request = [head.as_bytes(), body].concat();
        if self.writer.write_all(&request).is_err() {
            return (Vec::new(), Vec::new());
        }
        self.read_response()
            .unwrap_or_else(|| std::process::exit(0))
    }

    fn read_response(&mut self) -> Option<(Vec<String>, Vec<u8>)> {
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = lowercase_name(line.trim_end());
            if line.is_empty() {
                break;
            }
            headers.push(line);
        }
        let length = headers
            .iter()
            .find_map(|h| h.strip_prefix("content-length: "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).ok()?;
        Some((headers, body))
    }
}

/// A header with its name in lower case, its value as it is.
fn lowercase_name(line: &str) -> String {
    match line.split_once(": ") {
        Some((name, value)) => format!("{}: {value}", name.to_ascii_lowercase()),
        None => line.to_string(),
    }
}
