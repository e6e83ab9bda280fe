//! Fixture tests for handlers (feature `testing`, for dev-dependencies).
//!
//! A fixture is one JSON file: a real-shaped `event`, the `aws` calls the
//! handler is expected to make with the answers AWS gives to each (in
//! order), and what the invocation must produce: an API `response`
//! (`statusCode`, `body` as JSON), a `result`, or a `failure` (Lambda error
//! type and message). Expected values are compared as subsets: an object
//! lists the fields that matter (ids the handler generates are left out),
//! a list must have exactly the listed items. `logged` lists log lines (as
//! subsets) that must appear.
//!
//! ```json
//! {"about": "…", "event": {…},
//!  "aws": [{"request": {"operation": "GetItem", "body": {"TableName": "t"}},
//!           "response": {"status": 200, "body": {"Item": {…}}}}],
//!  "response": {"statusCode": 200, "body": {"success": true}}}
//! ```
//!
//! AWS requests are matched by `operation` (the `X-Amz-Target` of JSON
//! protocols such as DynamoDB and Cognito, the `Action` of query protocols
//! such as EC2, the path's last part for RPC v2 CBOR such as CloudWatch),
//! `method` and `path` (REST protocols such as S3) and `body` (JSON; a
//! query protocol's form parameters as one flat object, `Filter.1.Name`
//! and all; CBOR as its JSON form, see [`cbor`]); answers give `status`,
//! `headers` and `body` (JSON, text, `bodyCbor` for CBOR from JSON, or
//! `bodyBase64` for bytes).
//!
//! Calls to third-party APIs through [`FakeAws::outbound`] (feature
//! `outbound`) are scripted in the same list, in the order they are made,
//! and matched by `method`, `host`, `path` (query string included),
//! `headers` (names lower-cased) and `body` (JSON, or a form as one flat
//! object). An answer `{"timeout": true}` is a call that got no answer
//! in time (`"connect"`: the connection failed; `"broken"`: it broke).

pub mod cbor;
mod outbound_fake;

use crate::log::Logger;
use crate::Function;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_lambda_events::http;
use base64::Engine as _;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One fixture file.
pub struct Fixture {
    pub path: PathBuf,
    pub about: String,
    pub event: Value,
    exchanges: Vec<Value>,
    expected: Value,
}

/// A request an SDK client sent to the fake.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    pub host: String,
    pub path: String,
    /// Names lower-cased; for third-party calls (AWS's signed headers are
    /// not compared).
    pub headers: serde_json::Map<String, Value>,
    /// The operation of a JSON protocol (`GetItem`), from `X-Amz-Target`.
    pub operation: Option<String>,
    pub body: Vec<u8>,
}

/// AWS as a fixture scripts it: SDK clients built from [`FakeAws::config`]
/// get the fixture's answers in order and have their requests recorded.
pub struct FakeAws {
    config: SdkConfig,
    answers: Arc<Mutex<Vec<Value>>>,
    sent: Arc<Mutex<Vec<SentRequest>>>,
}

impl FakeAws {
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn sent(&self) -> Vec<SentRequest> {
        self.sent.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Third-party HTTP APIs scripted in the same list as AWS, so a fixture
    /// shows every outside call in the order the handler makes them.
    pub fn outbound(&self) -> Arc<dyn crate::outbound::Outbound> {
        Arc::new(outbound_fake::ScriptedOutbound {
            answers: self.answers.clone(),
            sent: self.sent.clone(),
        })
    }
}

impl Fixture {
    /// Reads a fixture; a broken one fails the test naming the file.
    pub fn load(path: &Path) -> Fixture {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let field = |value: &mut Value, name: &str| value.get_mut(name).map(Value::take);
        let event = field(&mut value, "event")
            .unwrap_or_else(|| panic!("{} has no `event`", path.display()));
        let exchanges = match field(&mut value, "aws") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        Fixture {
            path: path.to_path_buf(),
            about: value["about"].as_str().unwrap_or_default().to_string(),
            event,
            exchanges,
            expected: value,
        }
    }

    /// Every `*.json` fixture in `dir`, by file name.
    pub fn all_in(dir: &Path) -> Vec<Fixture> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no fixtures in {}", dir.display());
        paths.iter().map(|p| Fixture::load(p)).collect()
    }

    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// AWS answering with this fixture's scripted answers.
    pub fn fake_aws(&self) -> FakeAws {
        let answers = Arc::new(Mutex::new(self.exchanges.clone()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (recorder, queue) = (sent.clone(), answers.clone());
        let client = aws_smithy_http_client::test_util::infallible_client_fn(move |request| {
            recorder
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(sent_request(&request));
            let mut answers = queue.lock().unwrap_or_else(|e| e.into_inner());
            if answers.is_empty() {
                return answer(
                    &serde_json::json!({"status": 599, "body": "the fixture scripts no more AWS calls"}),
                );
            }
            answer(&answers.remove(0)["response"])
        });
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDFIXTURE",
                "fixture-secret",
                None,
                None,
                "fixture",
            )))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .http_client(client)
            .build();
        FakeAws {
            config,
            answers,
            sent,
        }
    }

    /// Invokes `function` with the event and checks everything the fixture
    /// expects: the outcome, the AWS calls made, the log lines.
    pub async fn check<S>(&self, function: &Function<S>, aws: &FakeAws) -> Result<(), String> {
        let log = Logger::capturing("fixture-request");
        let outcome = function.invoke(self.event.clone(), &log).await;
        let mut problems = Vec::new();
        problems.extend(self.check_outcome(outcome).err());
        problems.extend(self.check_aws_calls(&aws.sent()).err());
        for wanted in self.expected["logged"].as_array().into_iter().flatten() {
            let lines = log.lines();
            if !lines.iter().any(|line| contains(line, wanted, "").is_ok()) {
                problems.push(format!("no log line like {wanted}; logged: {lines:?}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n  "))
        }
    }

    fn check_outcome(&self, outcome: Result<Value, crate::Failure>) -> Result<(), String> {
        let expected = &self.expected;
        match outcome {
            Err(failure) => {
                let Some(wanted) = expected.get("failure") else {
                    return Err(format!("the invocation failed: {failure}"));
                };
                let actual = lambda_runtime::Diagnostic::from(failure);
                let actual = serde_json::json!({"errorType": actual.error_type, "errorMessage": actual.error_message});
                matches_with_substrings(&actual, wanted)
            }
            Ok(_) if expected.get("failure").is_some() => {
                Err("the invocation succeeded; a failure was expected".into())
            }
            Ok(result) => {
                if let Some(wanted) = expected.get("response") {
                    let mut actual = result.clone();
                    if let Some(body) = result["body"].as_str() {
                        actual["body"] = serde_json::from_str(body)
                            .map_err(|e| format!("the response body is not JSON: {e}"))?;
                    }
                    contains(&actual, wanted, "response")
                } else {
                    contains(
                        &result,
                        expected.get("result").unwrap_or(&Value::Null),
                        "result",
                    )
                }
            }
        }
    }

    fn check_aws_calls(&self, sent: &[SentRequest]) -> Result<(), String> {
        if sent.len() != self.exchanges.len() {
            let operations: Vec<String> = sent.iter().map(SentRequest::describe).collect();
            return Err(format!(
                "{} AWS calls made, {} scripted: {operations:?}",
                sent.len(),
                self.exchanges.len()
            ));
        }
        for (i, (request, exchange)) in sent.iter().zip(&self.exchanges).enumerate() {
            let wanted = &exchange["request"];
            let body = request.body_json();
            let actual = serde_json::json!({
                "operation": request.operation, "method": request.method,
                "host": request.host, "path": request.path, "body": body,
                "headers": request.headers,
            });
            contains(&actual, wanted, &format!("aws[{i}].request"))?;
        }
        Ok(())
    }
}

/// Checks every fixture in `dir` against the function `build` makes from
/// that fixture's fake AWS, and fails naming each fixture that does not hold.
pub async fn check_fixtures<S>(dir: &Path, build: impl Fn(&FakeAws) -> Function<S>) {
    let mut failures = Vec::new();
    for fixture in Fixture::all_in(dir) {
        let aws = fixture.fake_aws();
        let function = build(&aws);
        if let Err(problem) = fixture.check(&function, &aws).await {
            failures.push(format!(
                "{} ({}):\n  {problem}",
                fixture.name(),
                fixture.about
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

impl SentRequest {
    /// The body as JSON, whichever protocol wrote it.
    pub fn body_json(&self) -> Value {
        if let Ok(json) = serde_json::from_slice::<Value>(&self.body) {
            return json;
        }
        if let Some(decoded) = cbor::decode(&self.body) {
            return decoded;
        }
        match std::str::from_utf8(&self.body) {
            Ok(text) if text.contains('=') => Value::Object(
                form_pairs(text)
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }

    fn describe(&self) -> String {
        match &self.operation {
            Some(op) => op.clone(),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

fn sent_request(request: &http::Request<aws_smithy_types::body::SdkBody>) -> SentRequest {
    let path = request.uri().path();
    let body = request.body().bytes().unwrap_or_default();
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .map(String::from)
        .or_else(|| {
            // RPC v2: `/service/{service}/operation/{operation}`.
            let (_, operation) = path.split_once("/operation/")?;
            Some(operation.to_string())
        })
        .or_else(|| {
            let text = std::str::from_utf8(body).ok()?;
            form_pairs(text)
                .into_iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v)
        });
    SentRequest {
        method: request.method().to_string(),
        host: request.uri().host().unwrap_or_default().to_string(),
        headers: serde_json::Map::new(),
        path: path.to_string(),
        operation,
        body: body.to_vec(),
    }
}

/// `a=1&b=x+y%21` as `[("a", "1"), ("b", "x y!")]` (form encoding).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn answer(scripted: &Value) -> http::Response<aws_smithy_types::body::SdkBody> {
    let mut response =
        http::Response::builder().status(scripted["status"].as_u64().unwrap_or(200) as u16);
    for (name, value) in scripted["headers"].as_object().into_iter().flatten() {
        response = response.header(name, value.as_str().unwrap_or_default());
    }
    response
        .body(answer_body(scripted).into())
        .unwrap_or_else(|e| panic!("a scripted answer is not a valid HTTP response: {e}"))
}

/// A scripted answer's body: `body` (JSON or text), `bodyBase64` or `bodyCbor`.
pub(crate) fn answer_body(scripted: &Value) -> Vec<u8> {
    match (&scripted["body"], scripted["bodyBase64"].as_str()) {
        _ if scripted.get("bodyCbor").is_some() => cbor::encode(&scripted["bodyCbor"]),
        (_, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_default(),
        (Value::String(text), None) => text.clone().into_bytes(),
        (Value::Null, None) => Vec::new(),
        (json, None) => json.to_string().into_bytes(),
    }
}

/// Whether `actual` has everything `expected` lists (see the module docs).
pub fn contains(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(have), Value::Object(want)) => want.iter().try_for_each(|(k, w)| {
            let place = format!("{at}.{k}");
            match have.get(k) {
                Some(h) => contains(h, w, &place),
                None if w.is_null() => Ok(()),
                None => Err(format!("{place} is missing (expected {w})")),
            }
        }),
        (Value::Array(have), Value::Array(want)) if have.len() == want.len() => have
            .iter()
            .zip(want)
            .enumerate()
            .try_for_each(|(i, (h, w))| contains(h, w, &format!("{at}[{i}]"))),
        (h, w) if h == w => Ok(()),
        (h, w) => Err(format!("{at} is {h}, expected {w}")),
    }
}

/// Like [`contains`], but an expected string only has to occur in the
/// actual one (error messages carry details a fixture need not repeat).
fn matches_with_substrings(actual: &Value, expected: &Value) -> Result<(), String> {
    for (key, wanted) in expected.as_object().into_iter().flatten() {
        let have = actual[key].as_str().unwrap_or_default();
        let wanted = wanted.as_str().unwrap_or_default();
        if !have.contains(wanted) {
            return Err(format!(
                "failure.{key} is {have:?}, expected it to contain {wanted:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::contains;
    use serde_json::json;

    #[test]
    fn expected_values_are_subsets() {
        let actual = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}, "f": "x"});
        assert!(contains(&actual, &json!({"b": {"c": [1, {"d": 2}]}}), "").is_ok());
        assert!(contains(&actual, &json!({"g": null}), "").is_ok());
        assert!(contains(&actual, &json!({"a": 2}), "").is_err());
        assert!(contains(&actual, &json!({"b": {"c": [1]}}), "").is_err());
        assert!(contains(&actual, &json!({"g": 1}), "").is_err());
    }
}
