//! `GET /instances` (every instance, every page, filtered by `state` and
//! `tag`) and `GET /instances/{instanceId}`, each with its status checks.
//! Any role reads; a caller without one is refused and audited.

use aws_sdk_ec2::types::{Filter, Instance};
use fleet_shared::audit::AuditLog;
use fleet_shared::instances::{self, ManagedTag};
use fleet_shared::roles::{self, Role, Target};
use fleet_shared::Code;
use handler_support::log::Logger;
use handler_support::{ApiError, HttpHandler, Reply, Request};
use serde_json::{json, Value};

const STATES: [&str; 6] = [
    "pending",
    "running",
    "shutting-down",
    "terminated",
    "stopping",
    "stopped",
];

pub struct Instances {
    pub ec2: aws_sdk_ec2::Client,
    pub audit: AuditLog,
    pub managed: ManagedTag,
}

impl HttpHandler for Instances {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::Unauthorized)?;
        match request.route.as_str() {
            "GET /instances" => {
                let filters = filters(&request)?;
                let target = Target {
                    resource_type: "EC2_INSTANCE",
                    resource_id: "*".into(),
                };
                roles::require(&self.audit, caller, &request, Role::ReadOnly, target, log).await?;
                self.list(filters).await.map(Reply::ok)
            }
            "GET /instances/{instanceId}" => {
                let id = instances::instance_id(request.path_param("instanceId"))?;
                let target = Target {
                    resource_type: "EC2_INSTANCE",
                    resource_id: id.into(),
                };
                roles::require(&self.audit, caller, &request, Role::ReadOnly, target, log).await?;
                self.one(id).await.map(Reply::ok)
            }
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Instances {
    async fn list(&self, filters: Vec<Filter>) -> Result<Value, ApiError> {
        let mut found: Vec<Instance> = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .ec2
                .describe_instances()
                .set_filters(Some(filters.clone()))
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| instances::answer_for(&e.into_service_error(), "*"))?;
            found.extend(
                page.reservations()
                    .iter()
                    .flat_map(|r| r.instances())
                    .cloned(),
            );
            token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                break;
            }
        }
        let ids: Vec<String> = found
            .iter()
            .filter_map(|i| i.instance_id().map(String::from))
            .collect();
        let statuses = instances::statuses(&self.ec2, &ids).await?;
        let listed: Vec<Value> = found
            .iter()
            .map(|i| {
                let status = statuses.iter().find(|s| s.instance_id() == i.instance_id());
                instances::to_json(i, status, &self.managed)
            })
            .collect();
        Ok(json!({"instances": listed, "count": listed.len()}))
    }

    async fn one(&self, id: &str) -> Result<Value, ApiError> {
        let instance = instances::describe(&self.ec2, id).await?;
        let statuses = instances::statuses(&self.ec2, &[id.to_string()]).await?;
        Ok(json!({"instance": instances::to_json(&instance, statuses.first(), &self.managed)}))
    }
}

/// `state=running,stopped` and `tag=Key=Value` (or `tag=Key`: has the tag)
/// as EC2 filters; anything else is a 400 naming what is wrong.
fn filters(request: &Request) -> Result<Vec<Filter>, ApiError> {
    let mut out = Vec::new();
    let invalid = |message: String| ApiError::new(Code::ValidationError, message);
    if let Some(states) = request.query("state") {
        let states: Vec<String> = states.split(',').map(|s| s.trim().to_string()).collect();
        if let Some(bad) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
            return Err(invalid(format!(
                "state {bad:?} is not one of {}",
                STATES.join(", ")
            )));
        }
        out.push(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(states))
                .build(),
        );
    }
    if let Some(tag) = request.query("tag") {
        let (key, value) = match tag.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (tag, None),
        };
        if key.is_empty()
            || key.chars().count() > 128
            || value.is_some_and(|v| v.chars().count() > 256)
        {
            return Err(invalid(
                "tag must be Key=Value or Key (key 1-128 characters, value up to 256)".into(),
            ));
        }
        out.push(match value {
            Some(v) => Filter::builder()
                .name(format!("tag:{key}"))
                .values(v)
                .build(),
            None => Filter::builder().name("tag-key").values(key).build(),
        });
    }
    let known = ["state", "tag"];
    if let Some(unknown) = request.query.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown query parameter {unknown:?} (known: state, tag)"
        )));
    }
    Ok(out)
}
