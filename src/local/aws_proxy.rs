//! The AWS endpoint of `stackctl local`'s functions. Each function process
//! gets `AWS_ENDPOINT_URL` pointing here; every call is matched to its
//! function by the access key of its signature (the function's own
//! AssumeRole credentials), classified into IAM actions and resources,
//! evaluated against the function's role, and either answered with AWS's
//! access-denied error in the service's protocol or forwarded upstream
//! with the answer relayed. Denied and unchecked calls are reported on a
//! channel as they happen and kept for [`AwsProxy::report`]; nothing is
//! printed here. A call the role would allow only on a resource with
//! certain tags gets those tags looked up ([`resource_tags`]) and is
//! evaluated again.

mod credential;
mod denial;
mod report;
mod resource_tags;
mod upstream;

pub use report::{Event, Finding, Report, Unchecked};
pub use upstream::{ForwardError, Upstream};

use crate::local::http_client::HttpClient;
use crate::local::iam::condition::resource_tag_key;
use crate::local::iam::{
    self, Call, Check, Classified, Context, Decision, Evaluation, RolePolicy, StackTerms, Usage,
};
use crate::local::template::{Deployed, Resolver};
use crate::model::StackDef;
use aws_credential_types::Credentials;
use bytes::Bytes;
use credential::Credential;
use denial::Protocol;
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use resource_tags::{Ec2Resource, TagLookup};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use upstream::{client_for, Target};

/// The most of a request body the proxy holds: calls are classified from
/// their bodies. S3 single uploads through `local` are small (images).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// One function, as the proxy knows it.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The function's stack-file name (`images`).
    pub function: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// The `RoleSessionName` of its AssumeRole call (named in denials, as
    /// AWS names `assumed-role/ROLE/SESSION`).
    pub session_name: String,
    pub policy: RolePolicy,
}

/// The deployed stack, as the proxy needs it.
#[derive(Debug, Clone)]
pub struct StackContext {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub terms: StackTerms,
}

impl StackContext {
    pub fn new(def: &StackDef, template: &Value, deployed: &Deployed) -> StackContext {
        let resolver = Resolver::new(template, deployed);
        StackContext {
            partition: resolver
                .string(&json!({"Ref": "AWS::Partition"}))
                .unwrap_or_else(|_| "aws".into()),
            region: deployed.region.clone(),
            account: deployed.account.clone(),
            terms: StackTerms::new(def, &resolver),
        }
    }
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

struct Known {
    caller: Caller,
    usage: Mutex<Usage>,
}

#[derive(Default)]
struct Found {
    denied: Vec<Finding>,
    unchecked: Vec<Unchecked>,
}

struct State {
    upstream: Upstream,
    client: HttpClient,
    callers: Vec<Known>,
    stack: StackContext,
    secret_arns: Vec<String>,
    found: Mutex<Found>,
    events: UnboundedSender<Event>,
    tags: TagLookup,
}

/// A running proxy on a local port.
pub struct AwsProxy {
    address: SocketAddr,
    state: Arc<State>,
    events: Mutex<Option<UnboundedReceiver<Event>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl AwsProxy {
    /// Listens on a free port of 127.0.0.1, with no credentials to look
    /// up a resource's tags with (a condition on them stays undecided).
    pub async fn start(
        upstream: Upstream,
        callers: Vec<Caller>,
        stack: StackContext,
    ) -> std::io::Result<AwsProxy> {
        AwsProxy::start_with_lookups(upstream, callers, stack, None).await
    }

    /// Listens on a free port of 127.0.0.1. `lookup_credentials` sign the
    /// proxy's own calls (a resource's tags): the developer's, never a
    /// function's.
    pub async fn start_with_lookups(
        upstream: Upstream,
        callers: Vec<Caller>,
        stack: StackContext,
        lookup_credentials: Option<Credentials>,
    ) -> std::io::Result<AwsProxy> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (sender, receiver) = unbounded_channel();
        let client = client_for(&upstream)?;
        let state = Arc::new(State {
            tags: TagLookup::new(upstream.clone(), client.clone(), lookup_credentials),
            client,
            upstream,
            callers: callers
                .into_iter()
                .map(|caller| Known {
                    caller,
                    usage: Mutex::default(),
                })
                .collect(),
            secret_arns: stack.terms.secret_arns(),
            stack,
            found: Mutex::default(),
            events: sender,
        });
        let server = tokio::spawn(serve(listener, state.clone()));
        Ok(AwsProxy {
            address,
            state,
            events: Mutex::new(Some(receiver)),
            server,
        })
    }

    /// The value of `AWS_ENDPOINT_URL` for the functions' processes.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Denied and unchecked calls as they happen (each the first time);
    /// `None` after the first call.
    pub fn events(&self) -> Option<UnboundedReceiver<Event>> {
        lock(&self.events).take()
    }

    /// What was found so far, and each function's grants not used so far.
    pub fn report(&self) -> Report {
        let found = lock(&self.state.found);
        let unused = self
            .state
            .callers
            .iter()
            .map(|k| {
                (
                    k.caller.function.clone(),
                    lock(&k.usage).unused(&k.caller.policy),
                )
            })
            .collect();
        Report {
            denied: found.denied.clone(),
            unchecked: found.unchecked.clone(),
            unused,
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(state.answer(request).await) }
            });
            // A client that hangs up mid-request ends only its connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the proxy knows of one request before deciding on it.
struct Arrived<'a> {
    parts: &'a Parts,
    body: &'a Bytes,
    credential: Option<Credential>,
    caller: Option<&'a Known>,
}

impl State {
    async fn answer(&self, request: hyper::Request<Incoming>) -> Response<ProxyBody> {
        let (parts, body) = request.into_parts();
        let body = match read_body(&parts, body).await {
            Ok(body) => body,
            Err(status) => return self.refuse_body(&parts, status),
        };
        let credential = credential::credential(&parts.headers, parts.uri.query().unwrap_or(""));
        let caller = credential.as_ref().and_then(|c| {
            self.callers
                .iter()
                .find(|k| k.caller.access_key_id == c.access_key_id)
        });
        let incoming = Arrived {
            parts: &parts,
            body: &body,
            credential,
            caller,
        };
        let (classified_service, denial) = self.decide(&incoming).await;
        if let Some(denial) = denial {
            return local(denial);
        }
        let service = upstream::signing_service(incoming.credential.as_ref(), &classified_service)
            .to_string();
        self.forward(&incoming, &service).await
    }

    /// The service the request was classified as, and the denial if any.
    async fn decide(&self, incoming: &Arrived<'_>) -> (String, Option<Response<Bytes>>) {
        let region = self.region_of(incoming.credential.as_ref());
        let scope = iam::Scope {
            partition: &self.stack.partition,
            region,
            account: &self.stack.account,
            secret_arns: &self.secret_arns,
        };
        let parts = incoming.parts;
        let request = iam::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: incoming.body,
            signing_service: incoming.credential.as_ref().map(|c| c.service.as_str()),
        };
        let function = incoming.caller.map(|k| k.caller.function.clone());
        match iam::classify(&request, &scope) {
            Classified::NoPermission { service, .. } => (service, None),
            Classified::NotChecked {
                service,
                operation,
                why,
            } => {
                self.unchecked(Unchecked {
                    function,
                    service: service.clone(),
                    operation,
                    why,
                });
                (service, None)
            }
            Classified::Checked(call) => match incoming.caller {
                Some(known) => {
                    let denial = self.check(known, &call, region, &request).await;
                    (call.service, denial)
                }
                None => {
                    let why = match &incoming.credential {
                        Some(c) => format!(
                            "signed with access key {}, which is no function's",
                            c.access_key_id
                        ),
                        None => "the request is not signed".to_string(),
                    };
                    self.unchecked(Unchecked {
                        function,
                        service: call.service.clone(),
                        operation: call.operation,
                        why,
                    });
                    (call.service, None)
                }
            },
        }
    }

    fn region_of<'a>(&'a self, credential: Option<&'a Credential>) -> &'a str {
        credential
            .and_then(|c| c.region.as_deref())
            .unwrap_or(&self.stack.region)
    }

    /// Every check of `call` against the caller's role; the answer to the
    /// first refused, as AWS refuses at the first.
    async fn check(
        &self,
        known: &Known,
        call: &Call,
        region: &str,
        request: &iam::Request<'_>,
    ) -> Option<Response<Bytes>> {
        let policy = &known.caller.policy;
        let defaults = self.defaults(policy, region);
        let mut allowed = Vec::new();
        for check in &call.checks {
            let context = check.context.clone().or(&defaults);
            let evaluation = self.evaluate(policy, check, context).await;
            match evaluation.decision {
                Decision::Allowed(statements) => allowed.push((statements, check.action.as_str())),
                Decision::ExplicitlyDenied(i) => {
                    let by = policy.statements.get(i).map(iam::Statement::label);
                    return Some(self.deny(known, call, check, by, evaluation.undecided, request));
                }
                Decision::ImplicitlyDenied => {
                    return Some(self.deny(
                        known,
                        call,
                        check,
                        None,
                        evaluation.undecided,
                        request,
                    ));
                }
            }
        }
        let mut usage = lock(&known.usage);
        for (statements, action) in allowed {
            usage.record(policy, &statements, action);
        }
        None
    }

    /// The role's decision on `check`. A denial where a statement that
    /// might allow the call waits on the resource's tags is made again
    /// with the tags looked up, or with why they could not be (which
    /// leaves that statement undecided: never an allow).
    async fn evaluate(&self, policy: &RolePolicy, check: &Check, context: Context) -> Evaluation {
        let evaluation = policy.evaluate(&check.action, &check.resource, &context);
        if !waits_on_resource_tags(&evaluation) {
            return evaluation;
        }
        let Some(resource) = Ec2Resource::parse(&check.resource) else {
            return evaluation;
        };
        let context = match self.tags.tags(&resource).await {
            Ok(tags) => {
                context.with_resource_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            }
            Err(e) => context.with_resource_tags_unavailable(format!(
                "the tags of {} could not be looked up: {e}",
                resource.name()
            )),
        };
        policy.evaluate(&check.action, &check.resource, &context)
    }

    /// Condition keys every call the function makes itself has: it comes
    /// through no service (`kms:ViaService` absent), over TLS to AWS.
    fn defaults(&self, policy: &RolePolicy, region: &str) -> Context {
        Context::new()
            .with("kms:ViaService", None)
            .with("aws:SecureTransport", Some("true"))
            .with("aws:RequestedRegion", Some(region))
            .with("aws:PrincipalAccount", Some(&self.stack.account))
            .with("aws:PrincipalArn", Some(&policy.role_arn))
    }

    fn deny(
        &self,
        known: &Known,
        call: &Call,
        check: &Check,
        denied_by: Option<String>,
        undecided: Vec<(String, String)>,
        request: &iam::Request<'_>,
    ) -> Response<Bytes> {
        let caller = &known.caller;
        let finding = Finding {
            function: caller.function.clone(),
            service: call.service.clone(),
            operation: call.operation.clone(),
            action: check.action.clone(),
            resource: check.resource.clone(),
            remedy: self.stack.terms.remedy(&caller.function, check),
            denied_by,
            undecided,
            managed_policies: caller.policy.managed_policies.clone(),
        };
        let message = self.aws_message(caller, &finding);
        let protocol = Protocol::of(request.headers, request.path, request.signing_service);
        self.denied(finding);
        denial::access_denied(protocol, &message, request.method == "HEAD")
    }

    /// IAM's wording, naming the session as AWS does.
    fn aws_message(&self, caller: &Caller, finding: &Finding) -> String {
        let role = caller
            .policy
            .role_arn
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let because = match finding.denied_by {
            Some(_) => "with an explicit deny in an identity-based policy".to_string(),
            None => format!(
                "because no identity-based policy allows the {} action",
                finding.action
            ),
        };
        format!(
            "User: arn:{}:sts::{}:assumed-role/{role}/{} is not authorized to perform: {} on resource: {} {because}",
            self.stack.partition, self.stack.account, caller.session_name, finding.action, finding.resource
        )
    }

    fn denied(&self, finding: Finding) {
        let mut found = lock(&self.found);
        if !found.denied.contains(&finding) {
            found.denied.push(finding.clone());
            let _ = self.events.send(Event::Denied(finding));
        }
    }

    fn unchecked(&self, unchecked: Unchecked) {
        let mut found = lock(&self.found);
        if !found.unchecked.contains(&unchecked) {
            found.unchecked.push(unchecked.clone());
            let _ = self.events.send(Event::Unchecked(unchecked));
        }
    }

    async fn forward(&self, incoming: &Arrived<'_>, service: &str) -> Response<ProxyBody> {
        let parts = incoming.parts;
        let body = incoming.body.clone();
        let request = match (&self.upstream, incoming.caller) {
            (Upstream::Emulator(base), _) => upstream::unchanged(base, parts, body),
            (Upstream::Aws { endpoint }, Some(known)) => {
                let caller = &known.caller;
                let target = Target {
                    endpoint,
                    service,
                    region: self.region_of(incoming.credential.as_ref()),
                    credentials: aws_credential_types::Credentials::new(
                        &caller.access_key_id,
                        &caller.secret_access_key,
                        caller.session_token.clone(),
                        None,
                        "stackctl-local",
                    ),
                    time: std::time::SystemTime::now(),
                };
                upstream::to_aws(&target, parts, body)
            }
            // Unsigned (Cognito's public calls) or signed by a key the
            // proxy cannot sign for: AWS judges it as it is.
            (Upstream::Aws { endpoint }, None) => {
                let base = endpoint
                    .replace("{service}", service)
                    .replace("{region}", self.region_of(incoming.credential.as_ref()));
                upstream::unchanged(&base, parts, body)
            }
        };
        let request = match request {
            Ok(request) => request,
            Err(e) => return self.proxy_error(parts, StatusCode::NOT_IMPLEMENTED, &e.to_string()),
        };
        match self.client.send(request).await {
            Ok(response) => relay(response),
            Err(e) => self.proxy_error(
                parts,
                StatusCode::BAD_GATEWAY,
                &format!("the upstream did not answer: {e}"),
            ),
        }
    }

    fn refuse_body(&self, parts: &Parts, status: StatusCode) -> Response<ProxyBody> {
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("`stackctl local` takes request bodies up to {BODY_LIMIT} bytes")
            }
            _ => "the request body could not be read".to_string(),
        };
        self.proxy_error(parts, status, &message)
    }

    fn proxy_error(&self, parts: &Parts, status: StatusCode, message: &str) -> Response<ProxyBody> {
        let credential = credential::credential(&parts.headers, parts.uri.query().unwrap_or(""));
        let protocol = Protocol::of(
            &parts.headers,
            parts.uri.path(),
            credential.as_ref().map(|c| c.service.as_str()),
        );
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "RequestEntityTooLarge",
            StatusCode::BAD_GATEWAY => "ServiceUnavailable",
            _ => "InternalFailure",
        };
        local(denial::error(
            protocol,
            Some(status),
            code,
            message,
            parts.method == http::Method::HEAD,
        ))
    }
}

/// Denied for want of an allow, where a statement that might allow it
/// needs the resource's tags.
fn waits_on_resource_tags(evaluation: &Evaluation) -> bool {
    evaluation.decision == Decision::ImplicitlyDenied
        && evaluation
            .unknown_keys
            .iter()
            .any(|key| resource_tag_key(key).is_some())
}

/// The body, whole, up to [`BODY_LIMIT`]; else the status to answer.
async fn read_body(parts: &Parts, body: Incoming) -> Result<Bytes, StatusCode> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        }
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

fn local(response: Response<Bytes>) -> Response<ProxyBody> {
    response.map(|b| Full::new(b).map_err(|never| match never {}).boxed())
}

/// The upstream's answer, streamed back, without its connection's headers.
fn relay(response: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    let hop: Vec<_> = parts
        .headers
        .keys()
        .filter(|n| upstream::is_hop_by_hop(n.as_str()))
        .cloned()
        .collect();
    for name in hop {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, body.boxed())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod resource_tag_tests;
