//! One instance of a function: its Runtime API, its process with Lambda's
//! environment, the readers that turn its output into log lines, and the
//! watch over its exit, deadline and memory while it works.

use super::{lambda_text, FunctionConfig, LogLine, LogStream};
use crate::local::runtime_api::{Invocation, Outcome, RuntimeApi};
use std::future::Future;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc::UnboundedSender, watch};
use tokio::time::Instant;

/// Lambda's limit on one log event; a longer line is cut into pieces.
const LOG_LINE_LIMIT: usize = 256 * 1024;

/// Lambda's `_HANDLER` for a `bootstrap` package (the plan's default).
const HANDLER: &str = "bootstrap";

/// What the watch over a working process enforces.
pub(super) struct Watch {
    pub memory_limit_mb: u64,
    pub poll: Duration,
}

/// How a phase of the process's work ended.
pub(super) enum Ended<T> {
    Done(T),
    Exited(ExitStatus),
    DeadlinePassed,
    OutOfMemory { used_mb: u64 },
    Stopped,
}

pub(super) struct Instance {
    api: RuntimeApi,
    process: Process,
    /// The request id log lines are tagged with: the last invocation
    /// handed over, so output read late still names the right one.
    current: Arc<Mutex<Option<String>>>,
}

impl Instance {
    /// Starts the process; its init phase runs from here.
    pub async fn spawn(
        config: &FunctionConfig,
        logs: &UnboundedSender<LogLine>,
    ) -> std::io::Result<Instance> {
        let api = RuntimeApi::start().await?;
        let launch = &config.command;
        let mut child = Command::new(&launch.program)
            .args(&launch.args)
            .current_dir(&launch.task_root)
            .env_clear()
            .envs(environment(config, &api.address()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let current = Arc::new(Mutex::new(None));
        let function = &config.spec.logical_id;
        if let Some(out) = child.stdout.take() {
            forward_lines(out, LogStream::Stdout, function, &current, logs);
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, LogStream::Stderr, function, &current, logs);
        }
        let memory = Memory::of(child.id());
        Ok(Instance {
            api,
            process: Process { child, memory },
            current,
        })
    }

    /// Waits until the runtime asks for its first event or reports an
    /// init error (which the first invocation then answers with).
    pub async fn init(
        &mut self,
        deadline: std::time::Instant,
        watch: Watch,
        stopped: &mut watch::Receiver<bool>,
    ) -> Ended<()> {
        let work = self.api.init_ended();
        self.process
            .supervise(work, deadline.into(), watch, stopped)
            .await
    }

    /// Hands `invocation` over and waits for its outcome.
    pub async fn run(
        &mut self,
        invocation: Invocation,
        deadline: std::time::Instant,
        watch: Watch,
        stopped: &mut watch::Receiver<bool>,
    ) -> Ended<Outcome> {
        // Let the readers take what the process wrote before this event
        // (its init output, say), so it is not tagged with this request.
        tokio::task::yield_now().await;
        *super::lock(&self.current) = Some(invocation.request_id.clone());
        let work = self.api.invoke(invocation);
        let ended = self
            .process
            .supervise(work, deadline.into(), watch, stopped)
            .await;
        self.process.memory.sample();
        ended
    }

    pub fn is_alive(&mut self) -> bool {
        if !matches!(self.process.child.try_wait(), Ok(None)) {
            return false;
        }
        // tokio learns of an exit through its reactor (a pidfd), so a
        // process killed a moment ago still reads as running to `try_wait`;
        // the kernel already shows it as a zombie.
        self.process.child.id().is_none_or(|pid| !exited(pid))
    }

    pub fn max_memory_mb(&self) -> u64 {
        self.process.memory.peak_kb.div_ceil(1024)
    }

    /// Kills the process and reaps it.
    pub async fn kill(mut self) {
        // An error means it is gone already.
        let _ = self.process.child.kill().await;
    }
}

/// The process of an instance and what is known of its memory.
struct Process {
    child: Child,
    memory: Memory,
}

impl Process {
    /// Waits for `work` while the process is watched: it may exit, pass
    /// its deadline, outgrow its memory or be stopped first.
    async fn supervise<T>(
        &mut self,
        work: impl Future<Output = T>,
        deadline: Instant,
        watch: Watch,
        stopped: &mut watch::Receiver<bool>,
    ) -> Ended<T> {
        if *stopped.borrow() {
            return Ended::Stopped;
        }
        tokio::pin!(work);
        let deadline = tokio::time::sleep_until(deadline);
        tokio::pin!(deadline);
        let mut ticks = tokio::time::interval(watch.poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let limit_kb = watch.memory_limit_mb * 1024;
        loop {
            tokio::select! {
                // An answer that arrives with the exit or the deadline counts.
                biased;
                done = &mut work => return Ended::Done(done),
                status = self.child.wait() => {
                    return Ended::Exited(status.unwrap_or_default());
                }
                () = &mut deadline => return Ended::DeadlinePassed,
                _ = stopped.changed() => return Ended::Stopped,
                _ = ticks.tick() => {
                    if let Some(rss_kb) = self.memory.sample().filter(|&kb| kb > limit_kb) {
                        return Ended::OutOfMemory { used_mb: rss_kb.div_ceil(1024) };
                    }
                }
            }
        }
    }
}

/// The resident memory of a process, read from `/proc/<pid>/status`.
struct Memory {
    pid: Option<u32>,
    peak_kb: u64,
}

impl Memory {
    fn of(pid: Option<u32>) -> Memory {
        Memory { pid, peak_kb: 0 }
    }

    /// The current resident set in kB, when the process is still there;
    /// the peak (`VmHWM`) is kept for Lambda's "Max Memory Used".
    fn sample(&mut self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        };
        let rss = field("VmRSS:")?;
        self.peak_kb = self.peak_kb.max(field("VmHWM:").unwrap_or(rss));
        Some(rss)
    }
}

/// Lambda's variables for `provided.al2023`, then the template's, then
/// the caller's: later ones win.
fn environment(config: &FunctionConfig, runtime_api: &str) -> Vec<(String, String)> {
    let spec = &config.spec;
    let root = config.command.task_root.display().to_string();
    // The deployed function's region, unless the caller says otherwise.
    let region = spec.arn.split(':').nth(3).unwrap_or_default().to_string();
    let runtime_dir = "/var/runtime";
    let reserved = [
        ("_HANDLER", HANDLER.to_string()),
        ("AWS_REGION", region.clone()),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_LAMBDA_FUNCTION_NAME", spec.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", spec.log_group.clone()),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            lambda_text::log_stream_name(SystemTime::now()),
        ),
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("LAMBDA_TASK_ROOT", root.clone()),
        ("LAMBDA_RUNTIME_DIR", runtime_dir.into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        (
            "LD_LIBRARY_PATH",
            format!("/lib64:/usr/lib64:{runtime_dir}:{runtime_dir}/lib:{root}:{root}/lib:/opt/lib"),
        ),
    ];
    reserved
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .chain(spec.environment.iter().cloned())
        .chain(config.extra_environment.iter().cloned())
        .collect()
}

/// Sends each line of `output` to `logs`, tagged with the instance's
/// current request id, until the process closes it.
fn forward_lines(
    output: impl AsyncRead + Unpin + Send + 'static,
    stream: LogStream,
    function: &str,
    current: &Arc<Mutex<Option<String>>>,
    logs: &UnboundedSender<LogLine>,
) {
    let (function, current, logs) = (function.to_string(), current.clone(), logs.clone());
    tokio::spawn(async move {
        let mut reader = BufReader::new(output);
        let mut line = Vec::new();
        while let Some(complete) = read_line(&mut reader, &mut line).await {
            if !complete && line.is_empty() {
                break;
            }
            let text =
                String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned();
            let request_id = super::lock(&current).clone();
            let sent = logs.send(LogLine {
                function: function.clone(),
                request_id,
                stream,
                text,
            });
            line.clear();
            if sent.is_err() || !complete {
                break;
            }
        }
    });
}

/// Reads up to a newline or [`LOG_LINE_LIMIT`] bytes into `line`: whether
/// more may follow (`false` at the end of the output), `None` on an error.
async fn read_line(
    reader: &mut BufReader<impl AsyncRead + Unpin>,
    line: &mut Vec<u8>,
) -> Option<bool> {
    loop {
        let available = reader.fill_buf().await.ok()?;
        if available.is_empty() {
            return Some(false);
        }
        let room = LOG_LINE_LIMIT - line.len();
        if let Some(end) = available.iter().take(room).position(|&b| b == b'\n') {
            line.extend_from_slice(&available[..end]);
            reader.consume(end + 1);
            return Some(true);
        }
        let taken = available.len().min(room);
        line.extend_from_slice(&available[..taken]);
        reader.consume(taken);
        if line.len() == LOG_LINE_LIMIT {
            return Some(true);
        }
    }
}

/// Whether the kernel shows process `pid` as exited (a zombie, or gone).
/// Where there is no `/proc` to ask, nothing is known: not exited.
fn exited(pid: u32) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}
