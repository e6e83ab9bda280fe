//! Functions (role, log group, code, alias) and fixed schedules.

use super::refs::{get_att, sub};
use super::{entity, iam, short_hash, Planner, ARTIFACT_BUCKET_SUB};
use crate::kinds::{FUNCTION, SCHEDULE};
use crate::model::{Architecture, Tracing};
use serde_json::{json, Value};

/// What every function runs on unless it ships its own zip with a runtime.
pub const RUST_RUNTIME: &str = "provided.al2023";

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
            });
            self.push(FUNCTION.template.0, entity(FUNCTION.section, name), view);
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

    pub(super) fn schedules(&mut self) {
        for (name, s) in &self.def.schedules {
            let id = SCHEDULE.logical_id(name);
            let target = self.invoke_target(&s.function);
            let statements = vec![
                json!({"Sid": "InvokeTarget", "Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [target.clone()]}),
            ];
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
                "trust": iam::trust_from_account("scheduler.amazonaws.com"),
                "policy": iam::policy(statements),
            });
            self.push("schedule", entity("schedules", name), view);
        }
    }
}
