//! The template's APIs: HTTP APIs (`AWS::ApiGatewayV2::*`) and REST APIs
//! (`AWS::ApiGateway::*`), read into routes that point at functions.

use super::{
    referenced_id, resources_of, Api, ApiKind, Auth, Cors, GatewayResponse, MockRoute,
    RequiredParameter, Resolver, Route, Throttle, Unresolved,
};
use crate::local::routing::RouteKey;
use serde_json::Value;
use std::collections::BTreeMap;

type Found<T> = Result<T, (String, Unresolved)>;

/// Every API of the template.
pub fn apis(template: &Value, resolver: &Resolver<'_>) -> Found<Vec<Api>> {
    let mut out = Vec::new();
    for (id, resource) in resources_of(template, "AWS::ApiGatewayV2::Api") {
        if resource
            .pointer("/Properties/ProtocolType")
            .and_then(Value::as_str)
            == Some("HTTP")
        {
            out.push(http_api(template, resolver, id, resource)?);
        }
    }
    for (id, _) in resources_of(template, "AWS::ApiGateway::RestApi") {
        out.push(rest_api(template, resolver, id)?);
    }
    Ok(out)
}

/// The API's deployed id, or a stand-in when the deployment holds none.
fn api_id(resolver: &Resolver<'_>, id: &str) -> String {
    resolver
        .string(&serde_json::json!({ "Ref": id }))
        .unwrap_or_else(|_| id.to_ascii_lowercase())
}

/// Resources of `resource_type` that belong to the API `api` through
/// `link` (`ApiId`, `RestApiId`).
fn parts_of<'t>(
    template: &'t Value,
    resource_type: &'t str,
    link: &'t str,
    api: &'t str,
) -> impl Iterator<Item = (&'t str, &'t Value)> + 't {
    resources_of(template, resource_type).filter_map(move |(id, r)| {
        let props = r.get("Properties")?;
        (referenced_id(props.get(link)?).as_deref() == Some(api)).then_some((id, props))
    })
}

fn http_api(template: &Value, resolver: &Resolver<'_>, id: &str, api: &Value) -> Found<Api> {
    let at = |what: &str| format!("{id}.{what}");
    let cors = match api.pointer("/Properties/CorsConfiguration") {
        Some(c) => Some(http_cors(c, resolver).map_err(|e| (at("CorsConfiguration"), e))?),
        None => None,
    };
    let mut stage = "$default".to_string();
    let mut throttle = None;
    if let Some((_, props)) = parts_of(template, "AWS::ApiGatewayV2::Stage", "ApiId", id).next() {
        stage = props["StageName"]
            .as_str()
            .unwrap_or("$default")
            .to_string();
        throttle = throttle_of(
            &props.pointer("/DefaultRouteSettings/ThrottlingRateLimit"),
            &props.pointer("/DefaultRouteSettings/ThrottlingBurstLimit"),
        );
    }
    let mut authorizers = BTreeMap::new();
    for (auth_id, props) in parts_of(template, "AWS::ApiGatewayV2::Authorizer", "ApiId", id) {
        let name = props["Name"].as_str().unwrap_or(auth_id).to_string();
        let identity_sources = resolver
            .strings(&props["IdentitySource"])
            .map_err(|e| (format!("{auth_id}.IdentitySource"), e))?;
        let auth = if props["AuthorizerType"] == "JWT" {
            let config = &props["JwtConfiguration"];
            Auth::Jwt {
                name,
                issuer: resolver
                    .string(&config["Issuer"])
                    .map_err(|e| (format!("{auth_id}.JwtConfiguration.Issuer"), e))?,
                audience: resolver
                    .strings(&config["Audience"])
                    .map_err(|e| (format!("{auth_id}.JwtConfiguration.Audience"), e))?,
                identity_source: identity_sources.into_iter().next().unwrap_or_default(),
            }
        } else {
            function_authorizer(name, props, identity_sources, auth_id)?
        };
        authorizers.insert(auth_id.to_string(), auth);
    }
    let integrations: BTreeMap<&str, Option<String>> =
        parts_of(template, "AWS::ApiGatewayV2::Integration", "ApiId", id)
            .map(|(i, props)| (i, referenced_id(&props["IntegrationUri"])))
            .collect();
    let mut routes = Vec::new();
    for (route_id, props) in parts_of(template, "AWS::ApiGatewayV2::Route", "ApiId", id) {
        let key_text = props["RouteKey"].as_str().unwrap_or_default();
        let key = RouteKey::parse(key_text).map_err(|e| {
            (
                route_id.to_string(),
                Unresolved::Unsupported(format!("route key {key_text:?}: {e}")),
            )
        })?;
        let integration = referenced_id(&props["Target"]).unwrap_or_default();
        let Some(Some(function)) = integrations.get(integration.as_str()) else {
            return Err((
                route_id.to_string(),
                Unresolved::Unsupported(format!(
                    "a target {} that is not a Lambda integration of this API",
                    props["Target"]
                )),
            ));
        };
        routes.push(Route {
            key,
            function: function.clone(),
            auth: authorizer_of(props, &authorizers),
            scopes: string_list(&props["AuthorizationScopes"]),
            body_schema: None,
            required_parameters: Vec::new(),
        });
    }
    Ok(Api {
        logical_id: id.to_string(),
        id: api_id(resolver, id),
        kind: ApiKind::Http,
        stage,
        cors,
        throttle,
        routes,
        mocks: Vec::new(),
        gateway_responses: Vec::new(),
    })
}

fn http_cors(config: &Value, resolver: &Resolver<'_>) -> Result<Cors, Unresolved> {
    let list = |name: &str| -> Result<Vec<String>, Unresolved> {
        match config.get(name) {
            Some(v) => resolver.strings(v),
            None => Ok(Vec::new()),
        }
    };
    Ok(Cors {
        allow_origins: list("AllowOrigins")?,
        allow_methods: list("AllowMethods")?,
        allow_headers: list("AllowHeaders")?,
        expose_headers: list("ExposeHeaders")?,
        max_age: config["MaxAge"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok()),
        allow_credentials: config["AllowCredentials"].as_bool().unwrap_or(false),
    })
}

fn throttle_of(rate: &Option<&Value>, burst: &Option<&Value>) -> Option<Throttle> {
    Some(Throttle {
        rate_per_second: rate.and_then(Value::as_f64)?,
        burst: burst
            .and_then(Value::as_u64)
            .and_then(|b| u32::try_from(b).ok())?,
    })
}

fn function_authorizer(
    name: String,
    props: &Value,
    identity_sources: Vec<String>,
    auth_id: &str,
) -> Found<Auth> {
    let Some(function) = referenced_id(&props["AuthorizerUri"]) else {
        return Err((
            format!("{auth_id}.AuthorizerUri"),
            Unresolved::Unsupported("an authorizer that is not a Lambda function".into()),
        ));
    };
    Ok(Auth::Function {
        name,
        function,
        identity_sources,
        // API Gateway's default when the template leaves it out.
        cache_seconds: props["AuthorizerResultTtlInSeconds"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(300),
    })
}

fn authorizer_of(props: &Value, authorizers: &BTreeMap<String, Auth>) -> Auth {
    match props["AuthorizationType"].as_str() {
        None | Some("NONE") => Auth::None,
        Some(_) => referenced_id(&props["AuthorizerId"])
            .and_then(|a| authorizers.get(&a).cloned())
            // An authorization type with no authorizer of this API would be
            // refused by CloudFormation; refuse every request rather than
            // let one through.
            .unwrap_or(Auth::Function {
                name: "missing".into(),
                function: String::new(),
                identity_sources: Vec::new(),
                cache_seconds: 0,
            }),
    }
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn rest_api(template: &Value, resolver: &Resolver<'_>, id: &str) -> Found<Api> {
    let paths = resource_paths(template, id);
    let mut stage = String::new();
    let mut throttle = None;
    if let Some((_, props)) = parts_of(template, "AWS::ApiGateway::Stage", "RestApiId", id).next() {
        stage = props["StageName"].as_str().unwrap_or_default().to_string();
        let all = props["MethodSettings"].as_array().and_then(|settings| {
            settings
                .iter()
                .find(|s| s["ResourcePath"] == "/*" && s["HttpMethod"] == "*")
        });
        if let Some(all) = all {
            throttle = throttle_of(
                &all.get("ThrottlingRateLimit"),
                &all.get("ThrottlingBurstLimit"),
            );
        }
    }
    let mut authorizers = BTreeMap::new();
    for (auth_id, props) in parts_of(template, "AWS::ApiGateway::Authorizer", "RestApiId", id) {
        let name = props["Name"].as_str().unwrap_or(auth_id).to_string();
        let auth = if props["Type"] == "COGNITO_USER_POOLS" {
            let arns = resolver
                .strings(&props["ProviderARNs"])
                .map_err(|e| (format!("{auth_id}.ProviderARNs"), e))?;
            Auth::CognitoUserPools {
                name,
                issuers: arns.iter().filter_map(|arn| pool_issuer(arn)).collect(),
            }
        } else {
            let sources = props["IdentitySource"]
                .as_str()
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
                .unwrap_or_default();
            function_authorizer(name, props, sources, auth_id)?
        };
        authorizers.insert(auth_id.to_string(), auth);
    }
    // Each validator: (validates the body, validates the parameters).
    let validators: BTreeMap<&str, (bool, bool)> = parts_of(
        template,
        "AWS::ApiGateway::RequestValidator",
        "RestApiId",
        id,
    )
    .map(|(v, props)| {
        let on = |key: &str| props[key].as_bool().unwrap_or(false);
        (
            v,
            (on("ValidateRequestBody"), on("ValidateRequestParameters")),
        )
    })
    .collect();
    let models: BTreeMap<&str, &Value> =
        parts_of(template, "AWS::ApiGateway::Model", "RestApiId", id)
            .map(|(m, props)| (m, &props["Schema"]))
            .collect();
    let mut routes = Vec::new();
    let mut mocks = Vec::new();
    for (method_id, props) in parts_of(template, "AWS::ApiGateway::Method", "RestApiId", id) {
        let resource = referenced_id(&props["ResourceId"]).unwrap_or_default();
        let path = paths
            .get(&resource)
            .cloned()
            .unwrap_or_else(|| "/".to_string());
        let method = props["HttpMethod"].as_str().unwrap_or("ANY");
        let key_text = format!("{method} {path}");
        let key = RouteKey::parse(&key_text).map_err(|e| {
            (
                method_id.to_string(),
                Unresolved::Unsupported(format!("method {key_text:?}: {e}")),
            )
        })?;
        let integration = &props["Integration"];
        if integration["Type"] == "MOCK" {
            mocks.push(mock_route(key, integration));
            continue;
        }
        let Some(function) = referenced_id(&integration["Uri"]) else {
            return Err((
                method_id.to_string(),
                Unresolved::Unsupported(format!("an integration of type {}", integration["Type"])),
            ));
        };
        let (validates_body, validates_parameters) = referenced_id(&props["RequestValidatorId"])
            .and_then(|v| validators.get(v.as_str()).copied())
            .unwrap_or_default();
        let body_schema = props
            .pointer("/RequestModels/application~1json")
            .and_then(referenced_id)
            .and_then(|m| models.get(m.as_str()))
            .filter(|_| validates_body)
            .map(|schema| (*schema).clone());
        routes.push(Route {
            key,
            function,
            auth: authorizer_of(props, &authorizers),
            scopes: string_list(&props["AuthorizationScopes"]),
            body_schema,
            required_parameters: if validates_parameters {
                required_parameters(&props["RequestParameters"])
            } else {
                Vec::new()
            },
        });
    }
    Ok(Api {
        logical_id: id.to_string(),
        id: api_id(resolver, id),
        kind: ApiKind::Rest,
        stage,
        cors: None,
        throttle,
        routes,
        mocks,
        gateway_responses: gateway_responses(template, resolver, id)?,
    })
}

/// A method's `RequestParameters` marked required (`true`).
fn required_parameters(parameters: &Value) -> Vec<RequiredParameter> {
    parameters
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, required)| required.as_bool() == Some(true))
        .filter_map(|(expression, _)| RequiredParameter::parse(expression))
        .collect()
}

/// The REST API's gateway responses. A header's value is static when it is
/// quoted (`'value'`, after `Fn::Sub` and the like are resolved); one
/// mapped from the request (`method.request.header.Origin`) is not applied.
fn gateway_responses(
    template: &Value,
    resolver: &Resolver<'_>,
    api: &str,
) -> Found<Vec<GatewayResponse>> {
    let mut out = Vec::new();
    for (id, props) in parts_of(
        template,
        "AWS::ApiGateway::GatewayResponse",
        "RestApiId",
        api,
    ) {
        let mut response = GatewayResponse {
            response_type: props["ResponseType"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            status: props["StatusCode"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| {
                    props["StatusCode"]
                        .as_u64()
                        .and_then(|n| u16::try_from(n).ok())
                }),
            headers: Vec::new(),
            not_applied: Vec::new(),
        };
        for (name, value) in props["ResponseParameters"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let value = resolver
                .string(value)
                .map_err(|e| (format!("{id}.ResponseParameters.{name}"), e))?;
            let header = name.strip_prefix("gatewayresponse.header.");
            let literal = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''));
            match (header, literal) {
                (Some(header), Some(literal)) => response
                    .headers
                    .push((header.to_string(), literal.to_string())),
                (Some(_), None) => response
                    .not_applied
                    .push(format!("{name}, mapped from {value}")),
                (None, _) => response.not_applied.push(name.clone()),
            }
        }
        if props["ResponseTemplates"]
            .as_object()
            .is_some_and(|t| !t.is_empty())
        {
            response.not_applied.push("ResponseTemplates".into());
        }
        out.push(response);
    }
    Ok(out)
}

/// The issuer of tokens from the user pool with this ARN.
fn pool_issuer(arn: &str) -> Option<String> {
    // arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID
    let mut parts = arn.splitn(6, ':');
    let region = parts.nth(3)?;
    let pool = parts.nth(1)?.strip_prefix("userpool/")?;
    Some(format!("https://cognito-idp.{region}.amazonaws.com/{pool}"))
}

/// Each `AWS::ApiGateway::Resource` of the API with its full path.
fn resource_paths(template: &Value, api: &str) -> BTreeMap<String, String> {
    let parents: BTreeMap<&str, (Option<String>, &str)> =
        parts_of(template, "AWS::ApiGateway::Resource", "RestApiId", api)
            .map(|(id, props)| {
                // The root is named by `Fn::GetAtt [Api, RootResourceId]`.
                let parent = referenced_id(&props["ParentId"]).filter(|p| p != api);
                (id, (parent, props["PathPart"].as_str().unwrap_or_default()))
            })
            .collect();
    let mut paths = BTreeMap::new();
    for id in parents.keys() {
        let mut segments = Vec::new();
        let mut at = Some(id.to_string());
        // A parent chain longer than the resources is a cycle: stop.
        for _ in 0..=parents.len() {
            let Some(current) = at.take() else { break };
            let Some((parent, part)) = parents.get(current.as_str()) else {
                break;
            };
            segments.push(*part);
            at = parent.clone();
        }
        segments.reverse();
        paths.insert(id.to_string(), format!("/{}", segments.join("/")));
    }
    paths
}

fn mock_route(key: RouteKey, integration: &Value) -> MockRoute {
    let answer = integration.pointer("/IntegrationResponses/0");
    let status = answer
        .and_then(|a| a["StatusCode"].as_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let headers = answer
        .and_then(|a| a["ResponseParameters"].as_object())
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| {
            let header = name.strip_prefix("method.response.header.")?;
            // Static values are quoted: `'GET,POST'`.
            let value = value.as_str()?.strip_prefix('\'')?.strip_suffix('\'')?;
            Some((header.to_string(), value.to_string()))
        })
        .collect();
    MockRoute {
        key,
        status,
        headers,
    }
}
