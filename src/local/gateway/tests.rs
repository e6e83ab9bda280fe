use super::*;
use crate::local::authorizer::test_pools::{jwks, pools, sign, Pool};
use crate::local::routing::RouteKey;
use crate::local::template::{Cors, GatewayResponse, MockRoute, Throttle};
use serde_json::json;

const CLIENT: &str = "web-client-id";

/// Functions that answer from a script, recording every event.
#[derive(Default)]
struct Script {
    answers: Mutex<HashMap<String, Vec<Invoked>>>,
    delay: Option<Duration>,
    events: Mutex<Vec<(String, Value)>>,
    keys: BTreeMap<String, Arc<Jwks>>,
}

impl Script {
    fn answering(function: &str, answer: Invoked) -> Script {
        let script = Script::default();
        script.push(function, answer);
        script
    }

    fn push(&self, function: &str, answer: Invoked) {
        let mut answers = self.answers.lock().unwrap();
        answers.entry(function.into()).or_default().push(answer);
    }

    fn events(&self) -> Vec<(String, Value)> {
        self.events.lock().unwrap().clone()
    }
}

impl Backend for Script {
    fn invoke<'a>(&'a self, function: &'a str, event: Vec<u8>) -> BoxFuture<'a, Invoked> {
        Box::pin(async move {
            let event: Value = serde_json::from_slice(&event).unwrap();
            self.events.lock().unwrap().push((function.into(), event));
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            let mut answers = self.answers.lock().unwrap();
            let queue = answers.get_mut(function).expect("a scripted function");
            // The last answer repeats.
            if queue.len() > 1 {
                queue.remove(0)
            } else {
                queue[0].clone()
            }
        })
    }

    fn key_sets<'a>(&'a self, issuers: &'a [String]) -> BoxFuture<'a, BTreeMap<String, Arc<Jwks>>> {
        Box::pin(async move {
            issuers
                .iter()
                .filter_map(|i| Some((i.clone(), self.keys.get(i)?.clone())))
                .collect()
        })
    }
}

fn ok(body: Value) -> Invoked {
    Invoked::Answer(
        json!({"statusCode": 200, "body": body.to_string()})
            .to_string()
            .into_bytes(),
    )
}

fn route(key: &str, function: &str, auth: Auth) -> Route {
    Route {
        key: RouteKey::parse(key).unwrap(),
        function: function.into(),
        auth,
        scopes: Vec::new(),
        body_schema: None,
        required_parameters: Vec::new(),
    }
}

fn jwt(pool: &Pool) -> Auth {
    Auth::Jwt {
        name: "cognito".into(),
        issuer: pool.issuer.clone(),
        audience: vec![CLIENT.into()],
        identity_source: "$request.header.Authorization".into(),
    }
}

fn http_api(routes: Vec<Route>) -> Api {
    Api {
        logical_id: "MainApi".into(),
        id: "a1b2c3".into(),
        kind: ApiKind::Http,
        stage: "$default".into(),
        cors: None,
        throttle: None,
        routes,
        mocks: Vec::new(),
        gateway_responses: Vec::new(),
    }
}

fn rest_api(routes: Vec<Route>) -> Api {
    Api {
        kind: ApiKind::Rest,
        stage: "prod".into(),
        ..http_api(routes)
    }
}

fn serve(api: Api, script: Script) -> (Gateway, Arc<Script>) {
    let script = Arc::new(script);
    let gateway = Gateway::new(api, "us-east-1", "123456789012", script.clone()).unwrap();
    (gateway, script)
}

/// A request to `path` (with `?query` if any).
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    Request {
        method: method.into(),
        raw_path: path.into(),
        raw_query: query.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
        source_ip: "127.0.0.1".into(),
    }
}

fn body(handled: &Handled) -> Value {
    serde_json::from_slice(&handled.response.body).unwrap_or(Value::Null)
}

fn now_s() -> u64 {
    now_ms() / 1000
}

fn id_token(pool: &Pool, audience: &str, exp: u64) -> String {
    let claims = json!({
        "sub": "user-1", "iss": pool.issuer, "aud": audience, "token_use": "id",
        "email": "jane@example.com", "exp": exp, "iat": now_s() - 10,
    });
    sign(pool, json!({"kid": pool.kid, "alg": "RS256"}), claims)
}

fn with_keys(script: Script, pool: &Pool) -> Script {
    let mut script = script;
    script
        .keys
        .insert(pool.issuer.clone(), Arc::new(jwks(pool)));
    script
}

#[tokio::test]
async fn an_http_route_reaches_its_function_with_path_parameters_and_a_missing_route_is_404() {
    let api = http_api(vec![route(
        "GET /guitars/{id}",
        "GuitarsFunction",
        Auth::None,
    )]);
    let (gateway, script) = serve(
        api,
        Script::answering("GuitarsFunction", ok(json!({"id": "g1"}))),
    );

    let handled = gateway
        .handle(request("GET", "/guitars/g1", &[], b""))
        .await;
    assert_eq!(handled.response.status, 200);
    assert_eq!(body(&handled), json!({"id": "g1"}));
    assert!(handled
        .response
        .headers
        .iter()
        .any(|(n, _)| n == "apigw-requestid"));
    let (function, event) = &script.events()[0];
    assert_eq!(function, "GuitarsFunction");
    assert_eq!(event["routeKey"], "GET /guitars/{id}");
    assert_eq!(event["pathParameters"], json!({"id": "g1"}));
    assert_eq!(handled.trace.function.as_deref(), Some("GuitarsFunction"));

    let missing = gateway.handle(request("GET", "/nothing", &[], b"")).await;
    assert_eq!(missing.response.status, 404);
    assert_eq!(body(&missing), json!({"message": "Not Found"}));
    let wrong_method = gateway
        .handle(request("DELETE", "/guitars/g1", &[], b""))
        .await;
    assert_eq!(wrong_method.response.status, 404);
    assert_eq!(
        script.events().len(),
        1,
        "refused requests reach no function"
    );
}

#[tokio::test]
async fn the_jwt_authorizer_lets_in_the_pools_tokens_for_its_audience_only() {
    let [pool, other] = pools();
    let api = http_api(vec![route("GET /user/profile", "UserFunction", jwt(pool))]);
    let script = with_keys(
        with_keys(Script::answering("UserFunction", ok(json!({}))), pool),
        other,
    );
    let (gateway, script) = serve(api, script);
    let call = |token: String| {
        let header = format!("Bearer {token}");
        let gateway = &gateway;
        async move {
            gateway
                .handle(request(
                    "GET",
                    "/user/profile",
                    &[("Authorization", &header)],
                    b"",
                ))
                .await
        }
    };

    let good = call(id_token(pool, CLIENT, now_s() + 3600)).await;
    assert_eq!(good.response.status, 200, "{:?}", good.trace);
    let claims = &script.events()[0].1["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(claims["email"], "jane@example.com");

    for (token, why) in [
        (id_token(other, CLIENT, now_s() + 3600), "issuer"),
        (id_token(pool, CLIENT, now_s() - 5), "expired"),
        (id_token(pool, "another-client", now_s() + 3600), "audience"),
    ] {
        let refused = call(token).await;
        assert_eq!(refused.response.status, 401, "{why}");
        assert_eq!(body(&refused), json!({"message": "Unauthorized"}));
        let note = refused.trace.note.unwrap();
        assert!(note.contains(why), "{note}");
    }
    let none = gateway
        .handle(request("GET", "/user/profile", &[], b""))
        .await;
    assert_eq!(none.response.status, 401);
    assert_eq!(
        script.events().len(),
        1,
        "no refused request reached the function"
    );
}

#[tokio::test]
async fn cors_preflights_are_answered_by_the_gateway_and_answers_get_its_headers() {
    let mut api = http_api(vec![route("POST /guitars", "GuitarsFunction", Auth::None)]);
    api.cors = Some(Cors {
        allow_origins: vec!["https://app.example".into()],
        allow_methods: vec!["POST".into()],
        allow_headers: vec!["content-type".into()],
        ..Cors::default()
    });
    let (gateway, script) = serve(api, Script::answering("GuitarsFunction", ok(json!({}))));
    let preflight = gateway
        .handle(request(
            "OPTIONS",
            "/guitars",
            &[
                ("Origin", "https://app.example"),
                ("Access-Control-Request-Method", "POST"),
            ],
            b"",
        ))
        .await;
    assert_eq!(preflight.response.status, 204);
    assert!(script.events().is_empty());
    let answered = gateway
        .handle(request(
            "POST",
            "/guitars",
            &[("Origin", "https://app.example")],
            b"{}",
        ))
        .await;
    assert!(answered.response.headers.contains(&(
        "access-control-allow-origin".into(),
        "https://app.example".into()
    )));
}

#[tokio::test]
async fn stage_throttling_answers_429_beyond_the_burst() {
    let mut api = http_api(vec![route("GET /", "Fn", Auth::None)]);
    api.throttle = Some(Throttle {
        rate_per_second: 0.001,
        burst: 2,
    });
    let (gateway, _) = serve(api, Script::answering("Fn", ok(json!({}))));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            gateway
                .handle(request("GET", "/", &[], b""))
                .await
                .response
                .status,
        );
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn function_failures_throttles_and_timeouts_answer_as_each_kind_of_api_does() {
    let failed = Invoked::Failed {
        error_type: "Runtime.ExitError".into(),
        body: br#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: exit status 3"}"#.to_vec(),
    };
    for (kind, path, failure, timeout) in [
        (ApiKind::Http, "/x", 500, 503),
        (ApiKind::Rest, "/prod/x", 502, 504),
    ] {
        let mut api = http_api(vec![route("GET /x", "Fn", Auth::None)]);
        api.kind = kind;
        api.stage = if kind == ApiKind::Rest {
            "prod".into()
        } else {
            "$default".into()
        };
        let script = Script::answering("Fn", failed.clone());
        script.push("Fn", Invoked::Throttled);
        let (gateway, _) = serve(api.clone(), script);
        let failed = gateway.handle(request("GET", path, &[], b"")).await;
        assert_eq!(failed.response.status, failure);
        assert_eq!(
            failed.trace.note.as_deref(),
            Some("the function failed: Runtime.ExitError: RequestId: r Error: Runtime exited with error: exit status 3")
        );
        assert_eq!(
            gateway
                .handle(request("GET", path, &[], b""))
                .await
                .response
                .status,
            failure
        );

        let slow = Script {
            delay: Some(Duration::from_millis(300)),
            ..Script::answering("Fn", ok(json!({})))
        };
        let (gateway, _) = serve(api, slow);
        let gateway = gateway.with_integration_timeout(Duration::from_millis(50));
        let handled = gateway.handle(request("GET", path, &[], b"")).await;
        assert_eq!(handled.response.status, timeout, "{kind:?}");
    }
}

#[tokio::test]
async fn payloads_over_api_gateways_limit_are_refused_before_any_function() {
    let (gateway, script) = serve(
        http_api(vec![route("POST /x", "Fn", Auth::None)]),
        Script::answering("Fn", ok(json!({}))),
    );
    let big = vec![b'a'; PAYLOAD_LIMIT + 1];
    let handled = gateway.handle(request("POST", "/x", &[], &big)).await;
    assert_eq!(handled.response.status, 413);
    let nearly = vec![b'a'; EVENT_LIMIT];
    let handled = gateway
        .handle(request(
            "POST",
            "/x",
            &[("content-type", "text/plain")],
            &nearly,
        ))
        .await;
    assert_eq!(handled.response.status, 413, "an event over Lambda's 6 MB");
    assert_eq!(body(&handled), json!({"message": "Request Too Long"}));
    assert!(script.events().is_empty());
}

#[tokio::test]
async fn a_rest_api_is_called_under_its_stage_and_refuses_unknown_resources_with_403() {
    let mut api = rest_api(vec![route("GET /instances/{id}", "Fn", Auth::None)]);
    api.mocks.push(MockRoute {
        key: RouteKey::parse("OPTIONS /instances/{id}").unwrap(),
        status: 200,
        headers: vec![("access-control-allow-origin".into(), "*".into())],
    });
    let (gateway, script) = serve(api, Script::answering("Fn", ok(json!({"ok": true}))));
    let handled = gateway
        .handle(request("GET", "/prod/instances/i-1", &[], b""))
        .await;
    assert_eq!(handled.response.status, 200);
    let event = &script.events()[0].1;
    assert_eq!(event["resource"], "/instances/{id}");
    assert_eq!(event["path"], "/instances/i-1");
    assert_eq!(event["requestContext"]["stage"], "prod");

    for path in [
        "/instances/i-1",
        "/prod/nothing",
        "/production/instances/i-1",
    ] {
        let refused = gateway.handle(request("GET", path, &[], b"")).await;
        assert_eq!(refused.response.status, 403, "{path}");
        assert_eq!(
            body(&refused),
            json!({"message": "Missing Authentication Token"})
        );
    }
    let preflight = gateway
        .handle(request("OPTIONS", "/prod/instances/i-1", &[], b""))
        .await;
    assert_eq!(preflight.response.status, 200);
    assert_eq!(
        script.events().len(),
        1,
        "the MOCK preflight runs no function"
    );
}

#[tokio::test]
async fn a_rest_body_model_refuses_bodies_that_do_not_conform() {
    let mut refresh = route("POST /auth/refresh", "Fn", Auth::None);
    refresh.body_schema = Some(json!({
        "type": "object", "required": ["refreshToken"], "additionalProperties": false,
        "properties": {"refreshToken": {"type": "string", "minLength": 1}}
    }));
    let (gateway, script) = serve(
        rest_api(vec![refresh]),
        Script::answering("Fn", ok(json!({}))),
    );
    let bad = gateway
        .handle(request("POST", "/prod/auth/refresh", &[], br#"{"x":1}"#))
        .await;
    assert_eq!(bad.response.status, 400);
    assert_eq!(body(&bad), json!({"message": "Invalid request body"}));
    let good = gateway
        .handle(request(
            "POST",
            "/prod/auth/refresh",
            &[],
            br#"{"refreshToken":"t"}"#,
        ))
        .await;
    assert_eq!(good.response.status, 200);
    assert_eq!(script.events().len(), 1);
}

#[tokio::test]
async fn a_rest_method_refuses_a_request_without_its_required_parameters_before_the_body() {
    let mut metrics = route("POST /instances/{id}/metrics", "Fn", Auth::None);
    metrics.required_parameters = [
        "method.request.querystring.period",
        "method.request.header.X-Tenant",
    ]
    .iter()
    .map(|e| crate::local::template::RequiredParameter::parse(e).unwrap())
    .collect();
    metrics.body_schema = Some(json!({"type": "object"}));
    let (gateway, script) = serve(
        rest_api(vec![metrics]),
        Script::answering("Fn", ok(json!({}))),
    );
    let missing = gateway
        .handle(request(
            "POST",
            "/prod/instances/i-1/metrics?period=",
            &[],
            b"[]",
        ))
        .await;
    assert_eq!(missing.response.status, 400);
    assert_eq!(
        body(&missing),
        json!({"message": "Missing required request parameters: [period, X-Tenant]"})
    );
    let bad_body = gateway
        .handle(request(
            "POST",
            "/prod/instances/i-1/metrics?period=60",
            &[("x-tenant", "a")],
            b"[]",
        ))
        .await;
    assert_eq!(body(&bad_body), json!({"message": "Invalid request body"}));
    let good = gateway
        .handle(request(
            "POST",
            "/prod/instances/i-1/metrics?period=60",
            &[("x-tenant", "a")],
            b"{}",
        ))
        .await;
    assert_eq!(good.response.status, 200);
    assert_eq!(
        script.events().len(),
        1,
        "only the valid request ran the function"
    );
}

#[tokio::test]
async fn a_rest_cognito_authorizer_passes_id_token_claims_and_refuses_other_pools() {
    let [pool, other] = pools();
    let auth = Auth::CognitoUserPools {
        name: "cognito".into(),
        issuers: vec![pool.issuer.clone()],
    };
    let script = with_keys(Script::answering("Fn", ok(json!({}))), pool);
    let (gateway, script) = serve(rest_api(vec![route("GET /me", "Fn", auth)]), script);
    let token = id_token(pool, CLIENT, now_s() + 600);
    let good = gateway
        .handle(request(
            "GET",
            "/prod/me",
            &[("Authorization", &token)],
            b"",
        ))
        .await;
    assert_eq!(good.response.status, 200, "{:?}", good.trace);
    assert_eq!(
        script.events()[0].1["requestContext"]["authorizer"]["claims"]["email"],
        "jane@example.com"
    );
    let foreign = id_token(other, CLIENT, now_s() + 600);
    let refused = gateway
        .handle(request(
            "GET",
            "/prod/me",
            &[("Authorization", &foreign)],
            b"",
        ))
        .await;
    assert_eq!(refused.response.status, 401);
    assert_eq!(script.events().len(), 1);
}

#[tokio::test]
async fn a_token_authorizers_policy_is_cached_and_a_missing_token_never_reaches_it() {
    let auth = Auth::Function {
        name: "token".into(),
        function: "AuthFn".into(),
        identity_sources: vec!["method.request.header.Authorization".into()],
        cache_seconds: 300,
    };
    let policy = json!({
        "principalId": "user-7",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke",
             "Resource": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/*"}
        ]},
        "context": {"tier": "gold"}
    });
    let script = Script::answering("AuthFn", Invoked::Answer(policy.to_string().into_bytes()));
    script.push("Fn", ok(json!({})));
    let (gateway, script) = serve(rest_api(vec![route("GET /orders", "Fn", auth)]), script);
    for _ in 0..2 {
        let handled = gateway
            .handle(request(
                "GET",
                "/prod/orders",
                &[("Authorization", "allow-me")],
                b"",
            ))
            .await;
        assert_eq!(handled.response.status, 200, "{:?}", handled.trace);
    }
    let events = script.events();
    let asked: Vec<&Value> = events
        .iter()
        .filter(|(f, _)| f == "AuthFn")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(asked.len(), 1, "the second request used the cached policy");
    assert_eq!(asked[0]["type"], "TOKEN");
    assert_eq!(asked[0]["authorizationToken"], "allow-me");
    let integration = &events.last().unwrap().1;
    assert_eq!(
        integration["requestContext"]["authorizer"]["principalId"],
        "user-7"
    );
    assert_eq!(integration["requestContext"]["authorizer"]["tier"], "gold");

    let missing = gateway
        .handle(request("GET", "/prod/orders", &[], b""))
        .await;
    assert_eq!(missing.response.status, 401);
    assert_eq!(script.events().len(), events.len());
}

/// The gateway responses `stackctl render` gives a REST API with CORS.
fn cors_gateway_responses() -> Vec<GatewayResponse> {
    ["DEFAULT_4XX", "DEFAULT_5XX"]
        .into_iter()
        .map(|response_type| GatewayResponse {
            response_type: response_type.into(),
            status: None,
            headers: vec![
                (
                    "Access-Control-Allow-Origin".into(),
                    "https://console.example.com".into(),
                ),
                (
                    "Access-Control-Allow-Headers".into(),
                    "Content-Type,Authorization".into(),
                ),
                ("Vary".into(), "Origin".into()),
            ],
            not_applied: Vec::new(),
        })
        .collect()
}

fn header_of<'h>(handled: &'h Handled, name: &str) -> Option<&'h str> {
    header(&handled.response.headers, name)
}

#[tokio::test]
async fn a_rest_cognito_refusal_carries_the_cors_origin_of_the_apis_gateway_responses() {
    let [pool, _] = pools();
    let auth = Auth::CognitoUserPools {
        name: "cognito".into(),
        issuers: vec![pool.issuer.clone()],
    };
    let api = |gateway_responses| Api {
        gateway_responses,
        ..rest_api(vec![route("GET /instances", "Fn", auth.clone())])
    };
    let call = request(
        "GET",
        "/prod/instances",
        &[("Origin", "https://console.example.com")],
        b"",
    );
    let script = with_keys(Script::answering("Fn", ok(json!({}))), pool);
    let (gateway, script) = serve(api(cors_gateway_responses()), script);
    let refused = gateway.handle(call.clone()).await;
    assert_eq!(refused.response.status, 401);
    assert_eq!(refused.own, Some(ResponseType::Unauthorized));
    assert_eq!(body(&refused), json!({"message": "Unauthorized"}));
    assert_eq!(
        header_of(&refused, "access-control-allow-origin"),
        Some("https://console.example.com")
    );
    assert_eq!(
        header_of(&refused, "access-control-allow-headers"),
        Some("Content-Type,Authorization")
    );
    assert_eq!(header_of(&refused, "vary"), Some("Origin"));
    assert!(script.events().is_empty(), "no function ran");

    // Without gateway responses, API Gateway's 401 has no CORS headers.
    let script = with_keys(Script::answering("Fn", ok(json!({}))), pool);
    let (gateway, _) = serve(api(Vec::new()), script);
    let refused = gateway.handle(call).await;
    assert_eq!(refused.response.status, 401);
    assert_eq!(header_of(&refused, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_gateway_response_of_the_answers_type_wins_over_the_default_and_may_set_the_status() {
    let mut responses = cors_gateway_responses();
    responses.push(GatewayResponse {
        response_type: "MISSING_AUTHENTICATION_TOKEN".into(),
        status: Some(404),
        headers: vec![("X-Unknown".into(), "route".into())],
        not_applied: Vec::new(),
    });
    let api = Api {
        gateway_responses: responses,
        ..rest_api(vec![route("GET /items", "Fn", Auth::None)])
    };
    let (gateway, _) = serve(api, Script::answering("Fn", Invoked::Throttled));
    let unknown = gateway
        .handle(request("GET", "/prod/nothing", &[], b""))
        .await;
    assert_eq!(unknown.own, Some(ResponseType::MissingAuthenticationToken));
    assert_eq!(unknown.response.status, 404);
    assert_eq!(header_of(&unknown, "x-unknown"), Some("route"));
    assert_eq!(header_of(&unknown, "access-control-allow-origin"), None);
    // A throttled function's 502 has no type of its own: DEFAULT_5XX.
    let failed = gateway
        .handle(request("GET", "/prod/items", &[], b""))
        .await;
    assert_eq!(failed.response.status, 502);
    assert_eq!(failed.own, Some(ResponseType::Unnamed));
    assert_eq!(
        header_of(&failed, "access-control-allow-origin"),
        Some("https://console.example.com")
    );
}

#[tokio::test]
async fn gateway_responses_leave_function_answers_and_http_apis_alone() {
    let api = Api {
        gateway_responses: cors_gateway_responses(),
        ..rest_api(vec![route("GET /items", "Fn", Auth::None)])
    };
    let answer = Invoked::Answer(
        json!({"statusCode": 404, "body": "{}"})
            .to_string()
            .into_bytes(),
    );
    let (gateway, _) = serve(api, Script::answering("Fn", answer));
    let handled = gateway
        .handle(request("GET", "/prod/items", &[], b""))
        .await;
    assert_eq!(handled.response.status, 404);
    assert_eq!(handled.own, None);
    assert_eq!(header_of(&handled, "access-control-allow-origin"), None);
    let http = Api {
        gateway_responses: cors_gateway_responses(),
        ..http_api(Vec::new())
    };
    let (gateway, _) = serve(http, Script::default());
    let missing = gateway.handle(request("GET", "/nothing", &[], b"")).await;
    assert_eq!(missing.response.status, 404);
    assert_eq!(header_of(&missing, "access-control-allow-origin"), None);
}
