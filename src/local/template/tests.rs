use super::*;
use crate::load::StackSource;
use crate::pipeline::{render_environment, Outcome};
use crate::render::{Renderer, TemplateSet};
use serde_json::json;

fn rendered(dir: &str, stack: &str) -> Value {
    let name = format!("{dir}/{stack}.yaml");
    let text = std::fs::read_to_string(&name).expect("stack file");
    let source = StackSource::parse(crate::source::SourceFile { name, text })
        .unwrap_or_else(|(_, d)| panic!("{stack}: {d:?}"));
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates");
    match render_environment(&source, "dev", &renderer, &Default::default()).expect("renders") {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{stack} is invalid: {d:?}"),
    }
}

/// Physical ids as the emulator deploys guitar-collection: everything but
/// the types it skips (user pool and client, HTTP API, distribution).
fn guitar_deployment(template: &Value) -> Deployed {
    let skipped = [
        "AWS::Cognito::UserPool",
        "AWS::Cognito::UserPoolClient",
        "AWS::CloudFront::Distribution",
    ];
    let physical_ids = resources_of_all(template)
        .filter(|(_, t)| !skipped.contains(t) && !t.starts_with("AWS::ApiGatewayV2"))
        .map(|(id, _)| (id.to_string(), format!("phys-{id}")))
        .collect();
    Deployed {
        stack_name: "guitar-collection-dev".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        physical_ids,
        ..Default::default()
    }
}

fn resources_of_all(template: &Value) -> impl Iterator<Item = (&str, &str)> {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(id, r)| (id.as_str(), r["Type"].as_str().unwrap_or_default()))
}

#[test]
fn a_resource_the_deployment_lacks_is_named_with_the_resolve_argument_that_supplies_it() {
    let template = rendered("stacks", "guitar-collection");
    let deployed = guitar_deployment(&template);
    let resolver = Resolver::new(&template, &deployed);
    let (place, missing) =
        functions(&template, &resolver).expect_err("the user pool is not deployed");
    assert!(place.contains("COGNITO_USER_POOL_ID"), "{place}");
    assert_eq!(
        missing,
        Unresolved::NotDeployed {
            logical_id: "UserPool".into(),
            resource_type: "AWS::Cognito::UserPool".into()
        }
    );
    assert_eq!(
        missing.resolve_hint().as_deref(),
        Some("UserPool=PHYSICAL_ID")
    );
}

#[test]
fn functions_get_their_template_environment_resolved_against_the_deployment() {
    let template = rendered("stacks", "guitar-collection");
    let mut deployed = guitar_deployment(&template);
    for (k, v) in [
        ("UserPool", "eu-west-1_pool"),
        ("WebUserPoolClient", "client123"),
        ("SiteDistribution.DomainName", "d111.cloudfront.net"),
    ] {
        deployed.overrides.insert(k.into(), v.into());
    }
    let resolver = Resolver::new(&template, &deployed);
    let functions = functions(&template, &resolver).expect("resolves");
    let user = functions
        .iter()
        .find(|f| f.logical_id == "UserFunction")
        .expect("user");
    assert_eq!(user.name, "guitar-collection-dev-user");
    assert_eq!(
        user.arn,
        "arn:aws:lambda:eu-west-1:123456789012:function:phys-UserFunction"
    );
    assert_eq!(
        user.role_arn,
        "arn:aws:iam::123456789012:role/phys-UserFunctionRole"
    );
    assert_eq!((user.memory_mb, user.timeout_s), (256, 5));
    assert_eq!(user.log_group, "phys-UserFunctionLogGroup");
    let env: BTreeMap<_, _> = user.environment.iter().cloned().collect();
    assert_eq!(env["APP_ENV"], "dev");
    assert_eq!(env["COGNITO_USER_POOL_ID"], "eu-west-1_pool");
    assert_eq!(env["COGNITO_CLIENT_ID"], "client123");
    assert_eq!(env["DYNAMODB_TABLE_USERS"], "phys-UsersTable");
    let images = functions
        .iter()
        .find(|f| f.logical_id == "ImagesFunction")
        .expect("images");
    let env: BTreeMap<_, _> = images.environment.iter().cloned().collect();
    assert_eq!(env["CLOUDFRONT_DOMAIN"], "d111.cloudfront.net");
}

#[test]
fn a_deployed_output_supplies_an_attribute_no_arn_rule_can_compute() {
    let template = json!({
        "Resources": {"Site": {"Type": "AWS::CloudFront::Distribution"}},
        "Outputs": {"SiteDomain": {"Value": {"Fn::GetAtt": ["Site", "DomainName"]}}}
    });
    let mut deployed = Deployed {
        physical_ids: [("Site".to_string(), "E1".to_string())].into(),
        ..Default::default()
    };
    let value = json!({"Fn::Sub": "https://${Site.DomainName}/x"});
    let missing = Resolver::new(&template, &deployed)
        .string(&value)
        .expect_err("unknown");
    assert_eq!(
        missing.resolve_hint().as_deref(),
        Some("Site.DomainName=VALUE")
    );
    deployed
        .outputs
        .insert("SiteDomain".into(), "d9.cloudfront.net".into());
    let resolver = Resolver::new(&template, &deployed);
    assert_eq!(
        resolver.string(&value).expect("known"),
        "https://d9.cloudfront.net/x"
    );
}

#[test]
fn sub_join_and_pseudo_parameters_evaluate_as_cloudformation_does() {
    let template = json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table"}}});
    let deployed = Deployed {
        stack_name: "s".into(),
        region: "cn-north-1".into(),
        account: "1".into(),
        physical_ids: [("T".to_string(), "tbl".to_string())].into(),
        ..Default::default()
    };
    let r = Resolver::new(&template, &deployed);
    let sub = json!({"Fn::Sub": ["${T.Arn}/index/*|${X}|${!Literal}|${AWS::URLSuffix}", {"X": {"Ref": "AWS::StackName"}}]});
    assert_eq!(
        r.string(&sub).expect("resolves"),
        "arn:aws-cn:dynamodb:cn-north-1:1:table/tbl/index/*|s|${Literal}|amazonaws.com.cn"
    );
    let join = json!({"Fn::Join": [",", ["a", {"Ref": "T"}]]});
    assert_eq!(r.string(&join).expect("resolves"), "a,tbl");
    assert!(matches!(
        r.string(&json!({"Fn::If": ["c", "a", "b"]})),
        Err(Unresolved::Unsupported(_))
    ));
}

#[test]
fn http_api_routes_point_at_their_integrations_functions_behind_the_jwt_authorizer() {
    let template = rendered("stacks", "guitar-collection");
    let mut deployed = guitar_deployment(&template);
    deployed
        .overrides
        .insert("UserPool".into(), "eu-west-1_pool".into());
    deployed
        .overrides
        .insert("WebUserPoolClient".into(), "client123".into());
    deployed.overrides.insert(
        "SiteDistribution.DomainName".into(),
        "d1.cloudfront.net".into(),
    );
    let resolver = Resolver::new(&template, &deployed);
    let apis = apis(&template, &resolver).expect("reads");
    let [api] = apis.as_slice() else {
        panic!("one API: {apis:?}")
    };
    assert_eq!(
        (api.kind, api.stage.as_str(), api.id.as_str()),
        (ApiKind::Http, "$default", "mainapi")
    );
    assert_eq!(api.routes.len(), 17);
    let route = |key: &str| {
        api.routes
            .iter()
            .find(|r| r.key.as_str() == key)
            .expect(key)
    };
    assert_eq!(route("GET /guitars/{id}").function, "GuitarsFunction");
    assert_eq!(route("POST /auth/login").auth, Auth::None);
    assert_eq!(
        route("PUT /user/name").auth,
        Auth::Jwt {
            name: "cognito".into(),
            issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool".into(),
            audience: vec!["client123".into()],
            identity_source: "$request.header.Authorization".into(),
        }
    );
    let cors = api.cors.as_ref().expect("cors");
    assert_eq!(
        cors.allow_origins,
        ["https://d1.cloudfront.net", "http://localhost:5173"]
    );
    assert_eq!(cors.max_age, Some(600));
    assert_eq!(
        api.throttle,
        Some(Throttle {
            rate_per_second: 10000.0,
            burst: 5000
        })
    );
}

#[test]
fn rest_api_methods_get_full_resource_paths_cognito_issuers_models_and_mock_preflights() {
    let template = rendered("stacks", "fleet-console");
    let physical_ids = resources_of_all(&template)
        .map(|(id, _)| (id.to_string(), format!("phys-{id}")))
        .chain([("UserPool".to_string(), "eu-west-1_fleet".to_string())])
        .collect();
    let deployed = Deployed {
        region: "eu-west-1".into(),
        account: "1".into(),
        physical_ids,
        ..Default::default()
    };
    let resolver = Resolver::new(&template, &deployed);
    let apis = apis(&template, &resolver).expect("reads");
    let [api] = apis.as_slice() else {
        panic!("one API")
    };
    assert_eq!(
        (api.kind, api.stage.as_str(), api.id.as_str()),
        (ApiKind::Rest, "dev", "phys-ConsoleApi")
    );
    let route = |key: &str| {
        api.routes
            .iter()
            .find(|r| r.key.as_str() == key)
            .unwrap_or_else(|| {
                panic!(
                    "{key} in {:?}",
                    api.routes
                        .iter()
                        .map(|r| r.key.as_str())
                        .collect::<Vec<_>>()
                )
            })
    };
    assert_eq!(
        route("POST /instances/{instanceId}/reboot").function,
        "InstancesRebootFunction"
    );
    assert_eq!(
        route("GET /audit").auth,
        Auth::CognitoUserPools {
            name: "cognito".into(),
            issuers: vec!["https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_fleet".into()]
        }
    );
    let refresh = route("POST /auth/refresh");
    assert_eq!(refresh.auth, Auth::None);
    assert_eq!(
        refresh.body_schema.as_ref().expect("model")["required"],
        json!(["refreshToken"])
    );
    assert!(
        refresh.required_parameters.is_empty(),
        "its validator checks the body only"
    );
    assert_eq!(
        route("GET /instances/{instanceId}/metrics").required_parameters,
        [
            crate::local::template::RequiredParameter::parse("method.request.querystring.period")
                .unwrap()
        ]
    );
    let preflight = api
        .mocks
        .iter()
        .find(|m| m.key.as_str() == "OPTIONS /audit")
        .expect("preflight");
    assert_eq!(preflight.status, 204);
    assert!(preflight
        .headers
        .contains(&("Access-Control-Max-Age".into(), "600".into())));
    assert_eq!(
        api.throttle,
        Some(Throttle {
            rate_per_second: 50.0,
            burst: 100
        })
    );
}

#[test]
fn a_rest_apis_gateway_responses_are_read_with_their_static_headers_and_what_is_not_applied() {
    let mut template = rendered("stacks", "fleet-console");
    // A `--templates` override may map a header from the request or
    // give a body template: those are noted, not applied.
    template["Resources"]["ConsoleApiGatewayResponseUnauthorized"] = json!({
        "Type": "AWS::ApiGateway::GatewayResponse",
        "Properties": {
            "RestApiId": {"Ref": "ConsoleApi"},
            "ResponseType": "UNAUTHORIZED",
            "StatusCode": "401",
            "ResponseParameters": {
                "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.Origin",
                "gatewayresponse.header.X-Site": {"Fn::Sub": "'${AWS::Region}'"}
            },
            "ResponseTemplates": {"application/json": "{\"message\": $context.error.messageString}"}
        }
    });
    let deployed = Deployed {
        region: "eu-west-1".into(),
        account: "1".into(),
        physical_ids: [("UserPool".to_string(), "eu-west-1_fleet".to_string())].into(),
        ..Default::default()
    };
    let resolver = Resolver::new(&template, &deployed);
    let apis = apis(&template, &resolver).expect("reads");
    let responses = &apis[0].gateway_responses;
    let by_type = |t: &str| responses.iter().find(|r| r.response_type == t).unwrap();
    let default_4xx = by_type("DEFAULT_4XX");
    assert_eq!(default_4xx.status, None);
    assert_eq!(
        default_4xx.headers,
        vec![
            (
                "Access-Control-Allow-Origin".to_string(),
                "http://localhost:3000".to_string()
            ),
            (
                "Access-Control-Allow-Headers".to_string(),
                "Content-Type,Authorization".to_string()
            ),
            ("Vary".to_string(), "Origin".to_string()),
        ]
    );
    assert!(default_4xx.not_applied.is_empty());
    assert_eq!(by_type("DEFAULT_5XX").headers, default_4xx.headers);
    let unauthorized = by_type("UNAUTHORIZED");
    assert_eq!(unauthorized.status, Some(401));
    assert_eq!(
        unauthorized.headers,
        vec![("X-Site".to_string(), "eu-west-1".to_string())]
    );
    assert_eq!(
        unauthorized.not_applied,
        vec![
            "gatewayresponse.header.Access-Control-Allow-Origin, mapped from method.request.header.Origin".to_string(),
            "ResponseTemplates".to_string()
        ]
    );
}

#[test]
fn rest_token_authorizers_name_their_function_and_cache() {
    let template = rendered("examples", "rest-lambda-authorizer");
    let deployed = Deployed {
        region: "eu-west-1".into(),
        physical_ids: resources_of_all(&template)
            .map(|(id, _)| (id.to_string(), id.to_string()))
            .collect(),
        ..Default::default()
    };
    let resolver = Resolver::new(&template, &deployed);
    let apis = apis(&template, &resolver).expect("reads");
    let auth = &apis[0]
        .routes
        .iter()
        .find(|r| r.auth != Auth::None)
        .expect("guarded")
        .auth;
    assert_eq!(
        auth,
        &Auth::Function {
            name: "token".into(),
            function: "AuthorizerFunction".into(),
            identity_sources: vec!["method.request.header.Authorization".into()],
            cache_seconds: 300
        }
    );
}

fn render_text(text: &str, env: &str) -> Outcome {
    let source = StackSource::parse(crate::source::SourceFile {
        name: "stacks/app.yaml".into(),
        text: text.into(),
    })
    .unwrap_or_else(|(_, d)| panic!("{d:?}"));
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates");
    render_environment(&source, env, &renderer, &Default::default()).expect("renders")
}

const LOCAL_STACK: &str = "name: app
functions:
  api:
    zip: {path: api.zip}
environments:
  dev:
    local_principals: [\"arn:aws:iam::123456789012:role/developers\"]
  prod: {}
";

#[test]
fn local_principals_may_assume_function_roles_only_for_stackctl_local_sessions() {
    let Outcome::Rendered { template, .. } = render_text(LOCAL_STACK, "dev") else {
        panic!("dev renders");
    };
    let trust = &template["Resources"]["ApiFunctionRole"]["Properties"]["AssumeRolePolicyDocument"];
    assert_eq!(
        trust["Statement"][0]["Principal"],
        json!({"Service": "lambda.amazonaws.com"})
    );
    assert_eq!(
        trust["Statement"][1],
        json!({"Sid": "StackctlLocal", "Effect": "Allow",
               "Principal": {"AWS": ["arn:aws:iam::123456789012:role/developers"]},
               "Action": "sts:AssumeRole",
               "Condition": {"StringLike": {"sts:RoleSessionName": "stackctl-local-*"}}})
    );
    let Outcome::Rendered { template, .. } = render_text(LOCAL_STACK, "prod") else {
        panic!("prod without the principals renders");
    };
    let trust = &template["Resources"]["ApiFunctionRole"]["Properties"]["AssumeRolePolicyDocument"];
    assert_eq!(
        trust["Statement"].as_array().unwrap().len(),
        1,
        "Lambda only"
    );
}

#[test]
fn local_principals_are_refused_in_prod_and_must_be_role_or_user_arns() {
    let in_prod = LOCAL_STACK.replace(
        "  prod: {}\n",
        "  prod:\n    local_principals: [\"arn:aws:iam::123456789012:role/developers\"]\n",
    );
    let Outcome::Invalid(found) = render_text(&in_prod, "prod") else {
        panic!("prod with local principals must be refused");
    };
    assert!(
        format!("{found:?}").contains("run prod functions' roles"),
        "{found:?}"
    );
    let bad = LOCAL_STACK.replace("role/developers", "group/developers");
    let Outcome::Invalid(found) = render_text(&bad, "dev") else {
        panic!("a group ARN must be refused");
    };
    assert!(
        format!("{found:?}").contains("not an IAM role or user ARN"),
        "{found:?}"
    );
}

#[test]
fn an_attribute_of_a_resource_the_deployment_lacks_is_asked_for_as_the_attribute() {
    // The emulator skips Amplify apps: their `DefaultDomain` cannot be
    // computed from an id, so the id alone would not help.
    let template = json!({"Resources": {
        "FrontendApp": {"Type": "AWS::Amplify::App"},
        "Table": {"Type": "AWS::DynamoDB::Table"}
    }});
    let deployed = Deployed::default();
    let resolver = Resolver::new(&template, &deployed);
    let domain = json!({"Fn::Sub": "https://main.${FrontendApp.DefaultDomain}"});
    let missing = resolver.string(&domain).expect_err("not deployed");
    assert_eq!(
        missing.resolve_hint().as_deref(),
        Some("FrontendApp.DefaultDomain=VALUE")
    );
    // A table's ARN is computed from its name: the name is what is missing.
    let arn = json!({"Fn::GetAtt": ["Table", "Arn"]});
    let missing = resolver.string(&arn).expect_err("not deployed");
    assert_eq!(missing.resolve_hint().as_deref(), Some("Table=PHYSICAL_ID"));
}

#[test]
fn a_web_acls_arn_and_id_come_from_its_name_id_and_scope() {
    let template = json!({"Resources": {
        "Acl": {"Type": "AWS::WAFv2::WebACL"},
        "EdgeAcl": {"Type": "AWS::WAFv2::WebACL"}
    }});
    let deployed = Deployed {
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        physical_ids: [
            ("Acl".to_string(), "shop-acl|a1b2|REGIONAL".to_string()),
            (
                "EdgeAcl".to_string(),
                "shop-edge|c3d4|CLOUDFRONT".to_string(),
            ),
        ]
        .into_iter()
        .collect(),
        ..Deployed::default()
    };
    let resolver = Resolver::new(&template, &deployed);
    let get = |id: &str, attribute: &str| {
        resolver
            .string(&json!({"Fn::GetAtt": [id, attribute]}))
            .unwrap()
    };
    assert_eq!(
        get("Acl", "Arn"),
        "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-acl/a1b2"
    );
    assert_eq!(
        get("EdgeAcl", "Arn"),
        "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop-edge/c3d4"
    );
    assert_eq!(get("Acl", "Id"), "a1b2");
}

#[test]
fn an_external_arn_from_an_export_or_ssm_is_taken_from_resolve() {
    let template = rendered("examples", "external-resources");
    let env = &template["Resources"]["NightlyFunction"]["Properties"]["Environment"]["Variables"];
    let mut deployed = Deployed {
        stack_name: "reports-dev".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        ..Default::default()
    };
    let resolver = Resolver::new(&template, &deployed);
    assert!(resolver.string(&env["FINANCE_TOPIC_ARN"]).is_err());
    assert!(resolver.string(&env["MAIL_KEY_SECRET_ARN"]).is_err());
    let topic = "arn:aws:sns:eu-west-1:444455556666:finance-reports";
    let secret = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:mail-AbCdEf";
    deployed
        .overrides
        .insert("ExternalFinanceArn".into(), topic.into());
    deployed
        .overrides
        .insert("ExternalMailKeyArn".into(), secret.into());
    let resolver = Resolver::new(&template, &deployed);
    assert_eq!(resolver.string(&env["FINANCE_TOPIC_ARN"]).unwrap(), topic);
    assert_eq!(
        resolver.string(&env["MAIL_KEY_SECRET_ARN"]).unwrap(),
        secret
    );
    assert_eq!(
        resolver.string(&env["ORDERS_TABLE"]).unwrap(),
        "orders-prod"
    );
    assert_eq!(
        resolver.string(&env["ARCHIVE_BUCKET"]).unwrap(),
        "shop-archive-eu"
    );
}
