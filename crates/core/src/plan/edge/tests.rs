use crate::load::StackSource;
use crate::pipeline::{render_environment, Outcome};
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};
use crate::source::SourceFile;
use serde_json::{json, Value};

/// A REST API routing `route` to a function, with `cors` (YAML) if any.
fn template(route: &str, cors: Option<&str>) -> Value {
    let cors = cors.map(|c| format!("    cors: {c}\n")).unwrap_or_default();
    let text = format!(
        "name: edge
functions:
  api:
    crate: api-handler
apis:
  shop:
    type: rest
{cors}    routes:
      \"{route}\": {{function: api, public: true}}
"
    );
    let file = SourceFile {
        name: "edge.yaml".into(),
        text,
    };
    let source = StackSource::parse(file).map_err(|(_, d)| d).unwrap();
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    match render_environment(&source, "prod", &renderer, &CodeLocations::default()).unwrap() {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{d:#?}"),
    }
}

fn of_type<'t>(template: &'t Value, resource_type: &str) -> Vec<(&'t String, &'t Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == resource_type)
        .collect()
}

#[test]
fn a_rest_api_with_cors_adds_cors_headers_to_api_gateways_own_answers() {
    let t = template(
        "GET /items",
        Some(
            r#"{allow_origins: ["https://shop.example.com"], allow_headers: [Content-Type, Authorization, X-Trace]}"#,
        ),
    );
    let params = json!({
        "gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example.com'",
        "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,Authorization,X-Trace'",
        "gatewayresponse.header.Vary": "'Origin'"
    });
    for (id, response_type) in [
        ("ShopApiGatewayResponse4XX", "DEFAULT_4XX"),
        ("ShopApiGatewayResponse5XX", "DEFAULT_5XX"),
    ] {
        assert_eq!(
            t["Resources"][id],
            json!({
                "Type": "AWS::ApiGateway::GatewayResponse",
                "Properties": {
                    "RestApiId": {"Ref": "ShopApi"},
                    "ResponseType": response_type,
                    "ResponseParameters": params
                }
            }),
            "{id}"
        );
    }
    // The preflight answers with the same origin literal.
    let (_, options) = of_type(&t, "AWS::ApiGateway::Method")
        .into_iter()
        .find(|(_, m)| m["Properties"]["HttpMethod"] == "OPTIONS")
        .unwrap();
    assert_eq!(
        options["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
            ["method.response.header.Access-Control-Allow-Origin"],
        params["gatewayresponse.header.Access-Control-Allow-Origin"]
    );
    // They take effect with the deployment.
    let (_, deployment) = of_type(&t, "AWS::ApiGateway::Deployment").remove(0);
    let depends_on = deployment["DependsOn"].as_array().unwrap();
    assert!(depends_on.contains(&json!("ShopApiGatewayResponse4XX")));
    assert!(depends_on.contains(&json!("ShopApiGatewayResponse5XX")));
}

#[test]
fn without_cors_there_are_no_gateway_responses_and_a_wildcard_origin_does_not_vary() {
    let t = template("GET /items", None);
    assert!(of_type(&t, "AWS::ApiGateway::GatewayResponse").is_empty());
    let t = template("GET /items", Some(r#"{allow_origins: ["*"]}"#));
    let responses = of_type(&t, "AWS::ApiGateway::GatewayResponse");
    assert_eq!(responses.len(), 2);
    assert_eq!(
        responses[0].1["Properties"]["ResponseParameters"],
        json!({
            "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
            "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,Authorization'"
        })
    );
}

#[test]
fn the_deployment_is_remade_when_a_gateway_response_changes() {
    // `ANY` answers its own preflight: no OPTIONS method, so only the
    // gateway responses carry the origin.
    let deployment = |origin: &str| {
        let t = template(
            "ANY /items",
            Some(&format!(r#"{{allow_origins: ["{origin}"]}}"#)),
        );
        assert!(of_type(&t, "AWS::ApiGateway::Method")
            .iter()
            .all(|(_, m)| m["Properties"]["HttpMethod"] != "OPTIONS"));
        of_type(&t, "AWS::ApiGateway::Deployment")[0].0.clone()
    };
    assert_ne!(
        deployment("https://a.example.com"),
        deployment("https://b.example.com")
    );
}
