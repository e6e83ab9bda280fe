//! One API served as API Gateway serves it: stage, throttling, CORS,
//! route selection, authorizer, request validation, the Lambda proxy
//! integration and API Gateway's own error answers. What runs functions
//! and fetches key sets sits behind [`Backend`], so this module has no
//! processes and no network of its own and its tests drive it directly.
//!
//! API Gateway's own answers, where the guide leaves the body unsaid, are
//! as reported from AWS: an unknown REST resource or method is `403
//! {"message":"Missing Authentication Token"}`; a body over 10 MB is `413`
//! `HTTP content length exceeded 10485760 bytes.` as text, an event over
//! Lambda's 6 MB `413 {"message": "Request Too Long"}`
//! (koki-develop/lgtm-generator issue 10, both from a REST API); a REST
//! integration that runs past 29 s is `504 {"message":"Endpoint request
//! timed out"}` (aws/context-ontology-accelerator issue 143) and an HTTP
//! API's past 30 s `503 {"message":"Service Unavailable"}` ("Troubleshooting
//! issues with HTTP API Lambda integrations"). A throttled function (Lambda's
//! 429) reaches the client as the integration's failure, 500 for an HTTP API
//! and 502 for REST, as for any other Lambda error; gloo's API Gateway
//! emulation chose 500 as well (solo-io/envoy-gloo pull request 407).
//!
//! A REST API's gateway responses (`AWS::ApiGateway::GatewayResponse`) are
//! applied to these own answers ([`responses`]): their status and static
//! headers, such as the CORS headers a browser needs to read a 401.

mod body_model;
mod cors;
mod parameters;
mod responses;
mod throttle;

use super::authorizer::{self, CognitoAuthorizer, Jwks, JwtAuthorizer};
use super::lambda_authorizer::{self as lambda_auth, Decision, DecisionCache, IdentitySource};
use super::payload::{http_event, http_response, Context, Request, Response};
use super::rest_payload::{rest_event, rest_function_error, rest_response, RestContext};
use super::routing::{RouteTable, Selected};
use super::template::{Api, ApiKind, Auth, Route};
pub use body_model::BodyModel;
use futures_util::future::BoxFuture;
pub use responses::ResponseType;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use throttle::TokenBucket;

/// API Gateway's limit on a request's payload, for both kinds of API.
pub const PAYLOAD_LIMIT: usize = 10 * 1024 * 1024;
/// Lambda's limit on a synchronous invocation's event.
pub const EVENT_LIMIT: usize = 6 * 1024 * 1024;

/// How a function invocation ended, as the integration sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoked {
    Answer(Vec<u8>),
    /// A function error, a timeout, a crash or running out of memory, with
    /// the error Lambda hands its caller.
    Failed {
        error_type: String,
        body: Vec<u8>,
    },
    /// Over the function's concurrency.
    Throttled,
}

/// What the gateway needs from outside.
pub trait Backend: Send + Sync {
    /// Invokes the function with logical id `function`.
    fn invoke<'a>(&'a self, function: &'a str, event: Vec<u8>) -> BoxFuture<'a, Invoked>;
    /// The key set of each of `issuers` that could be had.
    fn key_sets<'a>(&'a self, issuers: &'a [String]) -> BoxFuture<'a, BTreeMap<String, Arc<Jwks>>>;
}

/// What happened to one request, for the terminal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub route: Option<String>,
    pub function: Option<String>,
    /// Why API Gateway answered by itself (refused token, invalid body…).
    pub note: Option<String>,
}

/// An answer and how it came about.
#[derive(Debug, Clone)]
pub struct Handled {
    pub response: Response,
    pub trace: Trace,
    /// The response type of API Gateway's own answer; `None` for an
    /// integration's (a function's, a mock's).
    pub own: Option<ResponseType>,
}

enum Target {
    Function(usize),
    Mock(usize),
}

/// One API, ready to answer requests.
pub struct Gateway {
    api: Api,
    region: String,
    account: String,
    table: RouteTable<Target>,
    models: HashMap<usize, BodyModel>,
    throttle: Option<TokenBucket>,
    caches: Mutex<HashMap<String, DecisionCache>>,
    backend: Arc<dyn Backend>,
    /// How long an integration may run: 30 s for HTTP APIs, 29 s for REST.
    integration_timeout: Duration,
}

impl Gateway {
    /// The gateway of `api`; an error when a route key or body model
    /// cannot be served as API Gateway would.
    pub fn new(
        api: Api,
        region: &str,
        account: &str,
        backend: Arc<dyn Backend>,
    ) -> Result<Gateway, String> {
        let mut keyed = Vec::new();
        let mut models = HashMap::new();
        for (i, route) in api.routes.iter().enumerate() {
            keyed.push((route.key.clone(), Target::Function(i)));
            if let Some(schema) = &route.body_schema {
                let model = BodyModel::new(schema.clone()).map_err(|e| {
                    format!("{} {}: body model: {e}", api.logical_id, route.key.as_str())
                })?;
                models.insert(i, model);
            }
        }
        keyed.extend(
            api.mocks
                .iter()
                .enumerate()
                .map(|(i, mock)| (mock.key.clone(), Target::Mock(i))),
        );
        let integration_timeout = match api.kind {
            ApiKind::Http => Duration::from_secs(30),
            ApiKind::Rest => Duration::from_secs(29),
        };
        Ok(Gateway {
            throttle: api.throttle.map(|t| TokenBucket::new(t, now_ms())),
            table: RouteTable::new(keyed),
            region: region.to_string(),
            account: account.to_string(),
            caches: Mutex::new(HashMap::new()),
            models,
            backend,
            integration_timeout,
            api,
        })
    }

    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Limits the integration to `timeout` instead of API Gateway's 29/30 s
    /// (tests use it to reach the timeout without waiting half a minute).
    pub fn with_integration_timeout(mut self, timeout: Duration) -> Gateway {
        self.integration_timeout = timeout;
        self
    }

    /// Answers one request as API Gateway would.
    pub async fn handle(&self, request: Request) -> Handled {
        let request_id = uuid::Uuid::new_v4().to_string();
        let mut handled = self.answer(request.clone(), &request_id).await;
        if let (ApiKind::Rest, Some(kind)) = (self.api.kind, handled.own) {
            responses::apply(&self.api.gateway_responses, kind, &mut handled.response);
        }
        let origin = header(&request.headers, "origin");
        if let (ApiKind::Http, Some(cors)) = (self.api.kind, &self.api.cors) {
            if !cors::is_preflight(&request.method, &request.headers) {
                cors::decorate(cors, origin, &mut handled.response);
            }
        }
        let id_header = match self.api.kind {
            ApiKind::Http => "apigw-requestid",
            ApiKind::Rest => "x-amzn-requestid",
        };
        handled
            .response
            .headers
            .push((id_header.into(), request_id));
        handled
    }

    async fn answer(&self, mut request: Request, request_id: &str) -> Handled {
        if request.body.len() > PAYLOAD_LIMIT {
            return own(
                too_large(),
                "the body is over API Gateway's 10 MB",
                ResponseType::RequestTooLarge,
            );
        }
        let Some(path) = self.path_in_stage(&request.raw_path) else {
            return own(
                self.unknown_route(),
                "the path is not under the API's stage",
                ResponseType::MissingAuthenticationToken,
            );
        };
        request.raw_path = path;
        if let Some(bucket) = &self.throttle {
            if !bucket.take(now_ms()) {
                return own(
                    Response::gateway(429, "Too Many Requests"),
                    "stage throttling",
                    ResponseType::Throttled,
                );
            }
        }
        if let (ApiKind::Http, Some(cors)) = (self.api.kind, &self.api.cors) {
            if cors::is_preflight(&request.method, &request.headers) {
                return made(
                    cors::preflight(cors, &request.headers),
                    "CORS preflight",
                    None,
                );
            }
        }
        let path = request.raw_path.clone();
        let Some(selected) = self.table.select(&request.method, &path) else {
            return own(
                self.unknown_route(),
                "no route matches",
                ResponseType::MissingAuthenticationToken,
            );
        };
        match selected.target {
            Target::Mock(i) => {
                let mock = &self.api.mocks[*i];
                let response = Response {
                    status: mock.status,
                    headers: mock.headers.clone(),
                    body: Vec::new(),
                };
                // The integration's answer, not API Gateway's own.
                let mut handled = made(response, "MOCK integration", None);
                handled.trace.route = Some(selected.key.as_str().to_string());
                handled
            }
            Target::Function(i) => self.integrate(&request, &selected, *i, request_id).await,
        }
    }

    /// The request's path inside the stage: REST APIs and named HTTP API
    /// stages are called at `/{stage}/…`, the `$default` stage at the root.
    fn path_in_stage(&self, raw_path: &str) -> Option<String> {
        if self.api.kind == ApiKind::Http && self.api.stage == "$default" {
            return Some(raw_path.to_string());
        }
        let rest = raw_path
            .strip_prefix('/')?
            .strip_prefix(self.api.stage.as_str())?;
        match rest {
            "" => Some("/".into()),
            _ if rest.starts_with('/') => Some(rest.to_string()),
            _ => None,
        }
    }

    fn unknown_route(&self) -> Response {
        match self.api.kind {
            ApiKind::Http => Response::gateway(404, "Not Found"),
            ApiKind::Rest => {
                let mut answer = Response::gateway(403, "Missing Authentication Token");
                answer.headers.push((
                    "x-amzn-errortype".into(),
                    "MissingAuthenticationTokenException".into(),
                ));
                answer
            }
        }
    }

    /// API Gateway's request validation of a REST method: its required
    /// parameters, then its body model. The refusal's message, why, and
    /// response type.
    fn refused_by_validation(
        &self,
        request: &Request,
        selected: &Selected<'_, Target>,
        index: usize,
    ) -> Option<(String, String, ResponseType)> {
        let required = &self.api.routes[index].required_parameters;
        let missing = parameters::missing(request, &selected.path_parameters, required);
        if !missing.is_empty() {
            let message = format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            );
            return Some((message.clone(), message, ResponseType::BadRequestParameters));
        }
        let why = self.models.get(&index)?.check(&request.body).err()?;
        Some((
            "Invalid request body".into(),
            why,
            ResponseType::BadRequestBody,
        ))
    }

    async fn integrate(
        &self,
        request: &Request,
        selected: &Selected<'_, Target>,
        index: usize,
        request_id: &str,
    ) -> Handled {
        let route = &self.api.routes[index];
        let mut trace = Trace {
            route: Some(route.key.as_str().to_string()),
            function: Some(route.function.clone()),
            note: None,
        };
        let authorizer = match self.authorize(request, selected, route, request_id).await {
            Ok(context) => context,
            Err((response, why)) => {
                trace.note = Some(why);
                let own = Some(ResponseType::of_refusal(&response));
                return Handled {
                    response,
                    trace,
                    own,
                };
            }
        };
        if let Some((message, why, own)) = self.refused_by_validation(request, selected, index) {
            trace.note = Some(format!("request validation: {why}"));
            let mut response = Response::gateway(400, &message);
            response
                .headers
                .push(("x-amzn-errortype".into(), "BadRequestException".into()));
            return Handled {
                response,
                trace,
                own: Some(own),
            };
        }
        let event = self.event(request, selected, route, request_id, authorizer);
        let event = serde_json::to_vec(&event).unwrap_or_default();
        if event.len() > EVENT_LIMIT {
            trace.note = Some("the event is over Lambda's 6 MB".into());
            let mut response = Response::gateway(413, "Request Too Long");
            response
                .headers
                .push(("x-amzn-errortype".into(), "BadRequestException".into()));
            return Handled {
                response,
                trace,
                own: Some(ResponseType::RequestTooLarge),
            };
        }
        let invoked = tokio::time::timeout(
            self.integration_timeout,
            self.backend.invoke(&route.function, event),
        )
        .await;
        let (response, own) = match invoked {
            Err(_) => {
                trace.note = Some(format!(
                    "the integration ran past {} s",
                    self.integration_timeout.as_secs_f32()
                ));
                (
                    self.integration_timed_out(),
                    Some(ResponseType::IntegrationTimeout),
                )
            }
            Ok(Invoked::Answer(output)) => match self.api.kind {
                ApiKind::Http => (http_response(&output), None),
                ApiKind::Rest => (rest_response(&output), None),
            },
            Ok(Invoked::Failed { error_type, body }) => {
                trace.note = Some(failure_note(&error_type, &body));
                (self.integration_failed(), Some(ResponseType::Unnamed))
            }
            Ok(Invoked::Throttled) => {
                trace.note = Some("the function is at its concurrency limit".into());
                (self.integration_failed(), Some(ResponseType::Unnamed))
            }
        };
        Handled {
            response,
            trace,
            own,
        }
    }

    fn integration_failed(&self) -> Response {
        match self.api.kind {
            ApiKind::Http => Response::gateway(500, "Internal Server Error"),
            ApiKind::Rest => rest_function_error(),
        }
    }

    fn integration_timed_out(&self) -> Response {
        match self.api.kind {
            ApiKind::Http => Response::gateway(503, "Service Unavailable"),
            ApiKind::Rest => Response::gateway(504, "Endpoint request timed out"),
        }
    }

    fn event(
        &self,
        request: &Request,
        selected: &Selected<'_, Target>,
        route: &Route,
        request_id: &str,
        authorizer: Option<Value>,
    ) -> Value {
        let time_epoch_ms = now_ms();
        match self.api.kind {
            ApiKind::Http => {
                let context = Context {
                    api_id: &self.api.id,
                    stage: &self.api.stage,
                    request_id,
                    time_epoch_ms,
                    authorizer,
                };
                http_event(request, selected, &context)
            }
            ApiKind::Rest => {
                let context = RestContext {
                    account_id: &self.account,
                    api_id: &self.api.id,
                    stage: &self.api.stage,
                    request_id,
                    extended_request_id: request_id,
                    time_epoch_ms,
                    authorizer,
                };
                let resource = route.key.as_str().split_once(' ').map_or("/", |(_, p)| p);
                rest_event(request, resource, &selected.path_parameters, &context)
            }
        }
    }

    /// `requestContext.authorizer` for the integration, or the refusal and why.
    async fn authorize(
        &self,
        request: &Request,
        selected: &Selected<'_, Target>,
        route: &Route,
        request_id: &str,
    ) -> Result<Option<Value>, (Response, String)> {
        let now_s = now_ms() / 1000;
        match &route.auth {
            Auth::None => Ok(None),
            Auth::Jwt {
                issuer,
                audience,
                identity_source,
                name,
            } => {
                let header_name = identity_source
                    .strip_prefix("$request.header.")
                    .unwrap_or("Authorization");
                let token = header(&request.headers, header_name);
                let keys = self.backend.key_sets(std::slice::from_ref(issuer)).await;
                let no_keys = Jwks::default();
                let keys = keys.get(issuer).map_or(&no_keys, |k| k.as_ref());
                let jwt = JwtAuthorizer {
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                };
                authorizer::check_jwt(&jwt, &route.scopes, token, keys, now_s)
                    .map(Some)
                    .map_err(|refusal| refused(name, refusal))
            }
            Auth::CognitoUserPools { issuers, name } => {
                let token = header(&request.headers, "Authorization");
                let keys: BTreeMap<String, Jwks> = self
                    .backend
                    .key_sets(issuers)
                    .await
                    .into_iter()
                    .map(|(issuer, keys)| (issuer, keys.as_ref().clone()))
                    .collect();
                let cognito = CognitoAuthorizer {
                    issuers: issuers.clone(),
                };
                authorizer::check_cognito(&cognito, &route.scopes, token, &keys, now_s)
                    .map(Some)
                    .map_err(|refusal| refused(name, refusal))
            }
            Auth::Function {
                name,
                function,
                identity_sources,
                cache_seconds,
            } => {
                let call = FunctionAuthorizer {
                    name,
                    function,
                    identity_sources,
                    cache_seconds: *cache_seconds,
                };
                self.ask_function(&call, request, selected, request_id)
                    .await
                    .map(Some)
            }
        }
    }
}

fn refused(authorizer: &str, refusal: authorizer::Refusal) -> (Response, String) {
    let why = format!("authorizer {authorizer} refused: {}", refusal.reason());
    let response = Response::gateway(refusal.status(), refusal.message());
    (response, why)
}

/// A Lambda authorizer of one route.
struct FunctionAuthorizer<'a> {
    name: &'a str,
    function: &'a str,
    identity_sources: &'a [String],
    cache_seconds: u32,
}

impl Gateway {
    async fn ask_function(
        &self,
        call: &FunctionAuthorizer<'_>,
        request: &Request,
        selected: &Selected<'_, Target>,
        request_id: &str,
    ) -> Result<Value, (Response, String)> {
        let refuse =
            |response: Response, why: &str| (response, format!("authorizer {}: {why}", call.name));
        let sources = self
            .identity_sources(call.identity_sources)
            .map_err(|e| refuse(lambda_auth::authorizer_configuration_error(), &e))?;
        let path = request.raw_path.clone();
        let method = request.method.clone();
        let arn = match self.api.kind {
            ApiKind::Rest => lambda_auth::method_arn(
                &self.region,
                &self.account,
                &self.api.id,
                &self.api.stage,
                &method,
                &path,
            )
            .map_err(|r| refuse(r, "the method ARN is over 1600 bytes"))?,
            ApiKind::Http => lambda_auth::route_arn(
                &self.region,
                &self.account,
                &self.api.id,
                &self.api.stage,
                &method,
                &path,
            ),
        };
        let variables = |name: &str| self.context_variable(name, request_id);
        let Some(identity) = lambda_auth::identity(&sources, request, &variables) else {
            return Err(refuse(
                lambda_auth::unauthorized(),
                "an identity source is missing",
            ));
        };
        let cached = self.cache(call, |cache| cache.get(&identity, now_ms()));
        let (answer, latency) = match cached {
            Some(answer) => (answer, 0),
            None => {
                let started = Instant::now();
                let answer = self
                    .invoke_authorizer(call, request, selected, request_id, &arn, &identity)
                    .await
                    .map_err(|r| refuse(r, "its function failed or answered unreadably"))?;
                self.cache(call, |cache| {
                    cache.put(identity.clone(), answer.clone(), now_ms())
                });
                (answer, started.elapsed().as_millis() as u64)
            }
        };
        match answer.decide(&arn, latency) {
            Decision::Allow(context) => Ok(context),
            Decision::Refuse(response) => Err(refuse(response, "its answer refuses the request")),
        }
    }

    fn identity_sources(&self, texts: &[String]) -> Result<Vec<IdentitySource>, String> {
        texts
            .iter()
            .map(|text| match self.api.kind {
                ApiKind::Rest => IdentitySource::token(text),
                ApiKind::Http => IdentitySource::http(text),
            })
            .collect()
    }

    fn context_variable(&self, name: &str, request_id: &str) -> Option<String> {
        match name {
            "requestId" => Some(request_id.to_string()),
            "stage" => Some(self.api.stage.clone()),
            "apiId" => Some(self.api.id.clone()),
            "accountId" => Some(self.account.clone()),
            _ => None,
        }
    }

    fn cache<R>(
        &self,
        call: &FunctionAuthorizer<'_>,
        use_it: impl FnOnce(&mut DecisionCache) -> R,
    ) -> R {
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        let cache = caches
            .entry(call.name.to_string())
            .or_insert_with(|| DecisionCache::new(call.cache_seconds));
        use_it(cache)
    }

    async fn invoke_authorizer(
        &self,
        call: &FunctionAuthorizer<'_>,
        request: &Request,
        selected: &Selected<'_, Target>,
        request_id: &str,
        arn: &str,
        identity: &[String],
    ) -> Result<lambda_auth::Answer, Response> {
        let event = match self.api.kind {
            ApiKind::Rest => lambda_auth::token_event(&identity[0], arn),
            ApiKind::Http => {
                let context = Context {
                    api_id: &self.api.id,
                    stage: &self.api.stage,
                    request_id,
                    time_epoch_ms: now_ms(),
                    authorizer: None,
                };
                lambda_auth::request_event(request, selected, &context, arn, identity)
            }
        };
        let event = serde_json::to_vec(&event).unwrap_or_default();
        match (
            self.api.kind,
            self.backend.invoke(call.function, event).await,
        ) {
            (ApiKind::Rest, Invoked::Answer(output)) => lambda_auth::read_policy(&output),
            (ApiKind::Rest, Invoked::Failed { body, .. }) => Err(lambda_auth::token_error(&body)),
            (ApiKind::Rest, Invoked::Throttled) => {
                Err(lambda_auth::authorizer_configuration_error())
            }
            (ApiKind::Http, Invoked::Answer(output)) => lambda_auth::read_simple(&output),
            (ApiKind::Http, _) => Err(lambda_auth::simple_error()),
        }
    }
}

/// `the function failed: Runtime.ExitError: RequestId: … Error: …`, the
/// error message cut to a line's length.
fn failure_note(error_type: &str, body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
        .unwrap_or_default();
    let message: String = message.chars().take(200).collect();
    match message.is_empty() {
        true => format!("the function failed: {error_type}"),
        false => format!("the function failed: {error_type}: {message}"),
    }
}

/// API Gateway's own answer of type `kind`, and why it made it.
fn own(response: Response, why: &str, kind: ResponseType) -> Handled {
    made(response, why, Some(kind))
}

/// An answer made without a function, and why.
fn made(response: Response, why: &str, own: Option<ResponseType>) -> Handled {
    Handled {
        response,
        trace: Trace {
            note: Some(why.to_string()),
            ..Trace::default()
        },
        own,
    }
}

/// API Gateway's answer to a body over [`PAYLOAD_LIMIT`]: plain text.
fn too_large() -> Response {
    Response {
        status: 413,
        headers: vec![("content-type".into(), "text; charset=utf-8".into())],
        body: format!("HTTP content length exceeded {PAYLOAD_LIMIT} bytes.").into_bytes(),
    }
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
