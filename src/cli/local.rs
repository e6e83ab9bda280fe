//! `stackctl local`: the stack's APIs served on this machine through its
//! real packages, against the deployed stack; `stackctl local invoke`: one
//! invocation of one function. The session itself is `crate::local`'s;
//! this module resolves what it needs, and prints what it reports.

use super::args::{LocalAction, LocalArgs, LocalInvokeArgs, LocalSessionArgs};
use super::exit;
use super::settings::{connect, Aws, Settings};
use super::stacks::{declared_regions, load_stacks};
use super::targets::prepare;
use super::ui::Ui;
use crate::engine::context::local_endpoint;
use crate::engine::identity::RoleCredentials;
use crate::engine::stacks::Stacks as _;
use crate::local::aws_proxy::{Caller, StackContext};
use crate::local::functions::{InvokeResult, Limits, LogLine, LogStream};
use crate::local::iam::{function_name, role_policy};
use crate::local::server::Served;
use crate::local::session::{Channels, Plan};
use crate::local::template::{self, Deployed, FunctionSpec, Resolver};
use aws_credential_types::provider::ProvideCredentials as _;
use aws_credential_types::Credentials;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

mod queues;
mod watch;

pub fn run(settings: &Settings, args: &LocalArgs, ui: &Ui) -> anyhow::Result<u8> {
    match &args.action {
        Some(LocalAction::Invoke(invoke)) => run_invoke(settings, invoke, ui),
        None => {
            let env = args.env.as_deref().unwrap_or_default();
            let stack = args.stack.as_deref().unwrap_or_default();
            let Some(found) = find_deployment(settings, env, stack, &args.session, ui)? else {
                return Ok(exit::FAILURE);
            };
            watch::serve(found, args.port, &args.session, ui)
        }
    }
}

/// The deployed stack, the template `deploy` would ship now and its
/// packages, with credentials for every function's role.
pub(super) struct Found {
    pub aws: Aws,
    pub template: Value,
    pub deployed: Deployed,
    pub packages: BTreeMap<String, PathBuf>,
    pub credentials: BTreeMap<String, RoleCredentials>,
    /// What the proxy that checks the functions' AWS calls needs.
    pub stack_context: StackContext,
    pub callers: Vec<Caller>,
    /// Your own credentials, for the proxy's own calls (a resource's tags).
    pub lookup_credentials: Option<Credentials>,
    pub stack: String,
    /// Where unpacked `bootstrap`s are kept, under the build folder.
    pub cache_dir: PathBuf,
}

fn find_deployment(
    settings: &Settings,
    env: &str,
    stack: &str,
    session: &LocalSessionArgs,
    ui: &Ui,
) -> anyhow::Result<Option<Found>> {
    let overrides = match parse_resolve(&session.resolve) {
        Ok(o) => o,
        Err(bad) => {
            ui.error(
                &format!("`--resolve {bad}` is not KEY=VALUE"),
                Some("write `--resolve LOGICAL_ID=PHYSICAL_ID` or `--resolve LOGICAL_ID.ATTRIBUTE=VALUE`"),
            );
            return Ok(None);
        }
    };
    let (stacks, failures) = load_stacks(&settings.stacks_dir, &[stack.to_string()], ui)?;
    if failures > 0 || stacks.is_empty() {
        return Ok(None);
    }
    let aws = connect(settings, &declared_regions(&stacks, env), true, ui)?;
    let lookup_credentials = developer_credentials(&aws);
    let Some(targets) = prepare(settings, &stacks, env, ui)? else {
        return Ok(None);
    };
    let Some(target) = targets.into_iter().find(|t| !t.account_settings) else {
        return Ok(None);
    };
    let Some(deployed) = read_deployment(
        &aws,
        &target.deployment.stack_name,
        overrides,
        env,
        stack,
        ui,
    )?
    else {
        return Ok(None);
    };
    let packages = target
        .shipments
        .iter()
        .map(|s| (s.key.clone(), s.path.clone()))
        .collect();
    let resolver = Resolver::new(&target.template, &deployed);
    let specs = match template::functions(&target.template, &resolver) {
        Ok(specs) => specs,
        Err((what, error)) => {
            let hint = error.resolve_hint().map(|arg| {
                format!("the deployment does not tell it; give it with `--resolve {arg}`")
            });
            ui.error(&format!("{what}: {error}"), hint.as_deref());
            return Ok(None);
        }
    };
    let Some(assumed) = assume_roles(&aws, &specs, ui) else {
        return Ok(None);
    };
    let resolved = stacks[0].source.resolve(env);
    let def = resolved.valid_def().expect("rendered, so valid");
    let Some(callers) = callers(&target.template, &resolver, def, &specs, &assumed, ui) else {
        return Ok(None);
    };
    let stack_context = StackContext::new(def, &target.template, &deployed);
    let credentials = assumed.into_iter().map(|(f, (c, _))| (f, c)).collect();
    Ok(Some(Found {
        stack_context,
        callers,
        lookup_credentials,
        template: target.template,
        deployed,
        packages,
        credentials,
        aws,
        stack: stack.to_string(),
        // Absolute: each function runs in its own folder, where a relative
        // path to its `bootstrap` would no longer lead anywhere.
        cache_dir: std::path::absolute(settings.build_dir.join("local"))?,
    }))
}

/// The credentials `stackctl local` itself runs with, resolved once. The
/// proxy signs its own calls with them: when a function's role allows a
/// call only on resources with certain tags, it asks EC2 for the tags,
/// which the function's role may not. `None` when they cannot be resolved
/// (such a condition then stays undecided and says why).
fn developer_credentials(aws: &Aws) -> Option<Credentials> {
    let provider = aws.context.sdk().credentials_provider()?;
    aws.runtime.block_on(provider.provide_credentials()).ok()
}

/// The deployed stack `name`: its resources' physical ids and its outputs;
/// `None` after saying it is not deployed.
fn read_deployment(
    aws: &Aws,
    name: &str,
    overrides: BTreeMap<String, String>,
    env: &str,
    stack: &str,
    ui: &Ui,
) -> anyhow::Result<Option<Deployed>> {
    let cfn = aws.context.cloudformation();
    let Some(state) = aws.runtime.block_on(cfn.describe(name))? else {
        ui.error(
            &format!("stack {name} does not exist in {}", aws.context.region()),
            Some(&format!("`local` runs against the deployed stack: deploy it first with `stackctl deploy --env {env} {stack}`")),
        );
        return Ok(None);
    };
    let resources = aws.runtime.block_on(cfn.resources(name))?;
    Ok(Some(Deployed {
        stack_name: name.to_string(),
        region: aws.context.region().to_string(),
        account: aws.context.account().to_string(),
        physical_ids: resources
            .into_iter()
            .map(|r| (r.logical_id, r.physical_id))
            .collect(),
        outputs: state.outputs.into_iter().collect(),
        overrides,
    }))
}

/// What the IAM proxy knows of each function: its stack-file name, its
/// session's keys and its role's policy; `None` after saying which role
/// the template does not hold.
fn callers(
    template: &Value,
    resolver: &Resolver<'_>,
    def: &crate::model::StackDef,
    specs: &[FunctionSpec],
    assumed: &BTreeMap<String, (RoleCredentials, String)>,
    ui: &Ui,
) -> Option<Vec<Caller>> {
    let mut callers = Vec::new();
    for spec in specs {
        let policy = match role_policy(template, resolver, spec) {
            Ok(policy) => policy,
            Err(e) => {
                ui.error(&e.to_string(), None);
                return None;
            }
        };
        let (credentials, session_name) = &assumed[&spec.logical_id];
        callers.push(Caller {
            function: function_name(def, &spec.logical_id)
                .unwrap_or(&spec.logical_id)
                .to_string(),
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.clone(),
            session_token: Some(credentials.session_token.clone()),
            session_name: session_name.clone(),
            policy,
        });
    }
    Some(callers)
}

/// `KEY=VALUE` pairs; the first argument that is not one on error.
fn parse_resolve(args: &[String]) -> Result<BTreeMap<String, String>, String> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((key, value)) if !key.is_empty() && !value.is_empty() => {
                Ok((key.to_string(), value.to_string()))
            }
            _ => Err(arg.clone()),
        })
        .collect()
}

/// Credentials of each function's own role, with the session name each
/// was assumed under (one session per function: the proxy tells functions
/// apart by their keys); `None` after saying which role could not be
/// assumed and why.
fn assume_roles(
    aws: &Aws,
    specs: &[FunctionSpec],
    ui: &Ui,
) -> Option<BTreeMap<String, (RoleCredentials, String)>> {
    let sts = aws.context.sts();
    let mut out = BTreeMap::new();
    for spec in specs {
        let session: String = format!("stackctl-local-{}", spec.logical_id)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
            .take(64)
            .collect();
        match aws
            .runtime
            .block_on(sts.assume_role(&spec.role_arn, &session))
        {
            Ok(credentials) => {
                out.insert(spec.logical_id.clone(), (credentials, session));
            }
            Err(error) => {
                ui.error(
                    &format!("function {} cannot run with its own role: {error}", spec.logical_id),
                    Some(
                        "`local` never runs a function with your credentials. On AWS a function's role trusts \
                         only lambda.amazonaws.com: list your role or user under `local_principals:` for this \
                         environment (never prod), deploy, and run `stackctl local` again",
                    ),
                );
                return None;
            }
        }
    }
    Some(out)
}

/// The session's plan for what was found.
pub(super) fn plan(found: &Found, first_port: u16, functions_endpoint: Option<String>) -> Plan {
    Plan {
        template: found.template.clone(),
        deployed: found.deployed.clone(),
        packages: found.packages.clone(),
        cache_dir: found.cache_dir.clone(),
        credentials: found.credentials.clone(),
        functions_endpoint,
        emulator: local_endpoint(),
        first_port,
        limits: Limits::default(),
    }
}

/// The channels a session reports on, and their receiving ends.
pub(super) struct Reports {
    pub logs: UnboundedReceiver<LogLine>,
    pub served: UnboundedReceiver<Served>,
    pub problems: UnboundedReceiver<String>,
}

pub(super) fn channels() -> (Channels, Reports) {
    let (logs, logs_rx) = unbounded_channel();
    let (served, served_rx) = unbounded_channel();
    let (problems, problems_rx) = unbounded_channel();
    (
        Channels {
            logs,
            served,
            problems,
        },
        Reports {
            logs: logs_rx,
            served: served_rx,
            problems: problems_rx,
        },
    )
}

/// `[GuitarsFunction 1b2c3d4e] text`: a function's line, tagged.
pub(super) fn log_text(line: &LogLine) -> String {
    let request = line
        .request_id
        .as_deref()
        .map(|id| format!(" {}", &id[..id.len().min(8)]))
        .unwrap_or_default();
    let marker = match line.stream {
        LogStream::Platform => "* ",
        LogStream::Stdout | LogStream::Stderr => "",
    };
    format!("[{}{request}] {marker}{}", line.function, line.text)
}

/// The function of the stack named `wanted`, by stack-file name or logical id.
pub(super) fn function_named<'s>(
    specs: &'s [FunctionSpec],
    wanted: &str,
) -> Option<&'s FunctionSpec> {
    let logical = crate::kinds::FUNCTION.logical_id(wanted);
    specs
        .iter()
        .find(|s| s.logical_id == wanted || s.logical_id == logical)
}

fn run_invoke(settings: &Settings, args: &LocalInvokeArgs, ui: &Ui) -> anyhow::Result<u8> {
    let event = match &args.event {
        Some(path) if path.as_os_str() == "-" => Some(std::io::read_to_string(std::io::stdin())?),
        Some(path) => {
            Some(std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!("cannot read the event file {}: {e}", path.display())
            })?)
        }
        None => None,
    };
    if let Some(text) = &event {
        if let Err(e) = serde_json::from_str::<Value>(text) {
            ui.error(&format!("the event is not JSON: {e}"), None);
            return Ok(exit::USAGE);
        }
    }
    let Some(found) = find_deployment(settings, &args.env, &args.stack, &args.session, ui)? else {
        return Ok(exit::FAILURE);
    };
    let resolver = Resolver::new(&found.template, &found.deployed);
    let specs = template::functions(&found.template, &resolver).unwrap_or_default();
    let Some(spec) = function_named(&specs, &args.function) else {
        let names: Vec<&str> = specs.iter().map(|s| s.logical_id.as_str()).collect();
        ui.error(
            &format!("stack {} has no function {}", args.stack, args.function),
            Some(&format!("its functions: {}", names.join(", "))),
        );
        return Ok(exit::USAGE);
    };
    let payload = match (&args.schedule, event) {
        (Some(schedule), _) => match watch::schedule_payload(&found, &spec.logical_id, schedule) {
            Ok(payload) => payload,
            Err(message) => {
                ui.error(&message, None);
                return Ok(exit::USAGE);
            }
        },
        (None, Some(text)) => text.into_bytes(),
        (None, None) => json!({}).to_string().into_bytes(),
    };
    let function = spec.logical_id.clone();
    watch::invoke_once(found, &function, payload, ui)
}

/// Prints the result of one invocation: the answer on stdout, an error on
/// stderr. Returns the exit code.
pub(super) fn report_invocation(result: &InvokeResult, ui: &Ui) -> u8 {
    match result {
        InvokeResult::Response(body) => {
            let _ = writeln!(ui.out(), "{}", String::from_utf8_lossy(body));
            exit::OK
        }
        InvokeResult::Throttled => {
            ui.error(
                "the function is at its concurrency limit (TooManyRequestsException)",
                None,
            );
            exit::FAILURE
        }
        InvokeResult::Stopped => {
            ui.error("the session stopped before the function answered", None);
            exit::FAILURE
        }
        failed => {
            let body = failed.error_payload().unwrap_or_default();
            ui.error(
                &format!("the function failed: {}", String::from_utf8_lossy(body)),
                None,
            );
            exit::FAILURE
        }
    }
}
