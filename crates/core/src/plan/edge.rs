//! User pool, APIs, CloudFront, WAF and the Amplify frontend.

use super::refs::{get_att, reference, sub};
use super::{entity, short_hash, Path, Planner};
use crate::kinds::{
    API, DISTRIBUTION, FRONTEND_APP_NAME, FUNCTION, ORIGIN_ACCESS_CONTROL_NAME,
    USER_POOL_CLIENT_NAME, USER_POOL_NAME, WEB_ACL,
};
use crate::model::{
    AdvancedSecurity, Api, ApiKind, AuthFlow, AuthorizerKind, MfaMode, RecoveryMechanism,
    RequestValidation, SignInAttribute, WafAction, WafScope,
};
use crate::naming::{logical_id, pascal};
use crate::validate::parse_route_key;
use serde_json::{json, Value};
use std::collections::BTreeMap;

impl Planner<'_> {
    pub(super) fn user_pool(&mut self) {
        let Some(pool) = &self.def.user_pool else {
            return;
        };
        let sign_in = pool
            .sign_in_with
            .clone()
            .unwrap_or_else(|| vec![SignInAttribute::Email]);
        let word = |a: &SignInAttribute| match a {
            SignInAttribute::Email => "email",
            SignInAttribute::PhoneNumber => "phone_number",
            SignInAttribute::Username => "preferred_username",
        };
        let others: Vec<&str> = sign_in
            .iter()
            .filter(|a| **a != SignInAttribute::Username)
            .map(word)
            .collect();
        let (username_attributes, alias_attributes) =
            if sign_in.contains(&SignInAttribute::Username) {
                (Value::Null, json!(others))
            } else {
                (json!(others), Value::Null)
            };
        let auto_verify: Vec<&str> = match &pool.auto_verify {
            Some(v) => v.iter().map(|_| "email").collect(),
            None if sign_in.contains(&SignInAttribute::Email) => vec!["email"],
            None => vec![],
        };
        let pw = &pool.password;
        let mfa = pool.mfa_mode();
        let recovery: Vec<Value> = pool
            .account_recovery
            .clone()
            .unwrap_or_else(|| vec![RecoveryMechanism::VerifiedEmail])
            .iter()
            .enumerate()
            .map(|(i, r)| json!({"Name": match r { RecoveryMechanism::VerifiedEmail => "verified_email", RecoveryMechanism::VerifiedPhoneNumber => "verified_phone_number", RecoveryMechanism::AdminOnly => "admin_only" }, "Priority": i + 1}))
            .collect();
        let mut schema: Vec<Value> = pool
            .standard_attributes
            .iter()
            .map(|(n, a)| json!({"Name": n, "AttributeDataType": "String", "Required": a.required.unwrap_or(false), "Mutable": a.mutable.unwrap_or(true)}))
            .collect();
        for (n, a) in &pool.custom_attributes {
            let number = a.kind == Some(crate::model::CustomAttributeType::Number);
            let mut attr = json!({"Name": n, "AttributeDataType": if number { "Number" } else { "String" }, "Mutable": a.mutable.unwrap_or(true)});
            if number {
                let mut c = serde_json::Map::new();
                if let Some(v) = a.min_value {
                    c.insert("MinValue".into(), json!(v.to_string()));
                }
                if let Some(v) = a.max_value {
                    c.insert("MaxValue".into(), json!(v.to_string()));
                }
                attr["NumberAttributeConstraints"] = Value::Object(c);
            } else {
                attr["StringAttributeConstraints"] = json!({"MinLength": a.min_length.unwrap_or(0).to_string(), "MaxLength": a.max_length.unwrap_or(256).to_string()});
            }
            schema.push(attr);
        }
        let clients: Vec<Value> = pool
            .clients
            .iter()
            .map(|(name, c)| {
                let mut flows: Vec<&str> = c
                    .auth_flows
                    .clone()
                    .unwrap_or_else(|| vec![AuthFlow::UserSrp])
                    .iter()
                    .map(|f| match f {
                        AuthFlow::UserPassword => "ALLOW_USER_PASSWORD_AUTH",
                        AuthFlow::UserSrp => "ALLOW_USER_SRP_AUTH",
                        AuthFlow::AdminUserPassword => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                        AuthFlow::CustomAuth => "ALLOW_CUSTOM_AUTH",
                    })
                    .collect();
                flows.push("ALLOW_REFRESH_TOKEN_AUTH");
                let lifetime = |l: Option<crate::model::Lifetime>, amount: u32, unit: &str| {
                    l.map(|l| (l.amount, l.cloudformation_unit().to_string()))
                        .unwrap_or((amount, unit.to_string()))
                };
                let (access, access_unit) = lifetime(c.access_token_validity, 60, "minutes");
                let (id_t, id_unit) = lifetime(c.id_token_validity, 60, "minutes");
                let (refresh, refresh_unit) = lifetime(c.refresh_token_validity, 30, "days");
                json!({
                    "id": logical_id(name, "UserPoolClient"),
                    "client_name": sub(self.fitted_name_sub(&USER_POOL_CLIENT_NAME, name)),
                    "generate_secret": c.generate_secret.unwrap_or(false),
                    "flows": flows,
                    "access": access, "access_unit": access_unit,
                    "id_token": id_t, "id_unit": id_unit,
                    "refresh": refresh, "refresh_unit": refresh_unit,
                    "read_attributes": c.read_attributes,
                    "write_attributes": c.write_attributes,
                })
            })
            .collect();
        let view = json!({
            "id": "UserPool",
            "pool_name": sub(self.fitted_name_sub(&USER_POOL_NAME, "users")),
            "username_attributes": username_attributes,
            "alias_attributes": alias_attributes,
            "auto_verify": auto_verify,
            "password": {
                "MinimumLength": pw.min_length.unwrap_or(8),
                "RequireUppercase": pw.require_uppercase.unwrap_or(true),
                "RequireLowercase": pw.require_lowercase.unwrap_or(true),
                "RequireNumbers": pw.require_numbers.unwrap_or(true),
                "RequireSymbols": pw.require_symbols.unwrap_or(true),
                "TemporaryPasswordValidityDays": pw.temporary_password_validity_days.unwrap_or(7),
            },
            "mfa": match mfa { MfaMode::Off => "OFF", MfaMode::Optional => "OPTIONAL", MfaMode::Required => "ON" },
            "mfa_methods": if mfa == MfaMode::Off { Value::Null } else { json!(["SOFTWARE_TOKEN_MFA"]) },
            "recovery": recovery,
            "schema": if schema.is_empty() { Value::Null } else { Value::Array(schema) },
            "tier": pool.feature_plan().cloudformation(),
            "advanced_security": match pool.advanced_security { Some(AdvancedSecurity::Audit) => json!("AUDIT"), Some(AdvancedSecurity::Enforced) => json!("ENFORCED"), _ => Value::Null },
            "deletion_protection": if pool.deletion_protection.unwrap_or(self.retain()) { "ACTIVE" } else { "INACTIVE" },
            "clients": clients,
        });
        self.push("cognito_user_pool", Path::root().key("user_pool"), view);
        self.output(
            "UserPoolId".into(),
            "Cognito user pool id".into(),
            reference("UserPool"),
        );
        for name in pool.clients.keys() {
            let id = logical_id(name, "UserPoolClient");
            self.output(
                format!("{id}Id"),
                format!("App client id of {name}"),
                reference(&id),
            );
        }
    }

    /// A REST API that logs needs the account's API Gateway CloudWatch role,
    /// which is set outside the stack (see [`super::account`]).
    pub(super) fn apis(&mut self) {
        for (name, api) in &self.def.apis {
            let access_logs = api.access_logs.unwrap_or(true);
            match api.kind {
                ApiKind::Http => self.http_api(name, api, access_logs),
                ApiKind::Rest => self.rest_api(name, api, access_logs),
            }
            let id = API.logical_id(name);
            self.output(
                format!("{id}Url"),
                format!("Base URL of API {name}"),
                sub(self.api_url_sub(name)),
            );
        }
    }

    fn access_log_group(&self, id: &str, name: &str) -> Value {
        json!({
            "id": format!("{id}AccessLogs"),
            "name": sub(self.name_sub(&format!("/aws/apigateway/{{stack}}-{name}"), name)),
            "retention": self.def.function_defaults.log_retention(),
        })
    }

    fn http_api(&mut self, name: &str, api: &Api, access_logs: bool) {
        let id = API.logical_id(name);
        let authorizers: Vec<Value> = api
            .authorizers
            .iter()
            // Validation proved a Cognito authorizer has a pool and a Lambda one a function.
            .filter_map(|(aname, a)| {
                let aid = format!("{id}{}Authorizer", pascal(aname));
                let identity = a.identity_source.clone().unwrap_or_else(|| "$request.header.Authorization".into());
                Some(match a.kind {
                    AuthorizerKind::Cognito => {
                        let pool = self.def.user_pool.as_ref()?;
                        let clients: Vec<Value> = a.clients.clone().unwrap_or_else(|| pool.clients.keys().cloned().collect()).iter().map(|c| reference(&logical_id(c, "UserPoolClient"))).collect();
                        json!({"id": aid, "name": aname, "jwt": true, "identity": [identity], "audience": clients,
                               "issuer": sub("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}".into())})
                    }
                    AuthorizerKind::Lambda => {
                        let f = a.function.as_deref()?;
                        json!({"id": aid, "name": aname, "jwt": false, "identity": [identity],
                               "uri": invocation_uri(self, f),
                               "ttl": a.cache_seconds.unwrap_or(300),
                               "permission_id": format!("{aid}Permission"), "function": self.invoke_target(f),
                               "source_arn": sub(format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{id}}}/authorizers/*"))})
                    }
                })
            })
            .collect();
        let mut functions: Vec<&String> = api.routes.values().map(|r| &r.function).collect();
        functions.sort();
        functions.dedup();
        let integrations: Vec<Value> = functions
            .iter()
            .map(|f| json!({
                "id": format!("{id}{}Integration", pascal(f)),
                "permission_id": format!("{id}{}Permission", pascal(f)),
                "uri": self.invoke_target(f),
                "function": self.invoke_target(f),
                "source_arn": sub(format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{id}}}/*")),
            }))
            .collect();
        let mut route_ids = BTreeMap::new();
        let routes: Vec<Value> = api
            .routes
            .iter()
            .map(|(key, r)| {
                let authorizer = if r.public { None } else { r.authorizer.clone().or(api.default_authorizer.clone()) };
                let (auth_type, auth_id) = match &authorizer {
                    None => ("NONE", Value::Null),
                    Some(a) => (if is_cognito(api, a) { "JWT" } else { "CUSTOM" }, json!(format!("{id}{}Authorizer", pascal(a)))),
                };
                json!({
                    "id": unique_id(&mut route_ids, format!("{id}Route{}", pascal(&key.replace(['{', '}', '+'], " ").to_lowercase())), key),
                    "key": key,
                    "target": sub(format!("integrations/${{{id}{}Integration}}", pascal(&r.function))),
                    "auth_type": auth_type,
                    "authorizer_id": auth_id,
                })
            })
            .collect();
        let cors = api.cors.as_ref().map(|c| {
            let mut v = json!({
                "AllowOrigins": c.allow_origins.iter().map(|o| self.text_value(o)).collect::<Vec<_>>(),
                "AllowMethods": c.allow_methods.clone().unwrap_or_else(|| ["GET", "POST", "PUT", "DELETE", "OPTIONS"].map(String::from).to_vec()),
                "AllowHeaders": c.allow_headers.clone().unwrap_or_else(|| ["Content-Type", "Authorization"].map(String::from).to_vec()),
                "MaxAge": c.max_age_seconds.unwrap_or(600),
            });
            if !c.expose_headers.is_empty() {
                v["ExposeHeaders"] = json!(c.expose_headers);
            }
            if let Some(cred) = c.allow_credentials {
                v["AllowCredentials"] = json!(cred);
            }
            v
        });
        let view = json!({
            "id": id,
            "api_name": sub(self.name_sub("{stack}-{name}", name)),
            "description": api.description,
            "cors": cors,
            "stage_id": format!("{id}DefaultStage"),
            "throttling": api.throttling.map(|t| json!({"ThrottlingBurstLimit": t.burst, "ThrottlingRateLimit": t.rate})),
            "access_logs": if access_logs { self.access_log_group(&id, name) } else { Value::Null },
            "authorizers": authorizers,
            "integrations": integrations,
        });
        self.push("http_api", entity("apis", name), view);
        for mut route in routes {
            route["api_id"] = json!(id);
            self.push("http_api_route", entity("apis", name).key("routes"), route);
        }
    }

    fn rest_api(&mut self, name: &str, api: &Api, access_logs: bool) {
        let id = API.logical_id(name);
        // The path tree: one resource per distinct prefix.
        let mut resources: BTreeMap<String, Value> = BTreeMap::new();
        let resource_of = |path: &str| -> Value {
            if path == "/" {
                get_att(&id, "RootResourceId")
            } else {
                reference(&resource_id(&id, path))
            }
        };
        let mut methods = Vec::new();
        let mut models = Vec::new();
        let mut ids = BTreeMap::new();
        let mut options_for: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, r) in &api.routes {
            // Validation proved every route key parses.
            let Ok((method, path)) = parse_route_key(key) else {
                continue;
            };
            let mut prefix = String::new();
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                let parent = if prefix.is_empty() {
                    "/".to_string()
                } else {
                    prefix.clone()
                };
                prefix = format!("{prefix}/{seg}");
                resources.entry(prefix.clone()).or_insert_with(|| json!({"id": resource_id(&id, &prefix), "parent": resource_of(&parent), "part": seg}));
            }
            options_for
                .entry(path.to_string())
                .or_default()
                .push(method.to_string());
            let authorizer = if r.public {
                None
            } else {
                r.authorizer.clone().or(api.default_authorizer.clone())
            };
            let (auth_type, auth_id) = match &authorizer {
                None => ("NONE", Value::Null),
                Some(a) => (
                    if is_cognito(api, a) {
                        "COGNITO_USER_POOLS"
                    } else {
                        "CUSTOM"
                    },
                    json!({"Ref": format!("{id}{}Authorizer", pascal(a))}),
                ),
            };
            let mid = unique_id(
                &mut ids,
                format!(
                    "{id}Method{}",
                    pascal(&key.replace(['{', '}', '+'], " ").to_lowercase())
                ),
                key,
            );
            let mut params = serde_json::Map::new();
            for q in &r.required_query {
                params.insert(format!("method.request.querystring.{q}"), json!(true));
            }
            for h in &r.required_headers {
                params.insert(format!("method.request.header.{h}"), json!(true));
            }
            let model = r.body_schema.as_ref().map(|schema| {
                let model_id = format!("{mid}Model");
                models.push(json!({"id": model_id, "schema": schema}));
                json!({"application/json": {"Ref": model_id}})
            });
            let validator = r.validate.map(|v| match v {
                RequestValidation::Body => format!("{id}ValidateBody"),
                RequestValidation::Parameters => format!("{id}ValidateParameters"),
                RequestValidation::BodyAndParameters => format!("{id}ValidateAll"),
            });
            methods.push(json!({
                "id": mid,
                "resource": resource_of(path),
                "http_method": method,
                "auth_type": auth_type,
                "authorizer": auth_id,
                "uri": invocation_uri(self, &r.function),
                "params": if params.is_empty() { Value::Null } else { Value::Object(params) },
                "models": model,
                "validator": validator.map(|v| json!({"Ref": v})),
            }));
        }
        let cors = api.cors.as_ref().map(|c| {
            let origin = c
                .allow_origins
                .first()
                .map(|o| self.text_value(o))
                .unwrap_or(json!("*"));
            (
                origin,
                c.allow_headers
                    .clone()
                    .unwrap_or_else(|| vec!["Content-Type".into(), "Authorization".into()])
                    .join(","),
                c.max_age_seconds.unwrap_or(600),
            )
        });
        let options: Vec<Value> = match &cors {
            None => Vec::new(),
            Some((origin, headers, max_age)) => options_for
                .iter()
                .filter(|(_, m)| !m.iter().any(|m| m == "OPTIONS" || m == "ANY"))
                .map(|(path, m)| {
                    let mut allowed = m.clone();
                    allowed.push("OPTIONS".into());
                    json!({
                        "id": unique_id(&mut ids, format!("{id}Options{}", pascal(&path.replace(['{', '}', '+'], " ").to_lowercase())), path),
                        "resource": resource_of(path),
                        "allow_methods": format!("'{}'", allowed.join(",")),
                        "allow_headers": format!("'{headers}'"),
                        "allow_origin": origin_literal(origin),
                        "max_age": format!("'{max_age}'"),
                    })
                })
                .collect(),
        };
        let mut lambda_functions: Vec<&String> = api.routes.values().map(|r| &r.function).collect();
        let authorizers: Vec<Value> = api
            .authorizers
            .iter()
            // Validation proved a Lambda authorizer names a function.
            .filter_map(|(aname, a)| {
                let aid = format!("{id}{}Authorizer", pascal(aname));
                let identity = a.identity_source.clone().unwrap_or_else(|| "method.request.header.Authorization".into());
                Some(match a.kind {
                    AuthorizerKind::Cognito => json!({"id": aid, "name": aname, "cognito": true, "identity": identity}),
                    AuthorizerKind::Lambda => {
                        let function = a.function.as_ref()?;
                        lambda_functions.push(function);
                        json!({"id": aid, "name": aname, "cognito": false, "identity": identity, "ttl": a.cache_seconds.unwrap_or(300),
                               "uri": invocation_uri(self, function)})
                    }
                })
            })
            .collect();
        lambda_functions.sort();
        lambda_functions.dedup();
        let permissions: Vec<Value> = lambda_functions
            .iter()
            .map(|f| json!({
                "id": format!("{id}{}Permission", pascal(f)),
                "function": self.invoke_target(f),
                "source_arn": sub(format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{id}}}/*")),
            }))
            .collect();
        let used: Vec<&Value> = methods.iter().map(|m| &m["validator"]["Ref"]).collect();
        let validators: Vec<Value> = [("ValidateBody", true, false), ("ValidateParameters", false, true), ("ValidateAll", true, true)]
            .into_iter()
            .map(|(suffix, body, params)| json!({"id": format!("{id}{suffix}"), "body": body, "params": params}))
            .filter(|v| used.contains(&&v["id"]))
            .collect();
        let gateway_responses = match &cors {
            None => Vec::new(),
            Some((origin, headers, _)) => gateway_responses(&id, origin, headers),
        };
        let depends_on: Vec<Value> = methods
            .iter()
            .chain(options.iter())
            .chain(gateway_responses.iter())
            .map(|m| m["id"].clone())
            .collect();
        // Gateway responses take effect on deployment, like methods: they
        // are part of what a new deployment is made for (left out when
        // there are none, so APIs without CORS keep their deployment id).
        let mut fingerprint = json!([resources, methods, options, authorizers, models]);
        if !gateway_responses.is_empty() {
            if let Value::Array(parts) = &mut fingerprint {
                parts.push(json!(gateway_responses));
            }
        }
        let fingerprint = fingerprint.to_string();
        let stage = self.rest_stage_name(name);
        let view = json!({
            "id": id,
            "api_name": sub(self.name_sub("{stack}-{name}", name)),
            "description": api.description,
            "resources": resources.into_values().collect::<Vec<_>>(),
            "models": models,
            "validators": validators,
            "authorizers": authorizers,
            "permissions": permissions,
            "gateway_responses": gateway_responses,
            "deployment_id": format!("{id}Deployment{}", short_hash(&fingerprint)),
            "depends_on": depends_on,
            "stage_id": format!("{id}Stage"),
            "stage_name": stage,
            "throttling": api.throttling.map(|t| json!({"burst": t.burst, "rate": t.rate})),
            "access_logs": if access_logs { self.access_log_group(&id, name) } else { Value::Null },
            "tracing": true,
        });
        self.push("rest_api", entity("apis", name), view);
        for mut method in methods {
            method["api_id"] = json!(id);
            self.push(
                "rest_api_method",
                entity("apis", name).key("routes"),
                method,
            );
        }
        for mut preflight in options {
            preflight["api_id"] = json!(id);
            self.push("rest_api_cors", entity("apis", name).key("cors"), preflight);
        }
    }

    pub(super) fn distributions(&mut self) {
        for (name, d) in &self.def.distributions {
            let id = DISTRIBUTION.logical_id(name);
            let mut buckets: Vec<&String> = vec![&d.origin];
            buckets.extend(d.behaviors.values().map(|b| &b.bucket));
            buckets.dedup();
            let origins: Vec<Value> = buckets
                .iter()
                .map(|b| json!({"Id": b, "DomainName": sub(format!("{}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}", self.bucket_name_sub(b))), "S3OriginConfig": {"OriginAccessIdentity": ""}, "OriginAccessControlId": get_att(&format!("{id}OriginAccess"), "Id")}))
                .collect();
            let behaviors: Vec<Value> = d
                .behaviors
                .iter()
                .map(|(pattern, b)| json!({"path": pattern, "origin": b.bucket, "immutable": b.immutable.unwrap_or(false)}))
                .collect();
            let immutable = d.behaviors.values().any(|b| b.immutable == Some(true));
            let view = json!({
                "id": id,
                "immutable_policy_id": immutable.then(|| format!("{id}ImmutableHeaders")),
                "immutable_policy_name": sub(self.name_sub("{stack}-{name}-immutable", name)),
                "oac_id": format!("{id}OriginAccess"),
                "oac_name": sub(self.fitted_name_sub(&ORIGIN_ACCESS_CONTROL_NAME, name)),
                "comment": d.comment.clone().unwrap_or_else(|| format!("{}-{} {name}", self.def.name, self.env)),
                "origins": origins,
                "default_origin": d.origin,
                "behaviors": behaviors,
                "spa": d.spa.unwrap_or(false),
                "root_object": d.default_root_object.as_deref().unwrap_or("index.html"),
                "price_class": match d.price_class { Some(crate::model::PriceClass::PriceClass200) => "PriceClass_200", Some(crate::model::PriceClass::PriceClassAll) => "PriceClass_All", _ => "PriceClass_100" },
                "web_acl": d.waf.as_ref().map(|w| get_att(&WEB_ACL.logical_id(w), "Arn")),
            });
            self.push(
                "cloudfront_distribution",
                entity("distributions", name),
                view,
            );
            self.output(
                format!("{id}Domain"),
                format!("Domain name of distribution {name}"),
                get_att(&id, "DomainName"),
            );
        }
    }

    pub(super) fn web_acls(&mut self) {
        for (name, acl) in &self.def.web_acls {
            let id = WEB_ACL.logical_id(name);
            let metric = |rule: &str| {
                format!("{}-{}-{name}-{rule}", self.def.name, self.env)
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .take(128)
                    .collect::<String>()
            };
            let mut rules = Vec::new();
            if let Some(rl) = &acl.rate_limit {
                rules.push(json!({
                    "Name": "RateLimitPerIp", "Priority": 1, "Action": {"Block": {}},
                    "Statement": {"RateBasedStatement": {"Limit": rl.limit, "AggregateKeyType": "IP", "EvaluationWindowSec": rl.window_seconds.unwrap_or(300)}},
                    "VisibilityConfig": {"CloudWatchMetricsEnabled": true, "MetricName": metric("rate-limit"), "SampledRequestsEnabled": true},
                }));
            }
            for (i, group) in acl.managed_rules.iter().enumerate() {
                rules.push(json!({
                    "Name": group, "Priority": i + 2, "OverrideAction": {"None": {}},
                    "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
                    "VisibilityConfig": {"CloudWatchMetricsEnabled": true, "MetricName": metric(group), "SampledRequestsEnabled": true},
                }));
            }
            let mut associations = Vec::new();
            for (api_name, api) in &self.def.apis {
                if api.waf.as_deref() == Some(name) {
                    let api_id = API.logical_id(api_name);
                    associations.push(json!({
                        "id": format!("{id}Protects{api_id}"),
                        "resource": sub(format!("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/${{{api_id}}}/stages/${{{api_id}Stage}}")),
                    }));
                }
            }
            if self.def.user_pool.as_ref().and_then(|u| u.waf.as_deref()) == Some(name) {
                associations.push(json!({"id": format!("{id}ProtectsUserPool"), "resource": get_att("UserPool", "Arn")}));
            }
            let view = json!({
                "id": id,
                "acl_name": sub(self.physical_name_sub(&WEB_ACL, name)),
                "scope": if acl.scope == Some(WafScope::Cloudfront) { "CLOUDFRONT" } else { "REGIONAL" },
                "default_action": if acl.default_action == Some(WafAction::Block) { json!({"Block": {}}) } else { json!({"Allow": {}}) },
                "metric": metric("acl"),
                "rules": rules,
                "associations": associations,
            });
            self.push("waf_web_acl", entity("web_acls", name), view);
        }
    }

    pub(super) fn frontend(&mut self) {
        let Some(f) = &self.def.frontend else { return };
        let environment: Vec<Value> = f
            .environment
            .iter()
            .map(|(k, v)| json!({"Name": k, "Value": self.text_value(v)}))
            .collect();
        let view = json!({
            "id": "FrontendApp",
            "branch_id": "FrontendBranch",
            "app_name": sub(self.fitted_name_sub(&FRONTEND_APP_NAME, "frontend")),
            "description": f.description,
            "repository": f.repository,
            "access_token": f.access_token_secret.as_ref().map(|s| format!("{{{{resolve:secretsmanager:{s}}}}}")),
            "build_spec": f.build_spec,
            "platform": if f.platform == Some(crate::model::AmplifyPlatform::WebCompute) { "WEB_COMPUTE" } else { "WEB" },
            "branch": self.frontend_branch(),
            "stage": if self.env == "prod" { "PRODUCTION" } else if self.env == "dev" { "DEVELOPMENT" } else { "BETA" },
            "environment": if environment.is_empty() { Value::Null } else { Value::Array(environment) },
        });
        self.push("amplify_app", Path::root().key("frontend"), view);
        self.output(
            "FrontendUrl".into(),
            "URL of the frontend".into(),
            sub(format!(
                "https://{}.${{FrontendApp.DefaultDomain}}",
                self.frontend_branch()
            )),
        );
    }
}

/// A logical id derived from `base`, made unique by a hash of `key` when
/// two keys would give the same id (`/a-b` and `/a/b`).
fn unique_id(taken: &mut BTreeMap<String, String>, base: String, key: &str) -> String {
    let id = if taken.contains_key(&base) {
        format!("{base}{}", short_hash(key))
    } else {
        base
    };
    taken.insert(id.clone(), key.to_string());
    id
}

fn resource_id(api_id: &str, path: &str) -> String {
    format!(
        "{api_id}Resource{}{}",
        pascal(&path.replace(['{', '}', '+'], " ")),
        short_hash(path)
    )
}

/// The URI through which API Gateway invokes `function` (its `live` alias
/// when it keeps provisioned concurrency there).
fn invocation_uri(p: &Planner, function: &str) -> Value {
    let id = FUNCTION.logical_id(function);
    let target = if p.keeps_provisioned_concurrency(function) {
        format!("{id}LiveAlias")
    } else {
        format!("{id}.Arn")
    };
    sub(format!("arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{target}}}/invocations"))
}

/// Whether the API's authorizer `name` is a Cognito one (validation proved
/// every route names an authorizer the API has).
fn is_cognito(api: &Api, name: &str) -> bool {
    api.authorizers
        .get(name)
        .is_some_and(|a| a.kind == AuthorizerKind::Cognito)
}

/// API Gateway's own answers (a 401 from the Cognito authorizer, a 403, a
/// 429 when throttled, a 5xx) carry no CORS headers unless its gateway
/// responses add them: without them a browser cannot read the error. Every
/// response type falls back to `DEFAULT_4XX` or `DEFAULT_5XX` by status
/// ("Gateway response types for API Gateway"), so those two cover them
/// all. Static values are in single quotes, as in the preflight's
/// integration responses. `Vary: Origin` when the answer names one origin
/// rather than `*` (the usual advice for a named origin, so no cache hands
/// one origin's answer to another; a REST API allows one origin, so the
/// value is fixed and the header costs nothing).
fn gateway_responses(api_id: &str, origin: &Value, headers: &str) -> Vec<Value> {
    let mut params = serde_json::Map::new();
    params.insert(
        "gatewayresponse.header.Access-Control-Allow-Origin".into(),
        origin_literal(origin),
    );
    params.insert(
        "gatewayresponse.header.Access-Control-Allow-Headers".into(),
        json!(format!("'{headers}'")),
    );
    if origin != &json!("*") {
        params.insert("gatewayresponse.header.Vary".into(), json!("'Origin'"));
    }
    [("DEFAULT_4XX", "4XX"), ("DEFAULT_5XX", "5XX")]
        .into_iter()
        .map(|(response_type, suffix)| {
            json!({
                "id": format!("{api_id}GatewayResponse{suffix}"),
                "type": response_type,
                "params": params,
            })
        })
        .collect()
}

/// A mock integration answers with a literal header value: `'origin'`.
fn origin_literal(origin: &Value) -> Value {
    match origin {
        Value::String(s) => json!(format!("'{s}'")),
        Value::Object(o) => match o.get("Fn::Sub") {
            Some(Value::String(body)) => json!({"Fn::Sub": format!("'{body}'")}),
            _ => origin.clone(),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests;
