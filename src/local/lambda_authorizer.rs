//! Lambda authorizers as the stack's templates declare them, without I/O:
//! the caller invokes the function with the event built here and passes its
//! answer (or its error) back in.
//!
//! - A REST API's `TOKEN` authorizer gets `{"type":"TOKEN",
//!   "authorizationToken", "methodArn"}` ("Input to an API Gateway Lambda
//!   authorizer") and answers with an IAM policy, a `principalId` and a
//!   `context` of strings, numbers and booleans ("Output from an Amazon API
//!   Gateway Lambda authorizer"). A `Deny` matching the method ARN wins;
//!   else a matching `Allow` lets the request in; else it is refused. The
//!   integration gets `requestContext.authorizer` = `{principalId, …context,
//!   integrationLatency}`, context values stringified ("`$context.authorizer.
//!   property`: the stringified value", "`$context` Variables for data
//!   models, authorizers, mapping templates, and CloudWatch access logging";
//!   the proxy event's `requestContext` holds those variables).
//! - An HTTP API's `REQUEST` authorizer with payload format 2.0 and simple
//!   responses gets the payload 2.0 event plus `type`, `routeArn` and
//!   `identitySource` (the values, a list) and answers `{"isAuthorized",
//!   "context"}` ("Working with AWS Lambda authorizers for HTTP APIs"); the
//!   context reaches the integration as `requestContext.authorizer.lambda`.
//! - Missing or empty identity sources are a `401 {"message":"Unauthorized"}`
//!   without invoking the function (the HTTP API page; "Configure a Lambda
//!   authorizer using the API Gateway console" for REST).
//! - Results are cached per authorizer, keyed by the identity source values,
//!   for `AuthorizerResultTtlInSeconds` (0 turns caching off). A REST
//!   policy is cached, not the decision: the console page warns that "to
//!   enable caching, your authorizer must return a policy that is applicable
//!   to all methods across an API", so a policy cached for one method is
//!   evaluated again for the next method ARN and may refuse it. A simple
//!   response "fully allows or denies all API requests that match the cached
//!   identity source values".
//!
//! What the client gets when a REST authorizer refuses or fails is not in
//! the guide beyond its status codes ("Gateway response types":
//! `ACCESS_DENIED` 403, `UNAUTHORIZED` 401, `AUTHORIZER_CONFIGURATION_ERROR`
//! 500); the bodies are as reported from AWS: 403 `{"Message":"User is not
//! authorized to access this resource"}` with `x-amzn-ErrorType:
//! AccessDeniedException` (aws/chalice#971), `… with an explicit deny` for a
//! matching `Deny` (dev.to, "API Gateway + Lambda authorizer + Lambda proxy
//! integration failure modes"), a function error whose message is exactly
//! `Unauthorized` 401 `{"message":"Unauthorized"}` and any other error or
//! unreadable answer 500 `{"message":null}` (auth0-samples/
//! jwt-rsa-aws-custom-authorizer#6) with `x-amzn-ErrorType:
//! AuthorizerConfigurationException` (serverless/examples#305). An HTTP
//! API answers an unreadable answer or a function error with 500 `Internal
//! Server Error` (the HTTP API page, "Troubleshooting"); its 403 for
//! `isAuthorized: false` is `{"message":"Forbidden"}`, which the guide does
//! not spell out.

use super::payload::{http_event, query_parameters, Context, Request, Response};
use super::routing::Selected;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// "For an authorization-enabled method ARN … the maximum length is 1600
/// bytes … the API client will receive a `414 Request URI too long`
/// response" ("Output from an Amazon API Gateway Lambda authorizer").
pub const METHOD_ARN_LIMIT: usize = 1600;

/// Where an authorizer finds the caller's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// A request header (name lowercased: header names are case-insensitive).
    Header(String),
    /// A query string parameter (case-sensitive).
    QueryString(String),
    /// A context variable (`$context.routeKey`).
    Context(String),
    /// A stage variable; the stack's stages declare none, so never present.
    StageVariable(String),
}

impl IdentitySource {
    /// A REST `TOKEN` authorizer's source: `method.request.header.NAME`.
    pub fn token(text: &str) -> Result<IdentitySource, String> {
        match text.strip_prefix("method.request.header.") {
            Some(name) if !name.is_empty() => Ok(IdentitySource::Header(name.to_ascii_lowercase())),
            _ => Err(format!(
                "a TOKEN authorizer reads a header (`method.request.header.NAME`), not `{text}`"
            )),
        }
    }

    /// An HTTP API authorizer's source: `$request.header.NAME`,
    /// `$request.querystring.NAME`, `$context.NAME` or `$stageVariables.NAME`.
    pub fn http(text: &str) -> Result<IdentitySource, String> {
        let named = |prefix: &str| text.strip_prefix(prefix).filter(|n| !n.is_empty());
        if let Some(name) = named("$request.header.") {
            Ok(IdentitySource::Header(name.to_ascii_lowercase()))
        } else if let Some(name) = named("$request.querystring.") {
            Ok(IdentitySource::QueryString(name.to_string()))
        } else if let Some(name) = named("$context.") {
            Ok(IdentitySource::Context(name.to_string()))
        } else if let Some(name) = named("$stageVariables.") {
            Ok(IdentitySource::StageVariable(name.to_string()))
        } else {
            Err(format!(
                "`{text}` is not an identity source an HTTP API reads"
            ))
        }
    }
}

/// The identity source values of `request`, in order; `None` when one is
/// missing or empty, which API Gateway answers with [`unauthorized`]
/// without invoking the function. `context_variable` gives `$context`
/// variables. A repeated header or query parameter is its values joined
/// with commas, as payload 2.0 carries them (for a `TOKEN` authorizer the
/// guide does not say).
pub fn identity(
    sources: &[IdentitySource],
    request: &Request,
    context_variable: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<String>> {
    let reads_query = sources
        .iter()
        .any(|s| matches!(s, IdentitySource::QueryString(_)));
    let query = if reads_query {
        query_parameters(&request.raw_query)
    } else {
        Default::default()
    };
    sources
        .iter()
        .map(|source| {
            let value = match source {
                IdentitySource::Header(name) => {
                    let values: Vec<&str> = request
                        .headers
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.as_str())
                        .collect();
                    (!values.is_empty()).then(|| values.join(","))
                }
                IdentitySource::QueryString(name) => query.get(name).cloned(),
                IdentitySource::Context(name) => context_variable(name),
                IdentitySource::StageVariable(_) => None,
            };
            value.filter(|v| !v.is_empty())
        })
        .collect()
}

/// A REST method's ARN, `arn:aws:execute-api:{region}:{account}:{apiId}/
/// {stage}/{METHOD}/{path}`, the path being the request's (path parameters
/// filled in: their "size … [is] determined at run time"); a `414` when it
/// is longer than [`METHOD_ARN_LIMIT`].
pub fn method_arn(
    region: &str,
    account_id: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> Result<String, Response> {
    let arn = route_arn(region, account_id, api_id, stage, method, path);
    if arn.len() > METHOD_ARN_LIMIT {
        return Err(Response::gateway(414, "Request-URI Too Long"));
    }
    Ok(arn)
}

/// An HTTP API route's ARN for `routeArn`, built as a method ARN is.
pub fn route_arn(
    region: &str,
    account_id: &str,
    api_id: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    format!(
        "arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}/{}",
        path.strip_prefix('/').unwrap_or(path)
    )
}

/// The event a `TOKEN` authorizer gets.
pub fn token_event(token: &str, method_arn: &str) -> Value {
    json!({ "type": "TOKEN", "authorizationToken": token, "methodArn": method_arn })
}

/// The event an HTTP API `REQUEST` authorizer (payload format 2.0) gets:
/// the payload 2.0 event of the request, without its body, plus `type`,
/// `routeArn` and the `identitySource` values.
pub fn request_event<T>(
    request: &Request,
    route: &Selected<'_, T>,
    context: &Context<'_>,
    route_arn: &str,
    identity: &[String],
) -> Value {
    let mut event = http_event(request, route, context);
    if let Value::Object(fields) = &mut event {
        for key in ["body", "isBase64Encoded"] {
            fields.remove(key);
        }
        if let Some(Value::Object(rc)) = fields.get_mut("requestContext") {
            rc.remove("authorizer");
        }
        let mut head = Map::new();
        head.insert("version".into(), json!("2.0"));
        head.insert("type".into(), json!("REQUEST"));
        head.insert("routeArn".into(), json!(route_arn));
        head.insert("identitySource".into(), json!(identity));
        head.extend(std::mem::take(fields));
        *fields = head;
    }
    event
}

/// What a Lambda authorizer decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Go on to the integration with this `requestContext.authorizer`.
    Allow(Value),
    /// Answer the client with this instead.
    Refuse(Response),
}

/// An authorizer's answer, read; what [`DecisionCache`] keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    kind: AnswerKind,
}

#[derive(Debug, Clone, PartialEq)]
enum AnswerKind {
    Policy {
        principal_id: Option<String>,
        statements: Vec<Statement>,
        context: Map<String, Value>,
    },
    Simple {
        authorized: bool,
        context: Value,
    },
}

/// One policy statement about `execute-api:Invoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
    /// It has a `Condition`, which is not evaluated here: such an `Allow`
    /// lets nothing in and such a `Deny` refuses as if it held.
    conditional: bool,
}

/// 401 `{"message":"Unauthorized"}`: identity sources missing, or a `TOKEN`
/// authorizer failing with the message `Unauthorized`.
pub fn unauthorized() -> Response {
    Response::gateway(401, "Unauthorized")
}

/// 500 `{"message":null}`: a REST authorizer's error or unreadable answer.
pub fn authorizer_configuration_error() -> Response {
    Response {
        status: 500,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "x-amzn-errortype".into(),
                "AuthorizerConfigurationException".into(),
            ),
        ],
        body: json!({ "message": null }).to_string().into_bytes(),
    }
}

/// A REST refusal: 403 with `{"Message": …}` (capital M, as AWS writes it).
fn access_denied(explicit: bool) -> Response {
    let message = if explicit {
        "User is not authorized to access this resource with an explicit deny"
    } else {
        "User is not authorized to access this resource"
    };
    Response {
        status: 403,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-errortype".into(), "AccessDeniedException".into()),
        ],
        body: json!({ "Message": message }).to_string().into_bytes(),
    }
}

/// Reads a `TOKEN` authorizer's answer `output`: an error response when it
/// is not a policy API Gateway can read.
pub fn read_policy(output: &[u8]) -> Result<Answer, Response> {
    policy(output).ok_or_else(authorizer_configuration_error)
}

fn policy(output: &[u8]) -> Option<Answer> {
    let answer = serde_json::from_slice::<Value>(output).ok()?;
    // The output page says the answer "must include" a `principalId`; the
    // failure-modes post found `policyDocument` the only key required.
    let principal_id = match answer.get("principalId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(_) => return None,
    };
    let document = answer.get("policyDocument")?.as_object()?;
    let statements = match document.get("Statement")? {
        Value::Array(list) => list.iter().map(statement).collect::<Option<Vec<_>>>()?,
        single => vec![statement(single)?],
    };
    // "You cannot set a JSON object or array as a valid value of any key in
    // the context map."
    let context = match answer.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return None,
    };
    if !context
        .values()
        .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
    {
        return None;
    }
    Some(Answer {
        kind: AnswerKind::Policy {
            principal_id,
            statements,
            context,
        },
    })
}

fn statement(value: &Value) -> Option<Statement> {
    let allow = match value.get("Effect")?.as_str()? {
        "Allow" => true,
        "Deny" => false,
        _ => return None,
    };
    let strings = |key: &str| -> Option<Vec<String>> {
        match value.get(key)? {
            Value::String(one) => Some(vec![one.clone()]),
            Value::Array(list) => list.iter().map(|v| Some(v.as_str()?.to_string())).collect(),
            _ => None,
        }
    };
    Some(Statement {
        allow,
        actions: strings("Action")?,
        resources: strings("Resource")?,
        conditional: value.get("Condition").is_some_and(|c| !c.is_null()),
    })
}

/// What a `TOKEN` authorizer's function error `body` (the runtime's
/// `{"errorMessage": …}`) makes of the request: 401 when the message is
/// exactly `Unauthorized`, else 500.
pub fn token_error(body: &[u8]) -> Response {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string));
    match message.as_deref() {
        Some("Unauthorized") => unauthorized(),
        _ => authorizer_configuration_error(),
    }
}

/// Reads an HTTP API authorizer's simple response `output`:
/// `{"isAuthorized": bool, "context": {…}}`; 500 when it is not one.
pub fn read_simple(output: &[u8]) -> Result<Answer, Response> {
    let answer = serde_json::from_slice::<Value>(output).ok();
    let authorized = answer
        .as_ref()
        .and_then(|a| a.get("isAuthorized")?.as_bool());
    match (authorized, answer) {
        (Some(authorized), Some(answer)) => {
            let context = match answer.get("context") {
                None | Some(Value::Null) => json!({}),
                Some(context @ Value::Object(_)) => context.clone(),
                Some(_) => return Err(simple_error()),
            };
            Ok(Answer {
                kind: AnswerKind::Simple {
                    authorized,
                    context,
                },
            })
        }
        _ => Err(simple_error()),
    }
}

/// 500 `Internal Server Error`: an HTTP API authorizer's error or
/// unreadable answer. Whether a message of `Unauthorized` makes it a 401 as
/// for REST is not documented; it does not here.
pub fn simple_error() -> Response {
    Response::gateway(500, "Internal Server Error")
}

impl Answer {
    /// The decision for the request whose method (or route) ARN is `arn`;
    /// `integration_latency_ms` is how long the function took (0 from cache).
    pub fn decide(&self, arn: &str, integration_latency_ms: u64) -> Decision {
        match &self.kind {
            AnswerKind::Simple {
                authorized: true,
                context,
            } => Decision::Allow(json!({ "lambda": context })),
            AnswerKind::Simple {
                authorized: false, ..
            } => Decision::Refuse(Response::gateway(403, "Forbidden")),
            AnswerKind::Policy {
                principal_id,
                statements,
                context,
            } => {
                let mut allowed = false;
                for s in statements.iter().filter(|s| s.covers(arn)) {
                    if !s.allow {
                        return Decision::Refuse(access_denied(true));
                    }
                    allowed |= !s.conditional;
                }
                if !allowed {
                    return Decision::Refuse(access_denied(false));
                }
                let mut authorizer: Map<String, Value> = context
                    .iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        (k.clone(), Value::String(text))
                    })
                    .collect();
                if let Some(id) = principal_id {
                    authorizer.insert("principalId".into(), json!(id));
                }
                authorizer.insert("integrationLatency".into(), json!(integration_latency_ms));
                Decision::Allow(Value::Object(authorizer))
            }
        }
    }
}

impl Statement {
    /// Whether it speaks of invoking `arn`. Actions match without regard to
    /// case, resources with it; `*` matches any run of characters, `?` one.
    fn covers(&self, arn: &str) -> bool {
        self.actions
            .iter()
            .any(|a| wildcard_match(&a.to_ascii_lowercase(), "execute-api:invoke"))
            && self.resources.iter().any(|r| wildcard_match(r, arn))
    }
}

/// IAM's `*`/`?` matching, in time bounded by the text's length times the
/// pattern's (runs of `*` collapsed; a pattern needing more characters than
/// the text has fails at once).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut p: Vec<char> = Vec::new();
    for c in pattern.chars() {
        if !(c == '*' && p.last() == Some(&'*')) {
            p.push(c);
        }
    }
    let t: Vec<char> = text.chars().collect();
    if p.iter().filter(|&&c| c != '*').count() > t.len() {
        return false;
    }
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// How many answers one cache keeps; past it the nearest to expiring goes.
const CACHE_LIMIT: usize = 10_000;

/// One authorizer's cached answers, keyed by its identity source values.
#[derive(Debug, Clone)]
pub struct DecisionCache {
    ttl_ms: u64,
    /// Identity values to (expiry in ms since the epoch, answer).
    entries: HashMap<Vec<String>, (u64, Answer)>,
}

impl DecisionCache {
    /// A cache for `AuthorizerResultTtlInSeconds`; 0 keeps nothing.
    pub fn new(ttl_seconds: u32) -> DecisionCache {
        DecisionCache {
            ttl_ms: u64::from(ttl_seconds) * 1000,
            entries: HashMap::new(),
        }
    }

    /// The answer cached for `identity` that is still fresh at `now_ms`.
    pub fn get(&mut self, identity: &[String], now_ms: u64) -> Option<Answer> {
        let (expires, answer) = self.entries.get(identity)?;
        if now_ms < *expires {
            return Some(answer.clone());
        }
        self.entries.remove(identity);
        None
    }

    /// Keeps `answer` for `identity` from `now_ms` on. Only answers are
    /// kept: a function error is asked again next time.
    pub fn put(&mut self, identity: Vec<String>, answer: Answer, now_ms: u64) {
        if self.ttl_ms == 0 {
            return;
        }
        if self.entries.len() >= CACHE_LIMIT && !self.entries.contains_key(&identity) {
            self.entries.retain(|_, (expires, _)| now_ms < *expires);
            if self.entries.len() >= CACHE_LIMIT {
                let nearest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (expires, _))| *expires)
                    .map(|(key, _)| key.clone());
                if let Some(key) = nearest {
                    self.entries.remove(&key);
                }
            }
        }
        let expires = now_ms.saturating_add(self.ttl_ms);
        self.entries.insert(identity, (expires, answer));
    }

    /// How many answers it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::routing::{RouteKey, RouteTable};
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerRequest, ApiGatewayProxyRequestContext,
        ApiGatewayV2CustomAuthorizerV2Request,
    };

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets/7";

    fn no_context(_: &str) -> Option<String> {
        None
    }

    fn with_headers(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            raw_path: "/pets/7".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Request::default()
        }
    }

    fn policy_answer(statements: Value) -> Answer {
        let output = json!({
            "principalId": "user-1",
            "policyDocument": { "Version": "2012-10-17", "Statement": statements },
            "context": { "stringKey": "value", "numberKey": 1, "booleanKey": true },
        });
        read_policy(output.to_string().as_bytes()).unwrap()
    }

    fn allow(resource: &str) -> Value {
        json!({ "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource })
    }

    fn deny(resource: &str) -> Value {
        json!({ "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": resource })
    }

    fn refused(decision: Decision) -> Response {
        match decision {
            Decision::Refuse(response) => response,
            Decision::Allow(v) => panic!("allowed with {v}"),
        }
    }

    fn allowed(decision: Decision) -> Value {
        match decision {
            Decision::Allow(authorizer) => authorizer,
            Decision::Refuse(r) => panic!("refused {}", String::from_utf8_lossy(&r.body)),
        }
    }

    #[test]
    fn identity_sources_are_read_as_the_templates_write_them() {
        assert_eq!(
            IdentitySource::token("method.request.header.Authorization"),
            Ok(IdentitySource::Header("authorization".into()))
        );
        assert!(IdentitySource::token("$request.header.Authorization").is_err());
        assert!(IdentitySource::token("method.request.header.").is_err());
        assert_eq!(
            IdentitySource::http("$request.header.Authorization"),
            Ok(IdentitySource::Header("authorization".into()))
        );
        assert_eq!(
            IdentitySource::http("$request.querystring.Key"),
            Ok(IdentitySource::QueryString("Key".into()))
        );
        assert_eq!(
            IdentitySource::http("$context.routeKey"),
            Ok(IdentitySource::Context("routeKey".into()))
        );
        assert_eq!(
            IdentitySource::http("$stageVariables.x"),
            Ok(IdentitySource::StageVariable("x".into()))
        );
        assert!(IdentitySource::http("method.request.header.Authorization").is_err());
        assert!(IdentitySource::http("$request.header.").is_err());
    }

    #[test]
    fn a_missing_or_empty_identity_source_is_no_identity() {
        let header = [IdentitySource::token("method.request.header.Authorization").unwrap()];
        assert_eq!(
            identity(
                &header,
                &with_headers(&[("authorization", "tok")]),
                &no_context
            ),
            Some(vec!["tok".to_string()]),
            "header names are case-insensitive"
        );
        assert_eq!(identity(&header, &with_headers(&[]), &no_context), None);
        assert_eq!(
            identity(
                &header,
                &with_headers(&[("Authorization", "")]),
                &no_context
            ),
            None
        );
        let both = [
            IdentitySource::http("$request.header.Authorization").unwrap(),
            IdentitySource::http("$request.querystring.key").unwrap(),
            IdentitySource::http("$context.routeKey").unwrap(),
        ];
        let mut request = with_headers(&[("Authorization", "a"), ("authorization", "b")]);
        request.raw_query = "key=k%201&Key=other".into();
        let route_key = |name: &str| (name == "routeKey").then(|| "GET /pets/{id}".to_string());
        assert_eq!(
            identity(&both, &request, &route_key),
            Some(vec!["a,b".into(), "k 1".into(), "GET /pets/{id}".into()])
        );
        request.raw_query = "Key=other".into();
        assert_eq!(
            identity(&both, &request, &route_key),
            None,
            "query names are case-sensitive"
        );
        let stage = [IdentitySource::StageVariable("x".into())];
        assert_eq!(identity(&stage, &request, &no_context), None);
        assert_eq!(identity(&[], &request, &no_context), Some(vec![]));
    }

    #[test]
    fn the_method_arn_names_the_request_path() {
        assert_eq!(
            method_arn(
                "us-east-1",
                "123456789012",
                "abc123",
                "dev",
                "GET",
                "/pets/7"
            )
            .unwrap(),
            ARN
        );
        assert_eq!(
            method_arn("us-west-2", "123456789012", "ymy8tbxw7b", "dev", "GET", "/").unwrap(),
            "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/dev/GET/"
        );
        let long = format!("/{}", "a".repeat(METHOD_ARN_LIMIT));
        let refused = method_arn("us-east-1", "1", "a", "dev", "GET", &long).unwrap_err();
        assert_eq!(refused.status, 414);
    }

    #[test]
    fn the_token_event_is_what_the_lambda_event_types_read() {
        let typed: ApiGatewayCustomAuthorizerRequest =
            serde_json::from_value(token_event("Bearer abc", ARN)).unwrap();
        assert_eq!(typed.type_.as_deref(), Some("TOKEN"));
        assert_eq!(typed.authorization_token.as_deref(), Some("Bearer abc"));
        assert_eq!(typed.method_arn.as_deref(), Some(ARN));
    }

    #[test]
    fn the_request_event_is_the_payload_event_with_the_authorizer_fields() {
        let table = RouteTable::new(vec![(RouteKey::parse("POST /pets/{id}").unwrap(), ())]);
        let request = Request {
            method: "POST".into(),
            raw_path: "/pets/7".into(),
            raw_query: "a=1".into(),
            headers: vec![
                ("Authorization".into(), "tok".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: b"{}".to_vec(),
            source_ip: "127.0.0.1".into(),
        };
        let selected = table.select("POST", "/pets/7").unwrap();
        let context = Context {
            api_id: "abc123",
            stage: "$default",
            request_id: "req-1",
            time_epoch_ms: 1_764_700_000_000,
            authorizer: Some(json!({"lambda": {}})),
        };
        let arn = route_arn(
            "us-east-1",
            "123456789012",
            "abc123",
            "$default",
            "POST",
            "/pets/7",
        );
        let event = request_event(&request, &selected, &context, &arn, &["tok".into()]);
        assert!(event.get("body").is_none(), "an authorizer gets no body");
        assert!(event["requestContext"].get("authorizer").is_none());
        assert_eq!(event["version"], "2.0");
        let typed: ApiGatewayV2CustomAuthorizerV2Request = serde_json::from_value(event).unwrap();
        assert_eq!(typed.type_.as_deref(), Some("REQUEST"));
        assert_eq!(typed.route_arn.as_deref(), Some(arn.as_str()));
        assert_eq!(typed.identity_source, Some(vec!["tok".to_string()]));
        assert_eq!(typed.route_key.as_deref(), Some("POST /pets/{id}"));
        assert_eq!(typed.headers["authorization"], "tok");
        assert_eq!(typed.path_parameters["id"], "7");
        assert_eq!(typed.query_string_parameters["a"], "1");
        assert_eq!(typed.request_context.http.method, http::Method::POST);
    }

    #[test]
    fn the_request_event_has_its_type() {
        let table = RouteTable::new(vec![(RouteKey::parse("$default").unwrap(), ())]);
        let request = with_headers(&[]);
        let selected = table.select("GET", "/").unwrap();
        let context = Context {
            api_id: "a",
            stage: "$default",
            request_id: "r",
            time_epoch_ms: 0,
            authorizer: None,
        };
        let event = request_event(&request, &selected, &context, "arn", &[]);
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(event["identitySource"], json!([]));
    }

    #[test]
    fn a_matching_allow_lets_the_request_in_with_the_context_stringified() {
        let answer = policy_answer(json!([allow(ARN)]));
        let authorizer = allowed(answer.decide(ARN, 12));
        assert_eq!(
            authorizer,
            json!({
                "stringKey": "value", "numberKey": "1", "booleanKey": "true",
                "principalId": "user-1", "integrationLatency": 12,
            })
        );
        let typed: ApiGatewayProxyRequestContext =
            serde_json::from_value(json!({ "httpMethod": "GET", "authorizer": authorizer }))
                .unwrap();
        assert_eq!(typed.authorizer.fields["principalId"], "user-1");
    }

    #[test]
    fn a_deny_wins_and_no_allow_is_an_implicit_deny() {
        let explicit = refused(policy_answer(json!([allow("*"), deny(ARN)])).decide(ARN, 0));
        assert_eq!(explicit.status, 403);
        assert_eq!(
            explicit.body,
            br#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#
        );
        assert!(explicit
            .headers
            .contains(&("x-amzn-errortype".into(), "AccessDeniedException".into())));
        let implicit = refused(
            policy_answer(json!([allow(
                "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/*"
            )]))
            .decide(ARN, 0),
        );
        assert_eq!(implicit.status, 403);
        assert_eq!(
            implicit.body,
            br#"{"Message":"User is not authorized to access this resource"}"#
        );
        let empty = refused(policy_answer(json!([])).decide(ARN, 0));
        assert_eq!(empty, implicit);
    }

    #[test]
    fn resources_match_with_wildcards_and_actions_must_be_invoke() {
        let matches = |resource: &str| {
            matches!(
                policy_answer(json!([allow(resource)])).decide(ARN, 0),
                Decision::Allow(_)
            )
        };
        assert!(matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/*"
        ));
        assert!(matches("arn:aws:execute-api:*:*:abc123/dev/*/pets/*"));
        assert!(matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets/?"
        ));
        assert!(matches("*"));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets/??"
        ));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/pets"
        ));
        assert!(!matches(
            "arn:aws:execute-api:us-east-1:123456789012:ABC123/*"
        ));
        let with_action = |action: Value| {
            let s = json!({ "Action": action, "Effect": "Allow", "Resource": [ "x", ARN ] });
            matches!(policy_answer(json!([s])).decide(ARN, 0), Decision::Allow(_))
        };
        assert!(with_action(json!("execute-api:Invoke")));
        assert!(with_action(json!("Execute-API:invoke")));
        assert!(with_action(json!(["s3:GetObject", "execute-api:*"])));
        assert!(!with_action(json!("s3:GetObject")));
        assert!(!with_action(json!("execute-api:ManageConnections")));
        let single = policy_answer(allow(ARN));
        assert!(
            matches!(single.decide(ARN, 0), Decision::Allow(_)),
            "one statement, not a list"
        );
    }

    #[test]
    fn a_conditional_statement_only_ever_refuses() {
        let mut conditional = allow(ARN);
        conditional["Condition"] = json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}});
        assert_eq!(
            refused(policy_answer(json!([conditional.clone()])).decide(ARN, 0)).status,
            403
        );
        conditional["Effect"] = json!("Deny");
        let r = refused(policy_answer(json!([allow("*"), conditional])).decide(ARN, 0));
        assert!(String::from_utf8_lossy(&r.body).contains("explicit deny"));
    }

    #[test]
    fn an_answer_api_gateway_cannot_read_is_a_500_with_a_null_message() {
        let with_statement =
            |s: Value| json!({ "principalId": "u", "policyDocument": { "Statement": s } });
        let with_context =
            |c: Value| json!({ "policyDocument": { "Statement": [allow(ARN)] }, "context": c });
        let invoke = "execute-api:Invoke";
        let mut outputs = vec![b"not json".to_vec(), b"null".to_vec()];
        for answer in [
            json!({ "principalId": "u" }),
            json!({ "principalId": "u", "policyDocument": {} }),
            with_statement(json!("Allow")),
            with_statement(json!([{ "Effect": "allow", "Action": invoke, "Resource": "*" }])),
            with_statement(json!([{ "Effect": "Allow", "Resource": "*" }])),
            with_statement(json!([{ "Effect": "Allow", "Action": invoke }])),
            with_statement(json!([{ "Effect": "Allow", "Action": [1], "Resource": "*" }])),
            json!({ "principalId": 7, "policyDocument": { "Statement": [allow(ARN)] } }),
            with_context(json!({ "nested": { "a": 1 } })),
            with_context(json!({ "list": [1] })),
            with_context(json!({ "none": null })),
            with_context(json!("text")),
        ] {
            outputs.push(answer.to_string().into_bytes());
        }
        for output in outputs {
            let response = read_policy(&output).unwrap_err();
            let shown = String::from_utf8_lossy(&output);
            assert_eq!(response, authorizer_configuration_error(), "{shown}");
        }
        let r = authorizer_configuration_error();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (500, &br#"{"message":null}"#[..])
        );
        assert!(r.headers.contains(&(
            "x-amzn-errortype".into(),
            "AuthorizerConfigurationException".into()
        )));
        let without_principal = json!({ "policyDocument": { "Statement": [allow(ARN)] } });
        let answer = read_policy(without_principal.to_string().as_bytes()).unwrap();
        assert_eq!(
            allowed(answer.decide(ARN, 0)),
            json!({ "integrationLatency": 0 })
        );
    }

    #[test]
    fn only_an_unauthorized_error_is_a_401() {
        let r = token_error(br#"{"errorType":"Error","errorMessage":"Unauthorized"}"#);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (401, &br#"{"message":"Unauthorized"}"#[..])
        );
        assert_eq!(
            token_error(br#"{"errorType":"string","errorMessage":"Unauthorized"}"#),
            unauthorized()
        );
        for body in [
            &br#"{"errorType":"Error","errorMessage":"Unauthorized: expired"}"#[..],
            br#"{"errorType":"Error","errorMessage":"unauthorized"}"#,
            br#"{"errorType":"Unauthorized"}"#,
            b"Unauthorized",
            b"",
        ] {
            assert_eq!(token_error(body), authorizer_configuration_error());
        }
    }

    #[test]
    fn a_simple_response_allows_with_its_context_or_forbids() {
        let yes = read_simple(br#"{"isAuthorized":true,"context":{"user":"u1","n":1,"list":[1]}}"#)
            .unwrap();
        assert_eq!(
            allowed(yes.decide("any", 5)),
            json!({ "lambda": { "user": "u1", "n": 1, "list": [1] } })
        );
        let bare = read_simple(br#"{"isAuthorized":true}"#).unwrap();
        assert_eq!(allowed(bare.decide("any", 0)), json!({ "lambda": {} }));
        let no = read_simple(br#"{"isAuthorized":false,"context":{"user":"u1"}}"#).unwrap();
        let r = refused(no.decide("any", 0));
        assert_eq!(
            (r.status, r.body.as_slice()),
            (403, &br#"{"message":"Forbidden"}"#[..])
        );
        for output in [
            &b"not json"[..],
            br#"{"isAuthorized":"true"}"#,
            br#"{"context":{}}"#,
            br#"{"isAuthorized":true,"context":"text"}"#,
            br#"[true]"#,
        ] {
            let r = read_simple(output).unwrap_err();
            assert_eq!(r, simple_error(), "{}", String::from_utf8_lossy(output));
            assert_eq!(r.body, br#"{"message":"Internal Server Error"}"#);
        }
    }

    #[test]
    fn the_cache_keeps_answers_for_the_ttl_and_no_longer() {
        let key = vec!["tok".to_string()];
        let answer = policy_answer(json!([allow(ARN)]));
        let mut cache = DecisionCache::new(300);
        assert_eq!(cache.get(&key, 1_000), None);
        cache.put(key.clone(), answer.clone(), 1_000);
        assert_eq!(cache.get(&key, 1_000), Some(answer.clone()));
        assert_eq!(cache.get(&key, 300_999), Some(answer.clone()));
        assert_eq!(cache.get(&["other".to_string()], 2_000), None);
        assert_eq!(cache.get(&key, 301_000), None, "expired");
        assert!(cache.is_empty(), "an expired entry is dropped");
        let mut off = DecisionCache::new(0);
        off.put(key.clone(), answer, 1_000);
        assert_eq!(off.get(&key, 1_000), None, "a TTL of 0 caches nothing");
    }

    #[test]
    fn a_cached_policy_is_evaluated_for_each_method() {
        let pets_only = policy_answer(json!([allow(ARN)]));
        let mut cache = DecisionCache::new(300);
        let key = vec!["tok".to_string()];
        cache.put(key.clone(), pets_only, 0);
        let other = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/DELETE/pets/7";
        let cached = cache.get(&key, 1).unwrap();
        assert!(matches!(cached.decide(ARN, 0), Decision::Allow(_)));
        assert_eq!(refused(cached.decide(other, 0)).status, 403);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let answer = read_simple(br#"{"isAuthorized":true}"#).unwrap();
        let mut cache = DecisionCache::new(600);
        for i in 0..CACHE_LIMIT {
            cache.put(vec![i.to_string()], answer.clone(), i as u64);
        }
        cache.put(vec!["new".into()], answer.clone(), 100_000);
        assert_eq!(cache.len(), CACHE_LIMIT);
        assert_eq!(
            cache.get(&["0".to_string()], 100_000),
            None,
            "the nearest to expiring went"
        );
        assert!(cache.get(&["new".to_string()], 100_000).is_some());
        cache.put(vec!["later".into()], answer, 10_000_000);
        assert_eq!(cache.len(), 1, "expired entries are swept when full");
    }

    #[test]
    fn hostile_patterns_match_quickly_and_correctly() {
        let arn = format!("arn:aws:execute-api:r:1:a/dev/GET/{}", "a".repeat(1500));
        let stars = "*".repeat(1_000_000);
        assert!(wildcard_match(&stars, &arn));
        let alternating = "*a".repeat(1_000);
        assert!(wildcard_match(&alternating, &arn));
        let hopeless = format!("{}b", "*a".repeat(1_400));
        let started = std::time::Instant::now();
        assert!(!wildcard_match(&hopeless, &arn));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "x"));
        assert!(!wildcard_match("?", ""));
        assert!(wildcard_match("a*?c", "abbc"));
        assert!(wildcard_match("é?", "éx"));
    }
}
