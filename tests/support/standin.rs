//! The local stand-in for eBay and Postmark (`scripts/standins/ebay_postmark.py`)
//! as a child process on a free port (`--port 0 --ready-file`), driven
//! through its control API (`/_standin/…`, see the script's docstring) and
//! stopped when dropped. `PYTHON` names the interpreter (`python3` by
//! default); the stand-in needs only the standard library.

use super::local::{http, Answer};
use super::repo_root;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Standin {
    child: Child,
    /// `http://127.0.0.1:PORT`: eBay's and Postmark's base URL both.
    pub url: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Standin {
    pub fn start() -> Standin {
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("standin.ready.json");
        let log = dir.path().join("standin.log");
        let child = Command::new(&python)
            .arg(repo_root().join("scripts/standins/ebay_postmark.py"))
            .args(["--port", "0", "--ready-file"])
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (install Python 3.11 or set PYTHON): {e}")
            });
        let mut standin = Standin {
            child,
            url: String::new(),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !ready.exists() {
            if let Some(status) = standin.child.try_wait().unwrap() {
                panic!(
                    "the eBay/Postmark stand-in ended ({status}) before listening:\n{}",
                    standin.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the eBay/Postmark stand-in did not listen within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let ready: Value = serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
        standin.url = ready["url"].as_str().expect("a url").to_string();
        standin
    }

    /// What it printed (tracebacks of its own failures, if any).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One control call, whatever it answers.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let mut headers = Vec::new();
        let text = body.map(Value::to_string).unwrap_or_default();
        if body.is_some() {
            headers.push(("content-type".to_string(), "application/json".to_string()));
        }
        http(
            method,
            &format!("{}/_standin/{path}", self.url),
            &headers,
            text.as_bytes(),
        )
    }

    /// One control call that must succeed; its answer.
    pub fn control(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let answer = self.call(method, path, body);
        assert_eq!(
            answer.status, 200,
            "stand-in control {method} {path} {body:?}: {answer:?}"
        );
        answer.body
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.control("POST", path, Some(&body))
    }

    /// Registers (or replaces) an item.
    pub fn item(&self, spec: Value) -> Value {
        self.post("items", spec)
    }

    /// Queues a failure (`{"operation", "kind", …}`).
    pub fn fail(&self, spec: Value) -> Value {
        self.post("failures", spec)
    }

    /// Proxy bids eBay accepted, in order.
    pub fn bids(&self) -> Vec<Value> {
        self.list("bids", "bids")
    }

    /// E-mails Postmark accepted, in order.
    pub fn emails(&self) -> Vec<Value> {
        self.list("emails", "emails")
    }

    /// Every request to the APIs (of one operation: `token`, `item`, `bid`,
    /// `bidding`, `email`), in arrival order.
    pub fn requests(&self, operation: Option<&str>) -> Vec<Value> {
        let path = match operation {
            Some(operation) => format!("requests?operation={operation}"),
            None => "requests".to_string(),
        };
        self.list(&path, "requests")
    }

    fn list(&self, path: &str, key: &str) -> Vec<Value> {
        self.control("GET", path, None)[key]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An item id as it appears in a request path (`v1%7C123%7C0`).
pub fn item_path(item_id: &str) -> String {
    item_id.replace('|', "%7C")
}
