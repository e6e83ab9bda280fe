//! A function's `bootstrap` run as Lambda runs it (issue 10): each instance
//! is one process behind its own [`RuntimeApi`], with Lambda's environment,
//! memory size and timeout; warm instances are reused, concurrent
//! invocations start more up to the function's concurrency, and whatever
//! Lambda would report (a timeout, running out of memory, a crash, an init
//! error, a throttle) comes back as a value.
//!
//! Nothing here prints: the processes' output and Lambda's `START`/`END`/
//! `REPORT` lines go to the caller as [`LogLine`]s.
//!
//! [`RuntimeApi`]: super::runtime_api::RuntimeApi

mod instance;
mod lambda_text;
mod prepare;

pub use prepare::{launch_command, prepare_bootstrap, BootstrapCommand, PrepareError};

use super::runtime_api::{Invocation, Outcome};
use super::template::FunctionSpec;
use instance::{Ended, Instance};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc::UnboundedSender, watch, Semaphore};

/// What runs one function: its template entry, the command that starts
/// its `bootstrap`, and the variables the caller adds (credentials,
/// region, endpoints), which win over the template's.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    pub spec: FunctionSpec,
    pub command: BootstrapCommand,
    pub extra_environment: Vec<(String, String)>,
}

/// The supervisor's own limits; Lambda's where Lambda has one.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Processes of a function whose template reserves no concurrency.
    /// Lambda would start up to the account's limit (1,000 by default) for
    /// it, so invocations beyond these wait for a free instance instead of
    /// being throttled: a local cap must not fail what AWS would run.
    pub default_concurrency: u32,
    /// Lambda's init phase limit.
    pub init_timeout: Duration,
    /// How often a running process's memory is read.
    pub memory_poll: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            default_concurrency: 10,
            init_timeout: Duration::from_secs(10),
            memory_poll: Duration::from_millis(20),
        }
    }
}

/// One line a function's process wrote, or one of Lambda's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The function's logical id.
    pub function: String,
    /// The invocation the instance last received; `None` during its init.
    pub request_id: Option<String>,
    pub stream: LogStream,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
    /// Lambda's `START`, `END`, `REPORT` and timeout lines.
    Platform,
}

/// How one invocation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    pub request_id: String,
    pub result: InvokeResult,
    /// From handing the event over to the answer (or the kill).
    pub duration: Duration,
    /// Set when the invocation started a new instance (a cold start).
    pub init_duration: Option<Duration>,
    /// The instance's peak resident memory so far.
    pub max_memory_mb: u64,
}

/// What Lambda would answer. The error variants carry the body Lambda's
/// `Invoke` returns with `X-Amz-Function-Error: Unhandled`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeResult {
    Response(Vec<u8>),
    /// The function reported an error (`…/error`); the body as it sent it.
    FunctionError {
        error_type: String,
        body: Vec<u8>,
    },
    /// Killed at its deadline.
    Timeout {
        after: Duration,
        body: Vec<u8>,
    },
    /// Killed for going over its memory size (`Runtime.OutOfMemory`).
    OutOfMemory {
        used_mb: u64,
        body: Vec<u8>,
    },
    /// The process exited mid-invocation (`Runtime.ExitError`); `reason` as
    /// Lambda words it: `exit status 1`, `signal: killed`.
    Crashed {
        reason: String,
        body: Vec<u8>,
    },
    /// The function could not start: it reported an init error, exited or
    /// ran out of time before asking for its first event, or could not be
    /// started at all.
    InitError {
        error_type: String,
        body: Vec<u8>,
    },
    /// Over the function's concurrency: Lambda's 429
    /// `TooManyRequestsException`. Nothing ran.
    Throttled,
    /// The answer went over Lambda's 6 MB (`Function.ResponseSizeTooLarge`).
    ResponseTooLarge {
        body: Vec<u8>,
    },
    /// The function was shut down; nothing more runs.
    Stopped,
}

impl InvokeResult {
    /// The payload of a function error, as Lambda's `Invoke` answers it.
    pub fn error_payload(&self) -> Option<&[u8]> {
        match self {
            InvokeResult::FunctionError { body, .. }
            | InvokeResult::Timeout { body, .. }
            | InvokeResult::OutOfMemory { body, .. }
            | InvokeResult::Crashed { body, .. }
            | InvokeResult::InitError { body, .. }
            | InvokeResult::ResponseTooLarge { body } => Some(body),
            InvokeResult::Response(_) | InvokeResult::Throttled | InvokeResult::Stopped => None,
        }
    }
}

/// One function's instances.
pub struct Function {
    config: FunctionConfig,
    logs: UnboundedSender<LogLine>,
    limits: Limits,
    /// Warm instances, the most recently used last: Lambda reuses the
    /// warmest, so the others age out as load drops.
    idle: Mutex<Vec<Instance>>,
    /// One permit per invocation in flight.
    slots: Semaphore,
    capacity: u32,
    stopped: watch::Sender<bool>,
}

impl Function {
    pub fn new(config: FunctionConfig, logs: UnboundedSender<LogLine>, limits: Limits) -> Function {
        let capacity = config
            .spec
            .reserved_concurrency
            .unwrap_or(limits.default_concurrency);
        Function {
            config,
            logs,
            limits,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(capacity as usize),
            capacity,
            stopped: watch::Sender::new(false),
        }
    }

    /// Runs one invocation on a warm instance, or on a new one when none is
    /// idle and the function's concurrency allows it.
    pub async fn invoke(&self, payload: Vec<u8>) -> Invoked {
        let request_id = uuid::Uuid::new_v4().to_string();
        let stopped = self.stopped.subscribe();
        // Reserved concurrency is a hard limit on AWS too: over it, Lambda
        // throttles at once. Without it, only this machine's cap applies.
        let slot = match self.config.spec.reserved_concurrency {
            Some(_) => self.slots.try_acquire().ok(),
            None => self.slots.acquire().await.ok(),
        };
        let Some(_slot) = slot else {
            return at_once(request_id, InvokeResult::Throttled);
        };
        if *stopped.borrow() {
            return at_once(request_id, InvokeResult::Stopped);
        }
        let (instance, init_duration) = match self.warm_instance() {
            Some(instance) => (instance, None),
            None => match self.cold_start(&request_id, stopped.clone()).await {
                (Ok(instance), init) => (instance, Some(init)),
                (Err(failed), init) => return self.failed_init(request_id, failed, init),
            },
        };
        self.run(instance, request_id, payload, init_duration, stopped)
            .await
    }

    /// Kills every instance, busy ones included, and waits for them to go.
    pub async fn shutdown(&self) {
        self.stopped.send_replace(true);
        let idle = std::mem::take(&mut *lock(&self.idle));
        for instance in idle {
            instance.kill().await;
        }
        // Busy instances see `stopped`, kill their process and give back
        // their slot: holding every slot means all of them are gone.
        let _all = self.slots.acquire_many(self.capacity).await;
    }

    fn warm_instance(&self) -> Option<Instance> {
        let mut idle = lock(&self.idle);
        // One that exited while idle is dropped: the next is cold, as on Lambda.
        std::iter::from_fn(|| idle.pop())
            .find_map(|mut instance| instance.is_alive().then_some(instance))
    }

    /// Starts a process and waits out its init phase.
    async fn cold_start(
        &self,
        request_id: &str,
        mut stopped: watch::Receiver<bool>,
    ) -> (Result<Instance, InvokeResult>, Duration) {
        let started = Instant::now();
        let mut instance = match Instance::spawn(&self.config, &self.logs).await {
            Ok(instance) => instance,
            Err(e) => {
                let program = &self.config.command.program;
                return (
                    Err(invalid_entrypoint(request_id, program, e)),
                    started.elapsed(),
                );
            }
        };
        let deadline = started + self.limits.init_timeout;
        let ended = instance.init(deadline, self.watch(), &mut stopped).await;
        let init = started.elapsed();
        let failed = match ended {
            Ended::Done(()) => return (Ok(instance), init),
            Ended::Exited(status) => exited_during_init(request_id, status),
            Ended::DeadlinePassed => init_timed_out(request_id, self.limits.init_timeout),
            Ended::OutOfMemory { used_mb } => out_of_memory(request_id, used_mb),
            Ended::Stopped => InvokeResult::Stopped,
        };
        instance.kill().await;
        (Err(failed), init)
    }

    fn failed_init(&self, request_id: String, result: InvokeResult, init: Duration) -> Invoked {
        self.log(&request_id, lambda_text::start_line(&request_id));
        let invoked = Invoked {
            request_id,
            result,
            duration: Duration::ZERO,
            init_duration: Some(init),
            max_memory_mb: 0,
        };
        self.log_report(&invoked);
        invoked
    }

    /// Hands the event to `instance` and turns how it ended into Lambda's answer.
    async fn run(
        &self,
        mut instance: Instance,
        request_id: String,
        payload: Vec<u8>,
        init_duration: Option<Duration>,
        mut stopped: watch::Receiver<bool>,
    ) -> Invoked {
        let spec = &self.config.spec;
        let timeout = Duration::from_secs(u64::from(spec.timeout_s));
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload,
            deadline_ms: epoch_ms(SystemTime::now() + timeout),
            function_arn: spec.arn.clone(),
            trace_id: lambda_text::trace_id(&request_id, SystemTime::now()),
        };
        self.log(&request_id, lambda_text::start_line(&request_id));
        let started = Instant::now();
        let ended = instance
            .run(invocation, started + timeout, self.watch(), &mut stopped)
            .await;
        let duration = started.elapsed();
        let (result, keep) = self.answer(ended, &request_id, timeout);
        let invoked = Invoked {
            request_id,
            result,
            duration,
            init_duration,
            max_memory_mb: instance.max_memory_mb(),
        };
        self.log_report(&invoked);
        if keep {
            self.park(instance).await;
        } else {
            instance.kill().await;
        }
        invoked
    }

    /// Lambda's answer, and whether the instance stays warm.
    fn answer(
        &self,
        ended: Ended<Outcome>,
        request_id: &str,
        timeout: Duration,
    ) -> (InvokeResult, bool) {
        match ended {
            Ended::Done(Outcome::Response(body)) => (InvokeResult::Response(body), true),
            Ended::Done(Outcome::Error { error_type, body }) => {
                (InvokeResult::FunctionError { error_type, body }, true)
            }
            Ended::Done(Outcome::InitError { error_type, body }) => {
                (InvokeResult::InitError { error_type, body }, false)
            }
            Ended::Done(Outcome::ResponseTooLarge) => {
                let body = lambda_text::response_too_large_body();
                (InvokeResult::ResponseTooLarge { body }, true)
            }
            Ended::Done(Outcome::Lost) => {
                let reason = "the runtime's connection broke while it answered";
                (crashed(request_id, reason.into()), false)
            }
            Ended::Exited(status) => (crashed(request_id, lambda_text::exit_reason(status)), false),
            Ended::DeadlinePassed => {
                let line = lambda_text::timed_out_line(request_id, SystemTime::now(), timeout);
                self.log(request_id, line.clone());
                let body = serde_json::json!({ "errorMessage": line }).to_string();
                let result = InvokeResult::Timeout {
                    after: timeout,
                    body: body.into_bytes(),
                };
                (result, false)
            }
            Ended::OutOfMemory { used_mb } => (out_of_memory(request_id, used_mb), false),
            Ended::Stopped => (InvokeResult::Stopped, false),
        }
    }

    /// Back to the idle pool, unless the function is shutting down.
    async fn park(&self, instance: Instance) {
        let refused = {
            let mut idle = lock(&self.idle);
            if *self.stopped.borrow() {
                Some(instance)
            } else {
                idle.push(instance);
                None
            }
        };
        if let Some(instance) = refused {
            instance.kill().await;
        }
    }

    fn watch(&self) -> instance::Watch {
        instance::Watch {
            memory_limit_mb: u64::from(self.config.spec.memory_mb),
            poll: self.limits.memory_poll,
        }
    }

    fn log_report(&self, invoked: &Invoked) {
        let id = &invoked.request_id;
        self.log(id, lambda_text::end_line(id));
        let report = lambda_text::report_line(invoked, self.config.spec.memory_mb);
        self.log(id, report);
    }

    fn log(&self, request_id: &str, text: String) {
        // A caller that stopped listening only loses the lines.
        let _ = self.logs.send(LogLine {
            function: self.config.spec.logical_id.clone(),
            request_id: Some(request_id.to_string()),
            stream: LogStream::Platform,
            text,
        });
    }
}

fn at_once(request_id: String, result: InvokeResult) -> Invoked {
    Invoked {
        request_id,
        result,
        duration: Duration::ZERO,
        init_duration: None,
        max_memory_mb: 0,
    }
}

fn crashed(request_id: &str, reason: String) -> InvokeResult {
    let body = lambda_text::exit_error_body("Runtime.ExitError", request_id, &reason);
    InvokeResult::Crashed { reason, body }
}

/// Lambda's words for a `bootstrap` it cannot start (Go's `fork/exec`).
fn invalid_entrypoint(
    request_id: &str,
    program: &std::path::Path,
    e: std::io::Error,
) -> InvokeResult {
    let reason = format!("fork/exec {}: {e}", program.display());
    InvokeResult::InitError {
        error_type: "Runtime.InvalidEntrypoint".into(),
        body: lambda_text::error_body("Runtime.InvalidEntrypoint", request_id, &reason),
    }
}

fn exited_during_init(request_id: &str, status: std::process::ExitStatus) -> InvokeResult {
    let reason = lambda_text::exit_reason(status);
    InvokeResult::InitError {
        error_type: "Runtime.ExitError".into(),
        body: lambda_text::exit_error_body("Runtime.ExitError", request_id, &reason),
    }
}

fn init_timed_out(request_id: &str, limit: Duration) -> InvokeResult {
    let reason = format!(
        "Init phase timed out after {:.2} seconds",
        limit.as_secs_f64()
    );
    InvokeResult::InitError {
        error_type: "Sandbox.Timedout".into(),
        body: lambda_text::error_body("Sandbox.Timedout", request_id, &reason),
    }
}

fn out_of_memory(request_id: &str, used_mb: u64) -> InvokeResult {
    // Lambda words it as the kill it is.
    let body = lambda_text::exit_error_body("Runtime.OutOfMemory", request_id, "signal: killed");
    InvokeResult::OutOfMemory { used_mb, body }
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
