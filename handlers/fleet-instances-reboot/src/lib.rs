//! `POST /instances/{instanceId}/reboot`: admins reboot instances this
//! console manages. Every refusal and every reboot is audited.
//!
//! Order: a malformed id is refused before anything is written (400, no
//! side effect); a non-admin is refused and audited (`ACCESS_DENIED`);
//! an unknown instance is 404; an instance without the managed tag is 403
//! `INSTANCE_NOT_MANAGED` and audited (the stack's IAM would refuse the
//! reboot; saying why beats EC2's `UnauthorizedOperation`); then EC2
//! reboots it and `REBOOT_INSTANCE` is appended.

use fleet_shared::audit::{AuditLog, Entry};
use fleet_shared::instances::{self, ManagedTag};
use fleet_shared::roles::{self, Role, Target};
use fleet_shared::Code;
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, HttpHandler, Reply, Request};
use serde_json::json;

pub struct Reboot {
    pub ec2: aws_sdk_ec2::Client,
    pub audit: AuditLog,
    pub managed: ManagedTag,
}

impl HttpHandler for Reboot {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::Unauthorized)?;
        match request.route.as_str() {
            "POST /instances/{instanceId}/reboot" => self.reboot(caller, &request, log).await,
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Reboot {
    async fn reboot(
        &self,
        caller: &Caller,
        request: &Request,
        log: &Logger,
    ) -> Result<Reply, ApiError> {
        let id = instances::instance_id(request.path_param("instanceId"))?;
        let target = Target {
            resource_type: "EC2_INSTANCE",
            resource_id: id.into(),
        };
        roles::require(&self.audit, caller, request, Role::Admin, target, log).await?;
        let instance = instances::describe(&self.ec2, id).await?;
        if !self.managed.is_on(&instance) {
            let reason = format!(
                "instance {id} is not managed by this console: it lacks the tag {}={}",
                self.managed.key, self.managed.value
            );
            self.audit
                .append_or_log(caller, request, denied(id, &reason), log)
                .await;
            return Err(ApiError::new(
                Code::InstanceNotManaged,
                capitalized(&reason),
            ));
        }
        if let Err(e) = self.ec2.reboot_instances().instance_ids(id).send().await {
            let answer = instances::answer_for(&e.into_service_error(), id);
            if answer.is(Code::InstanceNotManaged) {
                let reason = format!("EC2 refused: {}", answer.message);
                self.audit
                    .append_or_log(caller, request, denied(id, &reason), log)
                    .await;
            }
            return Err(answer);
        }
        log.info(
            "instance reboot initiated",
            &[
                ("instanceId", id.into()),
                ("userId", caller.user_id.clone().into()),
            ],
        );
        let entry = Entry {
            action: "REBOOT_INSTANCE".into(),
            resource_type: "EC2_INSTANCE".into(),
            resource_id: id.into(),
            details: Some(
                json!({"name": instance.tags().iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value())}),
            ),
        };
        // The reboot has happened: a failed audit write is logged at ERROR
        // with the whole entry and reported as `audited: false`, not
        // answered as a failed reboot, which a caller would retry.
        let audited = self.audit.append_or_log(caller, request, entry, log).await;
        Ok(Reply::ok(json!({
            "message": "Instance reboot initiated successfully",
            "instanceId": id,
            "audited": audited,
        })))
    }
}

fn denied(id: &str, reason: &str) -> Entry {
    Entry {
        action: "ACCESS_DENIED".into(),
        resource_type: "EC2_INSTANCE".into(),
        resource_id: id.into(),
        details: Some(json!({ "reason": reason })),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
