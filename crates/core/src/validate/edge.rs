//! The edge: APIs and their routes, authorizers and CORS, WAF, CloudFront,
//! and the Amplify frontend.

use super::{p, Checker};
use crate::model::{Api, ApiKind, AuthorizerKind, WafScope};
use crate::source::Path;
use std::collections::HashMap;

/// API Gateway stops waiting for an integration after this many seconds.
pub fn integration_timeout(kind: ApiKind) -> u32 {
    match kind {
        ApiKind::Http => 30,
        ApiKind::Rest => 29,
    }
}

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// The AWS managed rule groups WAF offers to every account.
pub const MANAGED_RULE_GROUPS: [&str; 14] = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesUnixRuleSet",
    "AWSManagedRulesWindowsRuleSet",
    "AWSManagedRulesPHPRuleSet",
    "AWSManagedRulesWordPressRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesBotControlRuleSet",
    "AWSManagedRulesATPRuleSet",
    "AWSManagedRulesACFPRuleSet",
];

pub(super) fn check(c: &mut Checker) {
    for (name, api) in &c.def.apis.clone() {
        check_api(c, name, api);
    }
    web_acls(c);
    distributions(c);
    frontend(c);
}

/// Splits a route key into method and path, or says what is wrong.
pub fn parse_route_key(key: &str) -> Result<(&str, &str), String> {
    let (method, path) = key
        .split_once(' ')
        .ok_or_else(|| "write routes as `METHOD /path`, such as `GET /guitars/{id}`".to_string())?;
    if !METHODS.contains(&method) {
        return Err(format!(
            "`{method}` is not an HTTP method; use one of {}",
            METHODS.join(", ")
        ));
    }
    if !path.starts_with('/') {
        return Err("the path starts with `/`".into());
    }
    if path.len() > 1 && path.ends_with('/') {
        return Err("remove the trailing `/`".into());
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if path == "/" {
            break;
        }
        if seg.is_empty() {
            return Err("the path has an empty segment (`//`)".into());
        }
        if let Some(param) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let greedy = param.ends_with('+');
            if greedy && i + 1 != segments.len() {
                return Err(format!("`{seg}` must be the last segment"));
            }
            let name = param.trim_end_matches('+');
            if name.is_empty()
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err(format!(
                    "`{seg}` is not a path parameter: write `{{name}}` or `{{proxy+}}`"
                ));
            }
        } else if seg.contains(['{', '}'])
            || !seg
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch))
        {
            return Err(format!(
                "`{seg}` has characters API Gateway does not accept in a path"
            ));
        }
    }
    Ok((method, path))
}

/// `/guitars/{id}` and `/guitars/{guitarId}` are the same route to API Gateway.
fn route_shape(method: &str, path: &str) -> String {
    let shape: Vec<String> = path
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                if s.ends_with("+}") {
                    "{+}".into()
                } else {
                    "{}".into()
                }
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("{method} {}", shape.join("/"))
}

fn check_api(c: &mut Checker, name: &str, api: &Api) {
    let at = p("apis").key(name);
    let functions = c.def.functions.clone();
    if api.routes.is_empty() {
        c.error(
            at.key("routes"),
            format!("API `{name}` has no routes"),
            "add routes such as `\"GET /items\": list-items`",
        );
    }
    for (aname, authz) in &api.authorizers {
        let here = at.key("authorizers").key(aname);
        match authz.kind {
            AuthorizerKind::Cognito => {
                match &c.def.user_pool {
                    None => c.error(
                        here.key("type"),
                        format!("authorizer `{aname}` uses the user pool, but the stack has none"),
                        "add `user_pool:` to the stack, or use a lambda authorizer",
                    ),
                    Some(pool) => {
                        for client in authz.clients.iter().flatten() {
                            c.expect_known(
                                here.key("clients"),
                                "user pool client",
                                client,
                                pool.clients.keys(),
                            );
                        }
                        if api.kind == ApiKind::Http && pool.clients.is_empty() {
                            c.error(here.clone(), format!("authorizer `{aname}` needs an app client"), "a JWT authorizer accepts tokens of named app clients; add one under `user_pool.clients`");
                        }
                    }
                }
                if authz.function.is_some() {
                    c.error(
                        here.key("function"),
                        "a cognito authorizer does not call a function",
                        "remove `function`, or make this a `type: lambda` authorizer",
                    );
                }
            }
            AuthorizerKind::Lambda => match &authz.function {
                None => c.error(
                    here.clone(),
                    format!("lambda authorizer `{aname}` names no function"),
                    "add `function: NAME`",
                ),
                Some(f) => {
                    c.expect_known(here.key("function"), "function", f, functions.keys());
                }
            },
        }
        if let Some(secs) = authz.cache_seconds {
            c.in_range(
                here.key("cache_seconds"),
                "cache time",
                secs.into(),
                0..=3600,
                "API Gateway caches authorizer answers for",
            );
        }
    }
    if let Some(default) = &api.default_authorizer {
        c.expect_known(
            at.key("default_authorizer"),
            "authorizer",
            default,
            api.authorizers.keys(),
        );
    }
    let mut shapes: HashMap<String, String> = HashMap::new();
    for (key, route) in &api.routes {
        let here = at.key("routes").key(key);
        match parse_route_key(key) {
            Err(hint) => c.error_at_key(here.clone(), format!("`{key}` is not a route"), hint),
            Ok((method, path)) => {
                if let Some(first) = shapes.insert(route_shape(method, path), key.clone()) {
                    c.error_at_key(
                        here.clone(),
                        format!("`{key}` and `{first}` are the same route"),
                        "API Gateway matches path parameters by position, not by name; keep one",
                    );
                }
            }
        }
        let route_fn = here.key("function");
        if c.expect_known(
            route_fn.clone(),
            "function",
            &route.function,
            functions.keys(),
        ) {
            let f = &functions[&route.function];
            let timeout = f.timeout_seconds(&c.def.function_defaults);
            let limit = integration_timeout(api.kind);
            if timeout > limit {
                c.error(route_fn, format!("function `{}` may run {timeout} s, but API Gateway gives up after {limit} s", route.function), format!("lower the function's timeout to at most {limit} s, or hand long work to another function (invoke it asynchronously or through a schedule)"));
            }
        }
        if route.public && route.authorizer.is_some() {
            c.error(
                here.key("public"),
                "a public route has no authorizer",
                "remove `public: true` or the `authorizer`",
            );
        }
        if let Some(a) = &route.authorizer {
            c.expect_known(
                here.key("authorizer"),
                "authorizer",
                a,
                api.authorizers.keys(),
            );
        }
        if !route.public && route.authorizer.is_none() && api.default_authorizer.is_none() {
            c.error(here.clone(), format!("route `{key}` has no authorizer and is not marked public"), "stackctl does not open routes to anyone by accident: set `default_authorizer` on the API, an `authorizer` on the route, or `public: true`");
        }
        if api.kind == ApiKind::Http
            && (route.validate.is_some()
                || route.body_schema.is_some()
                || !route.required_query.is_empty()
                || !route.required_headers.is_empty())
        {
            c.error_at_key(here, "HTTP APIs do not validate requests", "request validation is a REST API feature: use `type: rest`, or validate in the function");
        } else if route.body_schema.is_some()
            && !matches!(
                route.validate,
                Some(
                    crate::model::RequestValidation::Body
                        | crate::model::RequestValidation::BodyAndParameters
                )
            )
        {
            c.warning(here.key("body_schema"), "the body schema is not enforced", "add `validate: body` (or `body_and_parameters`) so API Gateway rejects bodies that do not match");
        }
    }
    if let Some(cors) = &api.cors {
        if api.kind == ApiKind::Rest && cors.allow_origins.len() > 1 {
            c.error(
                at.key("cors").key("allow_origins"),
                "a REST API answers preflight requests with one origin",
                "list one origin (or `*`), or use an HTTP API, whose CORS handles several",
            );
        }
        cors_rules(
            c,
            at.key("cors"),
            &cors.allow_origins,
            cors.allow_methods.as_deref().unwrap_or(&[]),
            cors.allow_credentials.unwrap_or(false),
        );
    }
    if let Some(t) = &api.throttling {
        if t.rate <= 0.0 || t.burst == 0 {
            c.error(
                at.key("throttling"),
                "throttling of zero blocks every request",
                "set `rate` and `burst` above 0, or remove throttling",
            );
        } else if t.rate > 10000.0 {
            c.warning(
                at.key("throttling").key("rate"),
                format!(
                    "{} requests per second is above the default account quota of 10,000",
                    t.rate
                ),
                "the account-level limit applies first unless AWS raised it for you",
            );
        }
    }
    if let Some(stage) = &api.stage_name {
        if api.kind == ApiKind::Http {
            c.error(
                at.key("stage_name"),
                "HTTP APIs here use the `$default` stage",
                "remove `stage_name`; the URL has no stage part",
            );
        } else if stage.is_empty()
            || stage.len() > 128
            || !stage
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            c.error(
                at.key("stage_name"),
                format!("`{stage}` is not a stage name"),
                "stage names are letters, digits and `_`",
            );
        }
    }
    if let Some(acl) = &api.waf {
        if api.kind == ApiKind::Http {
            c.error(at.key("waf"), format!("WAF cannot protect HTTP API `{name}`"), "AWS WAF attaches to REST API stages, CloudFront, ALBs, AppSync and Cognito, not to HTTP APIs: make this API `type: rest`, or put a CloudFront distribution with the web ACL in front of it");
        } else {
            expect_acl(c, at.key("waf"), acl, WafScope::Regional);
        }
    }
}

pub(super) fn cors_rules(
    c: &mut Checker,
    at: Path,
    origins: &[String],
    methods: &[String],
    credentials: bool,
) {
    if origins.is_empty() {
        c.error(
            at.key("allow_origins"),
            "CORS with no allowed origin",
            "list the origins that may call, such as `https://app.example.com`",
        );
    }
    if credentials && origins.iter().any(|o| o == "*") {
        c.error(
            at.key("allow_origins"),
            "`*` cannot be combined with `allow_credentials`",
            "browsers refuse credentials for a wildcard origin; list the origins",
        );
    }
    for (i, m) in methods.iter().enumerate() {
        if m != "*" && !METHODS.contains(&m.as_str()) {
            c.error(
                at.key("allow_methods").index(i),
                format!("`{m}` is not an HTTP method"),
                format!("use {}", METHODS.join(", ")),
            );
        }
    }
}

fn expect_acl(c: &mut Checker, at: Path, acl: &str, scope: WafScope) {
    if !c.expect_known(
        at.clone(),
        "web ACL",
        acl,
        c.def.web_acls.keys().collect::<Vec<_>>(),
    ) {
        return;
    }
    let Some(found) = c.def.web_acls.get(acl) else {
        return;
    };
    let actual = found.scope.unwrap_or(WafScope::Regional);
    if actual != scope {
        let (want, why) = match scope {
            WafScope::Regional => (
                "regional",
                "REST API stages and user pools take regional web ACLs",
            ),
            WafScope::Cloudfront => (
                "cloudfront",
                "CloudFront distributions take web ACLs of scope cloudfront (created in us-east-1)",
            ),
        };
        c.error(
            at,
            format!("web ACL `{acl}` has the wrong scope here"),
            format!("{why}; set `scope: {want}` on it, or use another ACL"),
        );
    }
}

fn web_acls(c: &mut Checker) {
    let mut used: Vec<&str> = Vec::new();
    used.extend(c.def.apis.values().filter_map(|a| a.waf.as_deref()));
    used.extend(
        c.def
            .distributions
            .values()
            .filter_map(|d| d.waf.as_deref()),
    );
    used.extend(c.def.user_pool.iter().filter_map(|u| u.waf.as_deref()));
    let used: Vec<String> = used.into_iter().map(String::from).collect();
    for (name, acl) in &c.def.web_acls.clone() {
        let at = p("web_acls").key(name);
        if acl.rate_limit.is_none() && acl.managed_rules.is_empty() {
            c.error(
                at.clone(),
                format!("web ACL `{name}` has no rules"),
                "add a `rate_limit` or `managed_rules`",
            );
        }
        if let Some(rl) = &acl.rate_limit {
            c.in_range(
                at.key("rate_limit").key("limit"),
                "rate limit",
                rl.limit,
                10..=2_000_000_000,
                "WAF rate limits are requests per window per IP",
            );
            if let Some(w) = rl.window_seconds {
                if ![60, 120, 300, 600].contains(&w) {
                    c.error(
                        at.key("rate_limit").key("window_seconds"),
                        format!("{w} s is not a WAF evaluation window"),
                        "use 60, 120, 300 or 600",
                    );
                }
            }
        }
        for (i, rule) in acl.managed_rules.iter().enumerate() {
            if !MANAGED_RULE_GROUPS.contains(&rule.as_str()) {
                let hint =
                    crate::diagnostic::suggestion(rule, MANAGED_RULE_GROUPS).unwrap_or_default();
                c.error(
                    at.key("managed_rules").index(i),
                    format!("`{rule}` is not an AWS managed rule group"),
                    hint,
                );
            }
        }
        if acl.scope == Some(WafScope::Cloudfront) && c.def.region.as_deref() != Some("us-east-1") {
            c.error(at.key("scope"), format!("web ACL `{name}` has scope cloudfront, which exists only in us-east-1"), "set `region: us-east-1` on the stack, or deploy the ACL from a separate us-east-1 stack");
        }
        if !used.contains(name) {
            c.warning(at, format!("web ACL `{name}` protects nothing"), "attach it with `waf: NAME` on a REST API, a distribution or the user pool, or remove it");
        }
    }
}

fn distributions(c: &mut Checker) {
    let buckets: Vec<String> = c.def.buckets.keys().cloned().collect();
    for (name, d) in &c.def.distributions.clone() {
        let at = p("distributions").key(name);
        c.expect_known(at.key("origin"), "bucket", &d.origin, buckets.iter());
        for (pattern, b) in &d.behaviors {
            let here = at.key("behaviors").key(pattern);
            if !pattern.starts_with('/') || pattern.len() < 2 {
                c.error_at_key(
                    here.clone(),
                    format!("`{pattern}` is not a path pattern"),
                    "path patterns start with `/`, such as `/images/*`",
                );
            }
            c.expect_known(here.key("bucket"), "bucket", &b.bucket, buckets.iter());
        }
        if let Some(acl) = &d.waf {
            expect_acl(c, at.key("waf"), acl, WafScope::Cloudfront);
        }
    }
}

fn frontend(c: &mut Checker) {
    let Some(f) = &c.def.frontend else { return };
    match (&f.repository, &f.access_token_secret) {
        (Some(_), None) => c.error(p("frontend.repository"), "Amplify needs an access token to connect a repository", "store a repository access token in Secrets Manager and name that secret in `access_token_secret`; without it CloudFormation fails to create the app"),
        (None, Some(_)) => c.error(p("frontend.access_token_secret"), "an access token without a repository is never used", "add `repository`, or remove `access_token_secret`"),
        (Some(repo), Some(_)) if !repo.starts_with("https://") => c.error(p("frontend.repository"), format!("`{repo}` is not an HTTPS repository URL"), "Amplify connects to repositories by their HTTPS URL"),
        _ => {}
    }
    if let Some(branch) = &f.branch {
        if branch.is_empty() || branch.len() > 255 || branch.contains(' ') {
            c.error(
                p("frontend.branch"),
                format!("`{branch}` is not a branch name"),
                "branch names have no spaces and at most 255 characters",
            );
        }
    }
}
