//! APIs (`apis:`): an HTTP API (API Gateway v2, payload 2.0) or a REST API
//! (payload 1.0), with its stage, access log group, authorizers,
//! integrations, and one route or method per declared route.

use super::{Attribute, Kind};
use crate::model::{ApiKind, StackDef};

pub const API: Kind = Kind {
    section: "apis",
    noun: "API",
    logical_suffix: "Api",
    template: ("http_api", include_str!("../../templates/http_api.yaml")),
    part_templates: &[
        (
            "http_api_route",
            include_str!("../../templates/http_api_route.yaml"),
        ),
        ("rest_api", include_str!("../../templates/rest_api.yaml")),
        (
            "rest_api_method",
            include_str!("../../templates/rest_api_method.yaml"),
        ),
        (
            "rest_api_cors",
            include_str!("../../templates/rest_api_cors.yaml"),
        ),
    ],
    emits: &[
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Authorizer",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::RequestValidator",
        "AWS::ApiGateway::Model",
        "AWS::ApiGateway::Authorizer",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::GatewayResponse",
        "AWS::Logs::LogGroup",
        "AWS::Lambda::Permission",
    ],
    stateful: false,
    attributes: &[("url", Attribute::FromEntry(url)), ("id", Attribute::Ref)],
    // API Gateway identifies an API by its id; names are labels that need
    // not be unique, and the stack file cannot set them.
    physical_name: None,
    names: |def| def.apis.keys().collect(),
};

/// The invoke URL of API `name`: an HTTP API serves its `$default` stage at
/// the root, a REST API its stage under the stage's name.
fn url(def: &StackDef, env: &str, name: &str) -> String {
    let id = API.logical_id(name);
    let root = format!("https://${{{id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}");
    match def.apis.get(name).map_or(ApiKind::Http, |api| api.kind) {
        ApiKind::Http => root,
        ApiKind::Rest => format!("{root}/{}", rest_stage_name(def, env, name)),
    }
}

/// The stage of REST API `name`: the one it sets, else the environment's
/// name in the characters a stage name allows.
pub fn rest_stage_name(def: &StackDef, env: &str, name: &str) -> String {
    def.apis
        .get(name)
        .and_then(|api| api.stage_name.clone())
        .unwrap_or_else(|| env.replace('-', "_"))
}
