//! `stackctl local` benchmark (issue 10): what the local API Gateway adds
//! over calling a function's runtime directly, the first request after
//! start, and 1,000 requests from 20 concurrent clients.
//!
//! Run with `cargo bench --bench local`. This binary is also the Rust
//! handler: packaged as a function's `bootstrap` and started by the
//! session's supervisor with `STACKCTL_BENCH_BOOTSTRAP` set (the supervisor
//! clears the environment, so the template's `Environment.Variables` carry
//! it), it runs a minimal Lambda runtime loop that answers every event with
//! `{"statusCode":200,"body":"ok"}`.
//!
//! Targets (issue 10): under 1 ms added at p50 and under 100 ms cold start.
//! They are printed beside the figures, not enforced; the run fails (non-zero
//! exit) only when a request of the load phase is not answered 200 `ok`, or
//! when the session cannot run at all.

use bytes::Bytes;
use client::Client;
use serde_json::{json, Value};
use stackctl::engine::identity::RoleCredentials;
use stackctl::local::functions::{InvokeResult, Limits, LogLine};
use stackctl::local::session::{Channels, Plan, Session};
use stackctl::local::template::Deployed;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "local/bootstrap.rs"]
mod bootstrap;
#[path = "local/client.rs"]
mod client;

const BOOTSTRAP_VAR: &str = "STACKCTL_BENCH_BOOTSTRAP";
const FUNCTION: &str = "PingFunction";
const CODE_KEY: &str = "pending/bench/ping.zip";
const ANSWER: &[u8] = br#"{"statusCode":200,"body":"ok"}"#;

const COLD_SESSIONS: usize = 10;
const SEQUENTIAL: usize = 2000;
const WARM_UP: usize = 100;
const LOAD_REQUESTS: usize = 1000;
const LOAD_CLIENTS: usize = 20;

fn main() -> ExitCode {
    if std::env::var_os(BOOTSTRAP_VAR).is_some() {
        return bootstrap::run();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(bench()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nlocal benchmark FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn bench() -> Result<(), String> {
    let fixture = Fixture::new()?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split(' ').take(3).collect::<Vec<_>>().join(" ");
    println!("stackctl local benchmark (issue 10): {cores} cores, load average {load}");
    println!(
        "handler: this bench binary as a Rust `bootstrap` ({:.1} MB; package zip {:.1} MB), 128 MB memory size",
        mb(fixture.bootstrap_bytes),
        mb(fixture.zip_bytes)
    );
    cold_start(&fixture).await?;
    let (session, logs) = fixture.start().await?;
    let api = address(&session)?;
    let result = sequential(&session, api).await;
    let result = match result {
        Ok(()) => load_phase(api, &logs).await,
        failed => failed,
    };
    session.shutdown().await;
    result
}

/// The template, its package and the stand-in deployment.
struct Fixture {
    dir: tempfile::TempDir,
    template: Value,
    zip: PathBuf,
    bootstrap_bytes: usize,
    zip_bytes: usize,
}

impl Fixture {
    fn new() -> Result<Fixture, String> {
        let me = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let executable = std::fs::read(&me).map_err(|e| format!("{}: {e}", me.display()))?;
        let package = stackctl::artifact::zip::bootstrap_zip(&executable);
        let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
        let zip = dir.path().join("ping.zip");
        std::fs::write(&zip, &package).map_err(|e| format!("{}: {e}", zip.display()))?;
        Ok(Fixture {
            template: template(),
            zip,
            bootstrap_bytes: executable.len(),
            zip_bytes: package.len(),
            dir,
        })
    }

    /// A fresh session (what one `stackctl local` run starts), and its
    /// log lines drained in the background.
    async fn start(&self) -> Result<(Session, Drained), String> {
        let (channels, drained) = drain();
        let plan = Plan {
            template: self.template.clone(),
            deployed: deployed(),
            packages: BTreeMap::from([(CODE_KEY.to_string(), self.zip.clone())]),
            cache_dir: self.dir.path().join("cache"),
            credentials: BTreeMap::from([(
                FUNCTION.to_string(),
                RoleCredentials {
                    access_key_id: "ASIABENCHFUNCTION".into(),
                    secret_access_key: "bench-secret".into(),
                    session_token: "bench-token".into(),
                    expires_epoch_s: None,
                },
            )]),
            functions_endpoint: None,
            emulator: None,
            first_port: 0,
            limits: Limits::default(),
        };
        let session = Session::start(plan, channels)
            .await
            .map_err(|e| format!("the session did not start: {e}"))?;
        Ok((session, drained))
    }
}

/// One function and an HTTP API with `GET /ping`, shaped as `render`
/// writes them (see the guitar-collection snapshots).
fn template() -> Value {
    let architecture = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x86_64",
    };
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "PingFunctionRole": { "Type": "AWS::IAM::Role", "Properties": {} },
            FUNCTION: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": { "Fn::Sub": "${AWS::StackName}-ping" },
                    "Role": { "Fn::GetAtt": ["PingFunctionRole", "Arn"] },
                    "Runtime": "provided.al2023",
                    "Handler": "bootstrap",
                    "Architectures": [architecture],
                    "MemorySize": 128,
                    "Timeout": 10,
                    "Code": {
                        "S3Bucket": { "Fn::Sub": "stackctl-artifacts-${AWS::AccountId}-${AWS::Region}" },
                        "S3Key": CODE_KEY
                    },
                    "Environment": { "Variables": { BOOTSTRAP_VAR: "1" } }
                }
            },
            "MainApi": {
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": { "Name": "bench-api", "ProtocolType": "HTTP" }
            },
            "MainApiStage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {
                    "ApiId": { "Ref": "MainApi" },
                    "StageName": "$default",
                    "AutoDeploy": true,
                    "DefaultRouteSettings": {
                        "ThrottlingBurstLimit": 5000,
                        "ThrottlingRateLimit": 10000.0
                    }
                }
            },
            "MainApiPingIntegration": {
                "Type": "AWS::ApiGatewayV2::Integration",
                "Properties": {
                    "ApiId": { "Ref": "MainApi" },
                    "IntegrationType": "AWS_PROXY",
                    "IntegrationUri": { "Fn::GetAtt": [FUNCTION, "Arn"] },
                    "PayloadFormatVersion": "2.0"
                }
            },
            "MainApiRouteGetPing": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {
                    "ApiId": { "Ref": "MainApi" },
                    "RouteKey": "GET /ping",
                    "Target": { "Fn::Sub": "integrations/${MainApiPingIntegration}" },
                    "AuthorizationType": "NONE"
                }
            }
        }
    })
}

fn deployed() -> Deployed {
    Deployed {
        stack_name: "bench".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
        physical_ids: BTreeMap::from([
            (FUNCTION.to_string(), "bench-ping".to_string()),
            (
                "PingFunctionRole".to_string(),
                "bench-ping-role".to_string(),
            ),
            ("MainApi".to_string(), "a1b2c3d4e5".to_string()),
        ]),
        ..Deployed::default()
    }
}

/// What the session reported, counted and thrown away.
#[derive(Clone, Default)]
struct Drained {
    /// `REPORT` lines with an `Init Duration`: instances started.
    cold_starts: Arc<AtomicUsize>,
}

fn drain() -> (Channels, Drained) {
    let (logs, mut log_lines) = tokio::sync::mpsc::unbounded_channel::<LogLine>();
    let (served, mut served_lines) = tokio::sync::mpsc::unbounded_channel();
    let (problems, mut problem_lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let drained = Drained::default();
    let cold_starts = drained.cold_starts.clone();
    tokio::spawn(async move {
        while let Some(line) = log_lines.recv().await {
            if line.text.starts_with("REPORT") && line.text.contains("Init Duration") {
                cold_starts.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    tokio::spawn(async move { while served_lines.recv().await.is_some() {} });
    tokio::spawn(async move {
        while let Some(problem) = problem_lines.recv().await {
            eprintln!("session problem: {problem}");
        }
    });
    let channels = Channels {
        logs,
        served,
        problems,
    };
    (channels, drained)
}

fn address(session: &Session) -> Result<SocketAddr, String> {
    let api = session.apis.first().ok_or("the session serves no API")?;
    if api.url() != format!("http://{}", api.address) {
        return Err(format!("unexpected base URL {}", api.url()));
    }
    Ok(api.address)
}

/// Fresh sessions: start to the first answer through the API, then the
/// function's init phase as a direct invocation reports it.
async fn cold_start(fixture: &Fixture) -> Result<(), String> {
    // The first run after a build unpacks the package; later runs reuse it.
    let started = Instant::now();
    let (session, _) = fixture.start().await?;
    let unpacked = started.elapsed();
    let first = first_answer(&session).await;
    session.shutdown().await;
    let first = first?;
    let (mut starts, mut firsts, mut totals, mut inits, mut directs) =
        (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..COLD_SESSIONS {
        let started = Instant::now();
        let (session, _) = fixture.start().await?;
        let ready = started.elapsed();
        let answered = first_answer(&session).await;
        let total = started.elapsed();
        session.shutdown().await;
        starts.push(ready);
        firsts.push(answered?);
        totals.push(total);
    }
    for _ in 0..COLD_SESSIONS {
        let (session, _) = fixture.start().await?;
        let started = Instant::now();
        let ran = session.invoke(FUNCTION, event()).await;
        directs.push(started.elapsed());
        session.shutdown().await;
        let ran = ran.ok_or("the session has no function PingFunction")?;
        check_response(&ran.result)?;
        inits.push(
            ran.init_duration
                .ok_or("the first invocation was not a cold start")?,
        );
    }
    println!("\n1. cold start ({COLD_SESSIONS} fresh sessions; package already unpacked)");
    row("Session::start", &starts);
    row("first GET /ping (new connection)", &firsts);
    row_target("start -> first answer", &totals, 100.0);
    row("first direct invoke", &directs);
    row("  of which function init", &inits);
    println!(
        "  first session after the build (unpacks the package): start {:.2} ms, first answer {:.2} ms",
        ms(unpacked),
        ms(first)
    );
    Ok(())
}

/// The time to the first answer of `GET /ping`, connection included.
async fn first_answer(session: &Session) -> Result<Duration, String> {
    let started = Instant::now();
    let mut client = Client::new(address(session)?);
    check_ping(client.get("/ping").await)?;
    Ok(started.elapsed())
}

/// Direct invocations and requests through the API, alternated on one warm
/// instance so both see the same machine.
async fn sequential(session: &Session, api: SocketAddr) -> Result<(), String> {
    let mut client = Client::new(api);
    for n in 0..WARM_UP {
        check_ping(client.get("/ping").await).map_err(|e| format!("warm-up GET /ping {n}: {e}"))?;
        let ran = session
            .invoke(FUNCTION, event())
            .await
            .ok_or("no function")?;
        check_response(&ran.result)?;
    }
    let (mut direct, mut gateway) = (Vec::new(), Vec::new());
    for _ in 0..SEQUENTIAL {
        let payload = event();
        let started = Instant::now();
        let ran = session
            .invoke(FUNCTION, payload)
            .await
            .ok_or("no function")?;
        direct.push(started.elapsed());
        check_response(&ran.result)?;
        let started = Instant::now();
        let answer = client.get("/ping").await;
        gateway.push(started.elapsed());
        check_ping(answer)
            .map_err(|e| format!("GET /ping {} of {SEQUENTIAL}: {e}", gateway.len()))?;
    }
    let (d, g) = (Stats::of(&direct), Stats::of(&gateway));
    println!(
        "\n2. direct: {SEQUENTIAL} sequential Session::invoke, payload 2.0 event, warm instance"
    );
    row("direct invoke", &direct);
    println!("\n3. through the API: {SEQUENTIAL} sequential GET /ping, one keep-alive connection (alternated with 2.)");
    row("GET /ping", &gateway);
    println!(
        "  added by the API: p50 {:.3} ms (target < 1 ms: {}), p99 {:.3} ms, mean {:.3} ms",
        g.p50 - d.p50,
        verdict(g.p50 - d.p50 < 1.0),
        g.p99 - d.p99,
        g.mean - d.mean
    );
    Ok(())
}

/// 1,000 requests from 20 clients at once, each on its own connection.
async fn load_phase(api: SocketAddr, logs: &Drained) -> Result<(), String> {
    let before = logs.cold_starts.load(Ordering::Relaxed);
    let started = Instant::now();
    let tasks: Vec<_> = (0..LOAD_CLIENTS)
        .map(|_| {
            tokio::spawn(async move {
                let mut client = Client::new(api);
                let mut outcomes = Vec::new();
                for _ in 0..LOAD_REQUESTS / LOAD_CLIENTS {
                    let started = Instant::now();
                    let answer = client.get("/ping").await;
                    outcomes.push((started.elapsed(), check_ping(answer)));
                }
                outcomes
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for task in tasks {
        let outcomes = task
            .await
            .map_err(|e| format!("a load client panicked: {e}"))?;
        for (took, checked) in outcomes {
            latencies.push(took);
            if let Err(why) = checked {
                *failures.entry(why).or_default() += 1;
            }
        }
    }
    let wall = started.elapsed();
    let failed: usize = failures.values().sum();
    println!("\n4. load: {LOAD_REQUESTS} GET /ping from {LOAD_CLIENTS} concurrent clients (one connection each)");
    println!(
        "  the function may run {} instances at once (`Limits::default()`; the template reserves no concurrency)",
        Limits::default().default_concurrency
    );
    println!(
        "  {} answered 200 ok, {failed} failed; wall {:.1} ms, {:.0} requests/s; {} instances started",
        latencies.len() - failed,
        ms(wall),
        latencies.len() as f64 / wall.as_secs_f64(),
        logs.cold_starts.load(Ordering::Relaxed) - before
    );
    row("request under load", &latencies);
    if failed > 0 {
        for (why, count) in &failures {
            eprintln!("  {count} x {why}");
        }
        return Err(format!("{failed} of {LOAD_REQUESTS} load requests failed"));
    }
    Ok(())
}

/// A payload 2.0 event as the API sends for `GET /ping`.
fn event() -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    json!({
        "version": "2.0",
        "routeKey": "GET /ping",
        "rawPath": "/ping",
        "rawQueryString": "",
        "headers": { "host": "127.0.0.1", "user-agent": "stackctl-bench" },
        "requestContext": {
            "accountId": "local",
            "apiId": "a1b2c3d4e5",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {
                "method": "GET",
                "path": "/ping",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "stackctl-bench"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "GET /ping",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now
        },
        "isBase64Encoded": false
    })
    .to_string()
    .into_bytes()
}

fn check_response(result: &InvokeResult) -> Result<(), String> {
    match result {
        InvokeResult::Response(body) if body == ANSWER => Ok(()),
        other => Err(format!("the function answered {other:?}")),
    }
}

fn check_ping(answer: Result<(u16, Bytes), String>) -> Result<(), String> {
    match answer? {
        (200, body) if body.as_ref() == b"ok" => Ok(()),
        (status, body) => Err(format!("{status} {}", String::from_utf8_lossy(&body))),
    }
}

/// Milliseconds: median, 99th percentile (nearest rank), mean, max.
struct Stats {
    p50: f64,
    p99: f64,
    mean: f64,
    max: f64,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut sorted: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        Stats {
            p50: rank(50.0),
            p99: rank(99.0),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            max: sorted[sorted.len() - 1],
        }
    }
}

fn row(label: &str, samples: &[Duration]) {
    let s = Stats::of(samples);
    println!(
        "  {label:<34} p50 {:>8.3} ms   p99 {:>8.3} ms   mean {:>8.3} ms   max {:>8.3} ms   (n={})",
        s.p50,
        s.p99,
        s.mean,
        s.max,
        samples.len()
    );
}

fn row_target(label: &str, samples: &[Duration], target_ms: f64) {
    row(label, samples);
    let p50 = Stats::of(samples).p50;
    println!(
        "  {:<34} target < {target_ms} ms at p50: {}",
        "",
        verdict(p50 < target_ms)
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
