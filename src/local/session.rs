//! A `local` session: the template's functions ready to run and its APIs
//! served, wired to the deployed stack. The CLI resolves the deployment,
//! builds the packages and obtains each function's role credentials; this
//! module starts and stops what runs, and reports through channels (it
//! prints nothing).

use super::functions::{
    launch_command, prepare_bootstrap, Function, FunctionConfig, InvokeResult, Invoked as Ran,
    Limits, LogLine, PrepareError,
};
use super::gateway::{Backend, Gateway, Invoked};
use super::http_client::HttpClient;
use super::key_sets::KeySets;
use super::server::{serve, ApiServer, Served};
use super::template::{self, Api, ApiKind, Deployed, FunctionSpec, Resolver, Unresolved};
use crate::engine::identity::RoleCredentials;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// What the CLI resolved for a session.
pub struct Plan {
    /// The template as `deploy` would ship it now.
    pub template: Value,
    pub deployed: Deployed,
    /// Package zip of each code key the template names.
    pub packages: BTreeMap<String, PathBuf>,
    /// Where unpacked `bootstrap`s are kept.
    pub cache_dir: PathBuf,
    /// The credentials of each function's role, by logical id.
    pub credentials: BTreeMap<String, RoleCredentials>,
    /// What functions use as `AWS_ENDPOINT_URL`: the emulator, or the
    /// proxy that checks their calls; `None` for AWS's own endpoints.
    pub functions_endpoint: Option<String>,
    /// The emulator's endpoint, where user pools' keys are published.
    pub emulator: Option<String>,
    /// The port of the first API; the next APIs take the ports after it.
    /// `0` gives each API a free port.
    pub first_port: u16,
    pub limits: Limits,
}

/// Where a session reports.
#[derive(Clone)]
pub struct Channels {
    pub logs: UnboundedSender<LogLine>,
    pub served: UnboundedSender<Served>,
    pub problems: UnboundedSender<String>,
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{what}: {error}")]
    Unresolved { what: String, error: Unresolved },
    #[error("function {function} has no built package for `{key}`")]
    MissingPackage { function: String, key: String },
    #[error("function {function} has no role credentials")]
    MissingCredentials { function: String },
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    #[error("API {api}: {message}")]
    Api { api: String, message: String },
    #[error("cannot load this machine's root certificates (to fetch user pools' keys): {0}")]
    RootCertificates(#[source] std::io::Error),
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

impl SessionError {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            SessionError::Unresolved { error, .. } => error.resolve_hint().map(|arg| {
                format!("the deployment does not tell it; give it with `--resolve {arg}`")
            }),
            SessionError::MissingPackage { .. } => {
                Some("run `stackctl build` for this environment".into())
            }
            SessionError::Listen { .. } => Some("choose another port with `--port`".into()),
            _ => None,
        }
    }
}

/// One API being served.
#[derive(Debug, Clone)]
pub struct ServedApi {
    pub logical_id: String,
    pub kind: ApiKind,
    pub stage: String,
    pub address: SocketAddr,
    pub routes: usize,
}

impl ServedApi {
    /// The base URL a client calls: REST APIs and named stages under the stage.
    pub fn url(&self) -> String {
        match (self.kind, self.stage.as_str()) {
            (ApiKind::Http, "$default") => format!("http://{}", self.address),
            _ => format!("http://{}/{}", self.address, self.stage),
        }
    }
}

/// A running session.
pub struct Session {
    pub apis: Vec<ServedApi>,
    specs: Vec<FunctionSpec>,
    backend: Arc<LocalBackend>,
    _servers: Vec<ApiServer>,
}

impl Session {
    /// Prepares every function and serves every API.
    pub async fn start(plan: Plan, channels: Channels) -> Result<Session, SessionError> {
        let resolver = Resolver::new(&plan.template, &plan.deployed);
        let specs = template::functions(&plan.template, &resolver)
            .map_err(|(what, error)| SessionError::Unresolved { what, error })?;
        let apis = template::apis(&plan.template, &resolver)
            .map_err(|(what, error)| SessionError::Unresolved { what, error })?;
        let mut functions = HashMap::new();
        for spec in &specs {
            let config = function_config(&plan, spec)?;
            let function = Function::new(config, channels.logs.clone(), plan.limits.clone());
            functions.insert(spec.logical_id.clone(), Arc::new(function));
        }
        // The emulator publishes key sets over plain HTTP; AWS over HTTPS.
        let client = match plan.emulator {
            Some(_) => HttpClient::plain(),
            None => HttpClient::tls().map_err(SessionError::RootCertificates)?,
        };
        let backend = Arc::new(LocalBackend {
            functions,
            keys: KeySets::new(client, plan.emulator.clone(), channels.problems.clone()),
        });
        let (served, servers) = serve_apis(&plan, apis, &backend, &channels).await?;
        Ok(Session {
            apis: served,
            specs,
            backend,
            _servers: servers,
        })
    }

    /// The template's functions.
    pub fn functions(&self) -> &[FunctionSpec] {
        &self.specs
    }

    /// One invocation of the function with logical id `function`; `None`
    /// when the template has no such function.
    pub async fn invoke(&self, function: &str, event: Vec<u8>) -> Option<Ran> {
        let target = self.backend.functions.get(function)?;
        Some(target.invoke(event).await)
    }

    /// Stops every function's processes.
    pub async fn shutdown(&self) {
        for function in self.backend.functions.values() {
            function.shutdown().await;
        }
    }
}

/// How one function runs: its package unpacked, Lambda's environment, the
/// role's credentials.
fn function_config(plan: &Plan, spec: &FunctionSpec) -> Result<FunctionConfig, SessionError> {
    let package =
        plan.packages
            .get(&spec.code_key)
            .ok_or_else(|| SessionError::MissingPackage {
                function: spec.logical_id.clone(),
                key: spec.code_key.clone(),
            })?;
    let bootstrap = prepare_bootstrap(package, &plan.cache_dir)?;
    let command = launch_command(spec, &bootstrap)?;
    let credentials =
        plan.credentials
            .get(&spec.logical_id)
            .ok_or_else(|| SessionError::MissingCredentials {
                function: spec.logical_id.clone(),
            })?;
    let region = plan.deployed.region.clone();
    let mut extra = vec![
        ("AWS_REGION".to_string(), region.clone()),
        ("AWS_DEFAULT_REGION".to_string(), region),
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            credentials.access_key_id.clone(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            credentials.secret_access_key.clone(),
        ),
        (
            "AWS_SESSION_TOKEN".to_string(),
            credentials.session_token.clone(),
        ),
    ];
    if let Some(endpoint) = &plan.functions_endpoint {
        extra.push(("AWS_ENDPOINT_URL".to_string(), endpoint.clone()));
    }
    Ok(FunctionConfig {
        spec: spec.clone(),
        command,
        extra_environment: extra,
    })
}

async fn serve_apis(
    plan: &Plan,
    apis: Vec<Api>,
    backend: &Arc<LocalBackend>,
    channels: &Channels,
) -> Result<(Vec<ServedApi>, Vec<ApiServer>), SessionError> {
    let mut served = Vec::new();
    let mut servers = Vec::new();
    for (offset, api) in apis.into_iter().enumerate() {
        let port = match plan.first_port {
            0 => 0,
            first => first.saturating_add(offset as u16),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| SessionError::Listen { port, source })?;
        let info = ServedApi {
            logical_id: api.logical_id.clone(),
            kind: api.kind,
            stage: api.stage.clone(),
            address: listener
                .local_addr()
                .map_err(|source| SessionError::Listen { port, source })?,
            routes: api.routes.len() + api.mocks.len(),
        };
        for response in api.gateway_responses.iter() {
            if !response.not_applied.is_empty() {
                let _ = channels.problems.send(format!(
                    "API {}: `local` does not apply {} of its {} gateway response",
                    api.logical_id,
                    response.not_applied.join(", "),
                    response.response_type
                ));
            }
        }
        let gateway = Gateway::new(
            api,
            &plan.deployed.region,
            &plan.deployed.account,
            backend.clone(),
        )
        .map_err(|message| SessionError::Api {
            api: info.logical_id.clone(),
            message,
        })?;
        let server = serve(listener, Arc::new(gateway), channels.served.clone())
            .map_err(|source| SessionError::Listen { port, source })?;
        served.push(info);
        servers.push(server);
    }
    Ok((served, servers))
}

/// Functions run here, keys fetched from the pools' issuers.
struct LocalBackend {
    functions: HashMap<String, Arc<Function>>,
    keys: KeySets,
}

impl Backend for LocalBackend {
    fn invoke<'a>(&'a self, function: &'a str, event: Vec<u8>) -> BoxFuture<'a, Invoked> {
        Box::pin(async move {
            let Some(target) = self.functions.get(function) else {
                // The template's integration names a function it does not
                // define: CloudFormation would have refused it.
                return Invoked::Failed {
                    error_type: format!("no function {function} in the template"),
                    body: Vec::new(),
                };
            };
            integration_view(target.invoke(event).await.result)
        })
    }

    fn key_sets<'a>(
        &'a self,
        issuers: &'a [String],
    ) -> BoxFuture<'a, BTreeMap<String, Arc<super::authorizer::Jwks>>> {
        Box::pin(self.keys.get(issuers))
    }
}

/// What an API's integration sees of an invocation.
fn integration_view(result: InvokeResult) -> Invoked {
    let error_type = match &result {
        InvokeResult::Response(_) | InvokeResult::Throttled => "",
        InvokeResult::FunctionError { error_type, .. }
        | InvokeResult::InitError { error_type, .. } => error_type,
        InvokeResult::Timeout { .. } => "Sandbox.Timedout",
        InvokeResult::OutOfMemory { .. } => "Runtime.OutOfMemory",
        InvokeResult::Crashed { .. } => "Runtime.ExitError",
        InvokeResult::ResponseTooLarge { .. } => "Function.ResponseSizeTooLarge",
        InvokeResult::Stopped => "the session is stopping",
    }
    .to_string();
    match result {
        InvokeResult::Response(body) => Invoked::Answer(body),
        InvokeResult::Throttled => Invoked::Throttled,
        other => Invoked::Failed {
            error_type,
            body: other.error_payload().unwrap_or_default().to_vec(),
        },
    }
}
