//! Functions (role, log group, code, alias) and fixed schedules.

use super::refs::{get_att, sub};
use super::{entity, iam, short_hash, Planner, ARTIFACT_BUCKET_SUB};
use crate::kinds::{EVENT_BUS, FUNCTION, QUEUE, SCHEDULE, TOPIC};
use crate::model::{Architecture, AsyncInvocation, AsyncTarget, FunctionUrl, Tracing, UrlAuth};
use serde_json::{json, Value};

/// What every function runs on unless it ships its own zip with a runtime.
pub const RUST_RUNTIME: &str = "provided.al2023";

/// The alias a function with provisioned concurrency keeps it on.
pub const LIVE_ALIAS: &str = "live";

impl Planner<'_> {
    pub(super) fn functions(&mut self) {
        let defaults = &self.def.function_defaults;
        for (name, f) in &self.def.functions {
            let id = FUNCTION.logical_id(name);
            let mut variables = defaults.environment.clone();
            variables.extend(f.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
            let environment: serde_json::Map<String, Value> = variables
                .iter()
                .map(|(k, v)| (k.clone(), self.text_value(v)))
                .collect();
            let code_key = self.code.keys.get(name).cloned().unwrap_or_else(|| {
                let source = f.crate_name.clone().unwrap_or_else(|| name.clone());
                format!("pending/{}/{source}.zip", self.def.name)
            });
            let (runtime, handler) = match &f.zip {
                Some(z) => (
                    z.runtime.clone().unwrap_or(RUST_RUNTIME.into()),
                    z.handler.clone().unwrap_or("bootstrap".into()),
                ),
                None => (RUST_RUNTIME.into(), "bootstrap".into()),
            };
            let provisioned = f.provisioned_concurrency.map(|count| {
                json!({
                    "version_id": format!("{id}Version{}", short_hash(&code_key)),
                    "alias_id": format!("{id}LiveAlias"),
                    "count": count,
                })
            });
            let tracing = match self.tracing(f) {
                Tracing::Active => "Active",
                Tracing::Passthrough => "PassThrough",
            };
            let function_name = self.function_name_sub(name);
            let view = json!({
                "id": id,
                "role_id": format!("{id}Role"),
                "log_group_id": format!("{id}LogGroup"),
                "function_name": sub(function_name.clone()),
                "log_group_name": sub(format!("/aws/lambda/{function_name}")),
                "log_retention": f.log_retention(defaults),
                "description": f.description,
                "runtime": runtime,
                "handler": handler,
                "architecture": f.architecture.or(defaults.architecture).unwrap_or(Architecture::X86_64).cloudformation(),
                "memory": f.memory_mb(defaults),
                "timeout": f.timeout_seconds(defaults),
                "code": {"S3Bucket": sub(ARTIFACT_BUCKET_SUB.into()), "S3Key": code_key},
                "environment": if environment.is_empty() { Value::Null } else { Value::Object(environment) },
                "tracing": tracing,
                "reserved_concurrency": f.reserved_concurrency,
                "provisioned": provisioned,
                "trust": iam::function_trust(&self.def.local_principals),
                "policy": iam::policy(self.function_statements(name, f)),
                "url": f.url.as_ref().map(|u| self.function_url(name, u)),
                "async": f.async_invocation.as_ref().map(|a| self.async_invocation(name, a)),
            });
            self.push(FUNCTION.template.0, entity(FUNCTION.section, name), view);
            if f.url.is_some() {
                self.output(
                    format!("{id}Url"),
                    format!("URL of function {name}"),
                    get_att(&format!("{id}UrlConfig"), "FunctionUrl"),
                );
            }
        }
    }

    /// Whether `function` keeps provisioned concurrency on its `live` alias.
    pub(super) fn keeps_provisioned_concurrency(&self, function: &str) -> bool {
        self.def
            .functions
            .get(function)
            .is_some_and(|f| f.provisioned_concurrency.is_some())
    }

    /// The ARN API Gateway, S3 and schedules invoke: the `live` alias when
    /// the function keeps provisioned concurrency there, else the function.
    pub(super) fn invoke_target(&self, function: &str) -> Value {
        let id = FUNCTION.logical_id(function);
        if self.keeps_provisioned_concurrency(function) {
            json!({"Ref": format!("{id}LiveAlias")})
        } else {
            get_att(&id, "Arn")
        }
    }

    /// The qualifier URLs and asynchronous settings of `function` apply to,
    /// and the resource they must wait for: the `live` alias when the
    /// function keeps provisioned concurrency there (S3, schedules and
    /// topics invoke the alias, see [`Self::invoke_target`]).
    fn qualifier(&self, function: &str) -> (Option<&'static str>, Value) {
        if self.keeps_provisioned_concurrency(function) {
            let alias = format!("{}LiveAlias", FUNCTION.logical_id(function));
            (Some(LIVE_ALIAS), json!([alias]))
        } else {
            (None, Value::Null)
        }
    }

    /// The view of function `name`'s URL: the `AWS::Lambda::Url` and, for
    /// `auth: none`, the two statements of the function's resource policy
    /// AWS requires for a public URL.
    fn function_url(&self, name: &str, u: &FunctionUrl) -> Value {
        let id = FUNCTION.logical_id(name);
        let (qualifier, depends_on) = self.qualifier(name);
        let cors = u.cors.as_ref().map(|c| {
            let mut cors = serde_json::Map::new();
            let mut list = |key: &str, values: Vec<Value>| {
                // Lambda's lists take at least one item when given.
                if !values.is_empty() {
                    cors.insert(key.into(), Value::Array(values));
                }
            };
            list(
                "AllowOrigins",
                c.allow_origins.iter().map(|o| self.text_value(o)).collect(),
            );
            list(
                "AllowMethods",
                c.allow_methods.iter().map(|m| json!(m)).collect(),
            );
            list(
                "AllowHeaders",
                c.allow_headers.iter().map(|h| json!(h)).collect(),
            );
            list(
                "ExposeHeaders",
                c.expose_headers.iter().map(|h| json!(h)).collect(),
            );
            if let Some(credentials) = c.allow_credentials {
                cors.insert("AllowCredentials".into(), json!(credentials));
            }
            if let Some(age) = c.max_age_seconds {
                cors.insert("MaxAge".into(), json!(age));
            }
            Value::Object(cors)
        });
        // "Starting in October 2025, new function URLs will require both
        // lambda:InvokeFunctionUrl and lambda:InvokeFunction permissions"
        // (AWS Lambda Developer Guide, "Control access to Lambda function
        // URLs", urls-auth.html). With `NONE`, the resource policy must
        // grant both to everyone: InvokeFunctionUrl under
        // `lambda:FunctionUrlAuthType: NONE`, InvokeFunction under
        // `lambda:InvokedViaFunctionUrl: true`, so the second lets no one
        // call the Invoke API itself.
        let public = (u.auth() == UrlAuth::None).then(|| {
            json!({
                "url_permission_id": format!("{id}UrlPublicAccess"),
                "invoke_permission_id": format!("{id}UrlPublicInvoke"),
                "function": self.invoke_target(name),
            })
        });
        json!({
            "id": format!("{id}UrlConfig"),
            "qualifier": qualifier,
            "depends_on": depends_on,
            "auth": u.auth().cloudformation(),
            "invoke_mode": u.invoke_mode().cloudformation(),
            "cors": cors,
            "public": public,
        })
    }

    /// The view of function `name`'s `AWS::Lambda::EventInvokeConfig`.
    fn async_invocation(&self, name: &str, a: &AsyncInvocation) -> Value {
        let (qualifier, depends_on) = self.qualifier(name);
        let mut destinations = serde_json::Map::new();
        for (key, destination) in [("OnSuccess", &a.on_success), ("OnFailure", &a.on_failure)] {
            if let Some(target) = destination.as_ref().and_then(|d| d.target()) {
                destinations.insert(
                    key.into(),
                    json!({"Destination": self.async_destination_arn(target)}),
                );
            }
        }
        json!({
            "id": format!("{}AsyncConfig", FUNCTION.logical_id(name)),
            "qualifier": qualifier.unwrap_or("$LATEST"),
            "depends_on": depends_on,
            "max_retries": a.max_retries,
            "max_event_age": a.max_event_age_seconds,
            "destinations": if destinations.is_empty() { Value::Null } else { Value::Object(destinations) },
        })
    }

    /// The ARN Lambda sends an invocation record to. A destination
    /// function is invoked where its own triggers invoke it (its `live`
    /// alias when it keeps provisioned concurrency).
    fn async_destination_arn(&self, target: AsyncTarget) -> Value {
        match target {
            AsyncTarget::Queue(q) => get_att(&QUEUE.logical_id(q), "Arn"),
            AsyncTarget::Topic(t) => json!({"Ref": TOPIC.logical_id(t)}),
            AsyncTarget::Function(f) => self.invoke_target(f),
            AsyncTarget::EventBus(b) => get_att(&EVENT_BUS.logical_id(b), "Arn"),
            AsyncTarget::External(e) => sub(self.external_arn_sub(e)),
        }
    }

    /// [`Self::invoke_target`] as `Fn::Sub` text built from the function's
    /// name, for IAM: a grant on the function's ARN does not cover its
    /// alias (`…:function:NAME:live` is another resource).
    pub(super) fn invoke_target_arn_sub(&self, function: &str) -> String {
        let arn = self.function_arn_sub(function);
        if self.keeps_provisioned_concurrency(function) {
            format!("{arn}:{LIVE_ALIAS}")
        } else {
            arn
        }
    }

    pub(super) fn schedules(&mut self) {
        for (name, s) in &self.def.schedules {
            let id = SCHEDULE.logical_id(name);
            let target = self.invoke_target(&s.function);
            let statements = self.schedule_statements(s, &target);
            let retry = s.retry.as_ref().map(|r| {
                let mut policy = serde_json::Map::new();
                if let Some(attempts) = r.max_attempts {
                    policy.insert("MaximumRetryAttempts".into(), json!(attempts));
                }
                if let Some(age) = r.max_event_age_seconds {
                    policy.insert("MaximumEventAgeInSeconds".into(), json!(age));
                }
                Value::Object(policy)
            });
            let dead_letter = s
                .dead_letter
                .as_ref()
                .map(|q| json!({"Arn": get_att(&QUEUE.logical_id(q), "Arn")}));
            let view = json!({
                "id": id,
                "role_id": format!("{id}Role"),
                "schedule_name": sub(self.physical_name_sub(&SCHEDULE, name)),
                "description": s.description,
                "expression": s.expression,
                "timezone": s.timezone.as_deref().unwrap_or("UTC"),
                "enabled": if s.enabled.unwrap_or(true) { "ENABLED" } else { "DISABLED" },
                "target": target,
                "input": s.input.as_ref().map(Value::to_string),
                "retry": retry,
                "dead_letter": dead_letter,
                "trust": iam::trust_from_account("scheduler.amazonaws.com"),
                "policy": iam::policy(statements),
            });
            self.push("schedule", entity("schedules", name), view);
        }
    }
}
