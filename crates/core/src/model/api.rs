//! How clients reach the stack: APIs, CloudFront, WAF and the Amplify frontend.

use super::shorthand::scalar_or_struct;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// An API Gateway API.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// `http` (API Gateway v2: cheaper, JWT authorizers) or `rest` (v1:
    /// request validation, WAF, usage plans).
    #[serde(rename = "type")]
    pub kind: ApiKind,
    #[serde(default)]
    pub description: Option<String>,
    /// Authorizers, by name.
    #[serde(default)]
    pub authorizers: IndexMap<String, Authorizer>,
    /// The authorizer of every route that names none and is not `public`.
    #[serde(default)]
    pub default_authorizer: Option<String>,
    #[serde(default)]
    pub cors: Option<Cors>,
    /// Steady-state requests per second and burst for the whole stage.
    #[serde(default)]
    pub throttling: Option<Throttling>,
    /// Routes, keyed `METHOD /path` (`ANY /{proxy+}` too), each naming a
    /// function or `{function, public, authorizer, …}`.
    pub routes: IndexMap<String, Route>,
    /// Protect the stage with this web ACL (REST APIs only).
    #[serde(default)]
    pub waf: Option<String>,
    /// Stage name (REST). Default: the environment's name.
    #[serde(default)]
    pub stage_name: Option<String>,
    /// Write access logs to a log group. Default: true.
    #[serde(default)]
    pub access_logs: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    Http,
    Rest,
}

/// How a route's caller is authenticated.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorizer {
    /// `cognito` (the stack's user pool: a JWT authorizer on HTTP APIs, a
    /// Cognito authorizer on REST APIs) or `lambda` (a function decides).
    #[serde(rename = "type")]
    pub kind: AuthorizerKind,
    /// App clients whose tokens are accepted (cognito, HTTP APIs). Default: all.
    #[serde(default)]
    pub clients: Option<Vec<String>>,
    /// The deciding function (lambda).
    #[serde(default)]
    pub function: Option<String>,
    /// Where the token is. Default: the `Authorization` header.
    #[serde(default)]
    pub identity_source: Option<String>,
    /// Seconds a lambda authorizer's answer is cached (0-3600). Default: 300.
    #[serde(default)]
    pub cache_seconds: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizerKind {
    Cognito,
    Lambda,
}

/// Cross-origin resource sharing for browsers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Origins; references such as `${frontend.url}` are allowed.
    pub allow_origins: Vec<String>,
    /// Default: GET, POST, PUT, DELETE, OPTIONS.
    #[serde(default)]
    pub allow_methods: Option<Vec<String>>,
    /// Default: Content-Type, Authorization.
    #[serde(default)]
    pub allow_headers: Option<Vec<String>>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Seconds browsers cache a preflight answer. Default: 600.
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
    #[serde(default)]
    pub allow_credentials: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Throttling {
    /// Requests per second.
    pub rate: f64,
    /// Requests at once.
    pub burst: u32,
}

/// A route to a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub function: String,
    pub public: bool,
    pub authorizer: Option<String>,
    pub validate: Option<RequestValidation>,
    pub body_schema: Option<serde_json::Value>,
    pub required_query: Vec<String>,
    pub required_headers: Vec<String>,
}

/// The long form of a route.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteFull {
    /// The function that answers.
    pub function: String,
    /// No authorizer: anyone may call it. Default: false.
    #[serde(default)]
    pub public: Option<bool>,
    /// An authorizer other than the default.
    #[serde(default)]
    pub authorizer: Option<String>,
    /// What API Gateway checks before calling the function (REST only).
    #[serde(default)]
    pub validate: Option<RequestValidation>,
    /// JSON schema (draft 4) of the request body (REST only).
    #[serde(default)]
    pub body_schema: Option<serde_json::Value>,
    /// Query string parameters that must be present (REST only).
    #[serde(default)]
    pub required_query: Vec<String>,
    /// Headers that must be present (REST only).
    #[serde(default)]
    pub required_headers: Vec<String>,
}

impl From<RouteFull> for Route {
    fn from(f: RouteFull) -> Self {
        Route {
            function: f.function,
            public: f.public.unwrap_or(false),
            authorizer: f.authorizer,
            validate: f.validate,
            body_schema: f.body_schema,
            required_query: f.required_query,
            required_headers: f.required_headers,
        }
    }
}

scalar_or_struct!(
    Route,
    full = RouteFull,
    short = String,
    from_short = |function| Route {
        function,
        public: false,
        authorizer: None,
        validate: None,
        body_schema: None,
        required_query: Vec::new(),
        required_headers: Vec::new(),
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestValidation {
    Body,
    Parameters,
    BodyAndParameters,
}

/// A WAFv2 web ACL.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebAcl {
    /// `regional` (REST API stages, user pools) or `cloudfront`
    /// (distributions; the stack must be in us-east-1). Default: `regional`.
    #[serde(default)]
    pub scope: Option<WafScope>,
    /// Block an IP that sends more than this many requests in the window.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// AWS managed rule groups, such as `AWSManagedRulesCommonRuleSet`.
    #[serde(default)]
    pub managed_rules: Vec<String>,
    /// What happens to a request no rule blocks. Default: `allow`.
    #[serde(default)]
    pub default_action: Option<WafAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WafScope {
    Regional,
    Cloudfront,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WafAction {
    Allow,
    Block,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per IP per window (10 to 2,000,000,000).
    pub limit: u64,
    /// 60, 120, 300 or 600 seconds. Default: 300.
    #[serde(default)]
    pub window_seconds: Option<u32>,
}

/// A CloudFront distribution serving buckets through origin access control.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    #[serde(default)]
    pub comment: Option<String>,
    /// The bucket served by default.
    pub origin: String,
    /// More buckets by path pattern, such as `/images/*`.
    #[serde(default)]
    pub behaviors: IndexMap<String, Behavior>,
    /// Single-page app: answer 403 and 404 with `/index.html` and status 200.
    #[serde(default)]
    pub spa: Option<bool>,
    /// Default: `index.html`.
    #[serde(default)]
    pub default_root_object: Option<String>,
    /// `price_class_100` (North America, Europe), `price_class_200`, `price_class_all`.
    /// Default: `price_class_100`.
    #[serde(default)]
    pub price_class: Option<PriceClass>,
    /// Web ACL with scope `cloudfront`.
    #[serde(default)]
    pub waf: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Behavior {
    /// The bucket serving this path.
    pub bucket: String,
    /// Mark responses immutable for a year (versioned file names). Default: false.
    #[serde(default)]
    pub immutable: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceClass {
    #[serde(rename = "price_class_100")]
    PriceClass100,
    #[serde(rename = "price_class_200")]
    PriceClass200,
    PriceClassAll,
}

/// Frontend hosting on Amplify.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Frontend {
    /// Physical name; `{stack}`, `{app}`, `{env}` are filled in. Default: `{stack}-frontend`.
    #[serde(default)]
    pub app_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Git repository URL; Amplify builds on every push to `branch`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Name of an existing Secrets Manager secret holding the repository
    /// access token (needed with `repository`). Resolved by CloudFormation;
    /// the token never appears in the template.
    #[serde(default)]
    pub access_token_secret: Option<String>,
    /// The branch to deploy. Default: the environment's name.
    #[serde(default)]
    pub branch: Option<String>,
    /// Amplify build specification (YAML text).
    #[serde(default)]
    pub build_spec: Option<String>,
    /// `web` (static) or `web_compute` (SSR). Default: `web`.
    #[serde(default)]
    pub platform: Option<AmplifyPlatform>,
    /// Build-time environment variables; references such as `${apis.main.url}`
    /// or `${user_pool.clients.web.id}` take the stack's own values.
    #[serde(default)]
    pub environment: IndexMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmplifyPlatform {
    Web,
    WebCompute,
}

// The default is written once, here; validation and planning both read it.
impl Frontend {
    pub const DEFAULT_APP_NAME: &'static str = "{stack}-frontend";

    /// The physical name pattern.
    pub fn app_name_pattern(&self) -> &str {
        self.app_name.as_deref().unwrap_or(Self::DEFAULT_APP_NAME)
    }
}
