//! What `local` serves, read from the stack's rendered template: its
//! functions (code, memory, timeout, role, environment) and its APIs
//! (routes, integrations, authorizers, CORS, throttling, a REST API's
//! gateway responses), with every
//! intrinsic function resolved against the deployed stack.
//!
//! Reading the template rather than the stack file is the point: a route
//! key, an integration pointing at the wrong function or an authorizer with
//! the wrong audience is served exactly as CloudFormation would create it.
//! Nothing here does I/O; the deployed stack's facts come in as
//! [`Deployed`].

mod apis;

pub use apis::apis;

use super::routing::RouteKey;
use serde_json::Value;
use std::collections::BTreeMap;

/// What is known of the deployed stack, and what the user supplied for the
/// resources the deployment does not hold.
#[derive(Debug, Clone, Default)]
pub struct Deployed {
    pub stack_name: String,
    pub region: String,
    pub account: String,
    /// Physical ids by logical id (ListStackResources).
    pub physical_ids: BTreeMap<String, String>,
    /// The stack's outputs by output name.
    pub outputs: BTreeMap<String, String>,
    /// `--resolve` values: `Logical` for a `Ref`, `Logical.Attribute` for a
    /// `Fn::GetAtt`. They win over everything else.
    pub overrides: BTreeMap<String, String>,
}

impl Deployed {
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }
}

/// A value of the template that cannot be known from the deployed stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    #[error("the deployed stack holds no `{logical_id}` ({resource_type})")]
    NotDeployed {
        logical_id: String,
        resource_type: String,
    },
    #[error(
        "`{logical_id}.{attribute}` ({resource_type}) is not known without asking its service"
    )]
    Attribute {
        logical_id: String,
        attribute: String,
        resource_type: String,
    },
    #[error("the template uses {0}, which `local` does not evaluate")]
    Unsupported(String),
}

impl Unresolved {
    /// The `--resolve` argument that would supply the missing value.
    pub fn resolve_hint(&self) -> Option<String> {
        match self {
            Unresolved::NotDeployed { logical_id, .. } => Some(format!("{logical_id}=PHYSICAL_ID")),
            Unresolved::Attribute {
                logical_id,
                attribute,
                ..
            } => Some(format!("{logical_id}.{attribute}=VALUE")),
            Unresolved::Unsupported(_) => None,
        }
    }
}

/// Evaluates intrinsic functions of one template against a deployment.
pub struct Resolver<'a> {
    resources: &'a serde_json::Map<String, Value>,
    outputs: BTreeMap<String, String>,
    deployed: &'a Deployed,
}

impl<'a> Resolver<'a> {
    pub fn new(template: &'a Value, deployed: &'a Deployed) -> Resolver<'a> {
        static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> =
            std::sync::OnceLock::new();
        let resources = template
            .get("Resources")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new));
        // An output whose value is exactly a `Ref` or `Fn::GetAtt` tells that
        // value once the stack is deployed (CloudFront domains, say).
        let mut outputs = BTreeMap::new();
        if let Some(declared) = template.get("Outputs").and_then(Value::as_object) {
            for (name, output) in declared {
                let (Some(found), Some(value)) = (
                    deployed.outputs.get(name),
                    output.get("Value").and_then(reference_key),
                ) else {
                    continue;
                };
                outputs.insert(value, found.clone());
            }
        }
        Resolver {
            resources,
            outputs,
            deployed,
        }
    }

    /// The ARN of the schedule `name` in `group`.
    pub fn schedule_arn(&self, group: &str, name: &str) -> String {
        let d = self.deployed;
        format!(
            "arn:{}:scheduler:{}:{}:schedule/{group}/{name}",
            d.partition(),
            d.region,
            d.account
        )
    }

    pub fn resource_type(&self, logical_id: &str) -> &str {
        self.resources
            .get(logical_id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .unwrap_or("unknown type")
    }

    /// The value as a string.
    pub fn string(&self, value: &Value) -> Result<String, Unresolved> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Object(map) if map.len() == 1 => {
                let (name, argument) = map.iter().next().expect("one entry");
                self.function(name, argument)
            }
            other => Err(Unresolved::Unsupported(format!("the value {other}"))),
        }
    }

    /// A list of strings (`["a", {"Ref": …}]`).
    pub fn strings(&self, value: &Value) -> Result<Vec<String>, Unresolved> {
        match value {
            Value::Array(items) => items.iter().map(|v| self.string(v)).collect(),
            other => Ok(vec![self.string(other)?]),
        }
    }

    fn function(&self, name: &str, argument: &Value) -> Result<String, Unresolved> {
        match (name, argument) {
            ("Ref", Value::String(target)) => self.reference(target),
            ("Fn::GetAtt", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(id), Value::String(attribute)] => self.attribute(id, attribute),
                _ => Err(Unresolved::Unsupported(format!("Fn::GetAtt {argument}"))),
            },
            ("Fn::GetAtt", Value::String(dotted)) => match dotted.split_once('.') {
                Some((id, attribute)) => self.attribute(id, attribute),
                None => Err(Unresolved::Unsupported(format!("Fn::GetAtt {dotted}"))),
            },
            ("Fn::Sub", Value::String(text)) => self.substitute(text, &BTreeMap::new()),
            ("Fn::Sub", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(text), Value::Object(vars)] => {
                    // A variable given with `--resolve` (an external
                    // resource's imported ARN, say) need not be resolved.
                    let vars = vars
                        .iter()
                        .map(|(k, v)| match self.deployed.overrides.get(k) {
                            Some(given) => Ok((k.clone(), given.clone())),
                            None => Ok((k.clone(), self.string(v)?)),
                        })
                        .collect::<Result<BTreeMap<_, _>, Unresolved>>()?;
                    self.substitute(text, &vars)
                }
                _ => Err(Unresolved::Unsupported(format!("Fn::Sub {argument}"))),
            },
            ("Fn::Join", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(separator), list] => Ok(self.strings(list)?.join(separator)),
                _ => Err(Unresolved::Unsupported(format!("Fn::Join {argument}"))),
            },
            _ => Err(Unresolved::Unsupported(format!("{name} {argument}"))),
        }
    }

    fn substitute(
        &self,
        text: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<String, Unresolved> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            // `${!Literal}` writes `${Literal}`.
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let name = &after[..end];
            let value = match vars.get(name) {
                Some(v) => v.clone(),
                None => match name.split_once('.') {
                    Some((id, attribute)) if !name.starts_with("AWS::") => {
                        self.attribute(id, attribute)?
                    }
                    _ => self.reference(name)?,
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&self, target: &str) -> Result<String, Unresolved> {
        let d = self.deployed;
        match target {
            "AWS::Region" => return Ok(d.region.clone()),
            "AWS::AccountId" => return Ok(d.account.clone()),
            "AWS::StackName" => return Ok(d.stack_name.clone()),
            "AWS::Partition" => return Ok(d.partition().to_string()),
            "AWS::URLSuffix" => return Ok(d.url_suffix().to_string()),
            _ => {}
        }
        if let Some(v) = d.overrides.get(target) {
            return Ok(v.clone());
        }
        if let Some(v) = d.physical_ids.get(target) {
            return Ok(v.clone());
        }
        if let Some(v) = self.outputs.get(target) {
            return Ok(v.clone());
        }
        Err(Unresolved::NotDeployed {
            logical_id: target.to_string(),
            resource_type: self.resource_type(target).to_string(),
        })
    }

    fn attribute(&self, id: &str, attribute: &str) -> Result<String, Unresolved> {
        let key = format!("{id}.{attribute}");
        if let Some(v) = self.deployed.overrides.get(&key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.outputs.get(&key) {
            return Ok(v.clone());
        }
        let resource_type = self.resource_type(id).to_string();
        let unknown = || Unresolved::Attribute {
            logical_id: id.to_string(),
            attribute: attribute.to_string(),
            resource_type: resource_type.clone(),
        };
        // Without the resource, an attribute no rule computes from its id
        // is what to give with `--resolve`, not the id.
        let computable = derived_attribute(&resource_type, attribute, String::new(), self.deployed);
        let physical = match self.reference(id) {
            Err(Unresolved::NotDeployed { .. }) if computable.is_none() => return Err(unknown()),
            other => other?,
        };
        let computed = derived_attribute(&resource_type, attribute, physical, self.deployed);
        computed.ok_or_else(unknown)
    }
}

/// An attribute of a resource computed from its physical id, the way AWS
/// forms it; `None` for attributes only the service knows.
fn derived_attribute(
    resource_type: &str,
    attribute: &str,
    physical: String,
    d: &Deployed,
) -> Option<String> {
    let (p, r, a) = (d.partition(), d.region.as_str(), d.account.as_str());
    match (resource_type, attribute) {
        ("AWS::Lambda::Function", "Arn") => {
            Some(format!("arn:{p}:lambda:{r}:{a}:function:{physical}"))
        }
        ("AWS::DynamoDB::Table", "Arn") => {
            Some(format!("arn:{p}:dynamodb:{r}:{a}:table/{physical}"))
        }
        ("AWS::S3::Bucket", "Arn") => Some(format!("arn:{p}:s3:::{physical}")),
        ("AWS::S3::Bucket", "DomainName") => Some(format!("{physical}.s3.{}", d.url_suffix())),
        ("AWS::S3::Bucket", "RegionalDomainName") => {
            Some(format!("{physical}.s3.{r}.{}", d.url_suffix()))
        }
        ("AWS::IAM::Role", "Arn") => Some(format!("arn:{p}:iam::{a}:role/{physical}")),
        ("AWS::KMS::Key", "Arn") => Some(format!("arn:{p}:kms:{r}:{a}:key/{physical}")),
        ("AWS::KMS::Key", "KeyId") => Some(physical),
        ("AWS::Logs::LogGroup", "Arn") => {
            Some(format!("arn:{p}:logs:{r}:{a}:log-group:{physical}:*"))
        }
        ("AWS::Cognito::UserPool", "Arn") => {
            Some(format!("arn:{p}:cognito-idp:{r}:{a}:userpool/{physical}"))
        }
        ("AWS::Cognito::UserPool", "ProviderURL") => Some(format!(
            "https://cognito-idp.{r}.{}/{physical}",
            d.url_suffix()
        )),
        ("AWS::Cognito::UserPool", "ProviderName") => {
            Some(format!("cognito-idp.{r}.{}/{physical}", d.url_suffix()))
        }
        ("AWS::SNS::Topic", "TopicArn") | ("AWS::SecretsManager::Secret", "Id") => Some(physical),
        ("AWS::SNS::Topic", "TopicName") => physical.rsplit(':').next().map(str::to_string),
        // A queue's `Ref` is its URL, whose last segment is its name.
        ("AWS::SQS::Queue", "Arn") => {
            let name = physical.rsplit('/').next()?;
            Some(format!("arn:{p}:sqs:{r}:{a}:{name}"))
        }
        ("AWS::SQS::Queue", "QueueName") => physical.rsplit('/').next().map(str::to_string),
        ("AWS::Kinesis::Stream", "Arn") => {
            Some(format!("arn:{p}:kinesis:{r}:{a}:stream/{physical}"))
        }
        // An event bus's `Ref` is its name.
        ("AWS::Events::EventBus", "Arn") => {
            Some(format!("arn:{p}:events:{r}:{a}:event-bus/{physical}"))
        }
        ("AWS::Events::EventBus", "Name") => Some(physical),
        ("AWS::ApiGateway::RestApi", "RootResourceId") => Some(String::new()),
        ("AWS::WAFv2::WebACL", "Arn") => web_acl_arn(&physical, d),
        ("AWS::WAFv2::WebACL", "Id") => physical.split('|').nth(1).map(str::to_string),
        _ => None,
    }
}

/// A web ACL's ARN from its `Ref` (`name|id|scope`): a CLOUDFRONT ACL
/// lives in us-east-1 under `global`, a REGIONAL one in its region.
fn web_acl_arn(physical: &str, d: &Deployed) -> Option<String> {
    let mut parts = physical.split('|');
    let (name, id, scope) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, scope) = match scope {
        "CLOUDFRONT" => ("us-east-1", "global"),
        _ => (d.region.as_str(), "regional"),
    };
    Some(format!(
        "arn:{}:wafv2:{region}:{}:{scope}/webacl/{name}/{id}",
        d.partition(),
        d.account
    ))
}

/// `Logical` or `Logical.Attribute` when the value is exactly a `Ref` or a
/// `Fn::GetAtt` (including `Fn::Sub "${X}"`/`"${X.Y}"`, the renderer's form).
fn reference_key(value: &Value) -> Option<String> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (name, argument) = map.iter().next()?;
    match (name.as_str(), argument) {
        ("Ref", Value::String(id)) => Some(id.clone()),
        ("Fn::GetAtt", Value::Array(parts)) => match parts.as_slice() {
            [Value::String(id), Value::String(attribute)] => Some(format!("{id}.{attribute}")),
            _ => None,
        },
        ("Fn::Sub", Value::String(text)) => text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .filter(|inner| !inner.contains(['$', '{', '}']))
            .map(str::to_string),
        _ => None,
    }
}

/// The logical id a `Ref`, `Fn::GetAtt` or single-reference `Fn::Sub`
/// names, without resolving it (`integrations/${X}` → `X`,
/// `…/functions/${F.Arn}/invocations` → `F`).
pub fn referenced_id(value: &Value) -> Option<String> {
    if let Some(key) = reference_key(value) {
        return Some(key.split('.').next().unwrap_or_default().to_string());
    }
    let text = value.get("Fn::Sub")?.as_str()?;
    text.split("${")
        .skip(1)
        .filter_map(|part| part.split('}').next())
        .find(|name| !name.starts_with("AWS::") && !name.starts_with('!'))
        .map(|name| name.split('.').next().unwrap_or_default().to_string())
}

/// One Lambda function as the template declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The deployed function's name (what Lambda reports to the code).
    pub name: String,
    pub arn: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub role_arn: String,
    pub architecture: String,
    /// The package's S3 key: which build artifact runs.
    pub code_key: String,
    pub environment: Vec<(String, String)>,
    pub log_group: String,
    pub reserved_concurrency: Option<u32>,
}

/// Lambda's defaults when a template leaves them out.
const DEFAULT_MEMORY_MB: u32 = 128;
const DEFAULT_TIMEOUT_S: u32 = 3;

/// Every function of the template.
pub fn functions(
    template: &Value,
    resolver: &Resolver<'_>,
) -> Result<Vec<FunctionSpec>, (String, Unresolved)> {
    let mut out = Vec::new();
    for (id, resource) in resources_of(template, "AWS::Lambda::Function") {
        let props = &resource["Properties"];
        let at = |what: &str| format!("{id}.{what}");
        let name = resolver
            .string(&props["FunctionName"])
            .or_else(|_| resolver.reference(id))
            .map_err(|e| (at("FunctionName"), e))?;
        let arn = resolver
            .attribute(id, "Arn")
            .map_err(|e| (id.to_string(), e))?;
        let mut environment = Vec::new();
        if let Some(vars) = props
            .pointer("/Environment/Variables")
            .and_then(Value::as_object)
        {
            for (key, value) in vars {
                let value = resolver
                    .string(value)
                    .map_err(|e| (format!("{id} environment variable {key}"), e))?;
                environment.push((key.clone(), value));
            }
        }
        let log_group = match props.pointer("/LoggingConfig/LogGroup") {
            Some(v) => resolver.string(v).map_err(|e| (at("LoggingConfig"), e))?,
            None => format!("/aws/lambda/{name}"),
        };
        out.push(FunctionSpec {
            logical_id: id.to_string(),
            memory_mb: number(&props["MemorySize"]).unwrap_or(DEFAULT_MEMORY_MB),
            timeout_s: number(&props["Timeout"]).unwrap_or(DEFAULT_TIMEOUT_S),
            role_arn: resolver
                .string(&props["Role"])
                .map_err(|e| (at("Role"), e))?,
            architecture: props
                .pointer("/Architectures/0")
                .and_then(Value::as_str)
                .unwrap_or("x86_64")
                .to_string(),
            code_key: props
                .pointer("/Code/S3Key")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            reserved_concurrency: number(&props["ReservedConcurrentExecutions"]),
            name,
            arn,
            environment,
            log_group,
        });
    }
    Ok(out)
}

fn number(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The template's resources of one type, in template order.
pub fn resources_of<'t>(
    template: &'t Value,
    resource_type: &'t str,
) -> impl Iterator<Item = (&'t str, &'t Value)> + 't {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(move |(_, r)| r.get("Type").and_then(Value::as_str) == Some(resource_type))
        .map(|(id, r)| (id.as_str(), r))
}

/// Whether an API follows HTTP API (payload 2.0) or REST API (payload 1.0)
/// rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Http,
    Rest,
}

/// How a route's caller is let in.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    None,
    /// HTTP API JWT authorizer.
    Jwt {
        name: String,
        issuer: String,
        audience: Vec<String>,
        identity_source: String,
    },
    /// REST API Cognito user pool authorizer: the issuers of its pools.
    CognitoUserPools {
        name: String,
        issuers: Vec<String>,
    },
    /// A Lambda authorizer (REST `TOKEN`, HTTP `REQUEST` with simple answers).
    Function {
        name: String,
        function: String,
        identity_sources: Vec<String>,
        cache_seconds: u32,
    },
}

/// One route (HTTP API) or method (REST API) and where it goes.
#[derive(Debug, Clone)]
pub struct Route {
    pub key: RouteKey,
    /// The function's logical id.
    pub function: String,
    pub auth: Auth,
    pub scopes: Vec<String>,
    /// REST: the JSON Schema the body must satisfy (the method's
    /// `application/json` model, with a body-validating validator).
    pub body_schema: Option<Value>,
    /// REST: the request parameters that must be present and not blank
    /// (the method's required `RequestParameters`, with a
    /// parameter-validating validator).
    pub required_parameters: Vec<RequiredParameter>,
}

/// A method request parameter API Gateway requires, as the method names it
/// (`method.request.querystring.period`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredParameter {
    pub location: ParameterLocation,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    Query,
    Header,
    Path,
}

impl RequiredParameter {
    /// `method.request.{querystring|header|path}.NAME`; `None` for another
    /// form (`multivaluequerystring` is checked like `querystring`).
    pub fn parse(expression: &str) -> Option<RequiredParameter> {
        let rest = expression.strip_prefix("method.request.")?;
        let (location, name) = rest.split_once('.')?;
        let location = match location {
            "querystring" | "multivaluequerystring" => ParameterLocation::Query,
            "header" | "multivalueheader" => ParameterLocation::Header,
            "path" => ParameterLocation::Path,
            _ => return None,
        };
        (!name.is_empty()).then(|| RequiredParameter {
            location,
            name: name.to_string(),
        })
    }
}

/// A REST method answered by API Gateway itself (a `MOCK` integration:
/// the CORS preflight methods).
#[derive(Debug, Clone)]
pub struct MockRoute {
    pub key: RouteKey,
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

/// A REST API's `AWS::ApiGateway::GatewayResponse`: what API Gateway does
/// to its own answers of one response type.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayResponse {
    /// `UNAUTHORIZED`, `DEFAULT_4XX`…
    pub response_type: String,
    /// The status it answers with instead of the answer's own.
    pub status: Option<u16>,
    /// Headers with static values (`gatewayresponse.header.NAME: "'value'"`).
    pub headers: Vec<(String, String)>,
    /// What `local` does not apply, said once when the API is served:
    /// response templates (the body stays API Gateway's `{"message": …}`),
    /// values mapped from the request, path and query-string parameters.
    pub not_applied: Vec<String>,
}

/// An HTTP API's CORS configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u32>,
    pub allow_credentials: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub rate_per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone)]
pub struct Api {
    pub logical_id: String,
    /// The deployed API's id, or the logical id lowercased when the
    /// deployment holds none (an emulator that does not create APIs).
    pub id: String,
    pub kind: ApiKind,
    pub stage: String,
    pub cors: Option<Cors>,
    pub throttle: Option<Throttle>,
    pub routes: Vec<Route>,
    pub mocks: Vec<MockRoute>,
    /// REST APIs only.
    pub gateway_responses: Vec<GatewayResponse>,
}

#[cfg(test)]
mod tests;
