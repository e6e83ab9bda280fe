//! `GET /audit`: entries of one user (the table's key), one action
//! (`action-index`) or one resource (`resource-index`), newest first, 50 a
//! page with a paging token, optionally `since` a time. `POST /audit`:
//! a client reports an action of its own (viewing a console page, say);
//! who did it comes from the token, and the console's own actions
//! (`ACCESS_DENIED`, `REBOOT_INSTANCE`) cannot be written by clients.

pub mod query;

use fleet_shared::audit::{AuditLog, Entry, SERVER_ACTIONS};
use fleet_shared::roles::{self, Role, Target};
use fleet_shared::Code;
use handler_support::input::{json_object, Fields};
use handler_support::item::from_item;
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, HttpHandler, Reply, Request};
use query::{AuditQuery, PageToken};
use serde_json::{json, Value};

/// Fields the console sets itself; a body that names one is refused.
const SET_BY_THE_CONSOLE: [&str; 7] = [
    "userId",
    "userEmail",
    "timestamp",
    "auditId",
    "ttl",
    "ipAddress",
    "userAgent",
];
const DETAILS_MAX_BYTES: usize = 10_000;

pub struct Audit {
    pub log: AuditLog,
}

impl HttpHandler for Audit {
    async fn respond(&self, request: Request, log: &Logger) -> Result<Reply, ApiError> {
        let caller = request.caller(Code::Unauthorized)?;
        match request.route.as_str() {
            "GET /audit" => {
                let query = AuditQuery::from_request(&request, caller)?;
                self.allow(caller, &request, "*", log).await?;
                self.list(query).await.map(Reply::ok)
            }
            "POST /audit" => {
                let entry = entry(&request)?;
                self.allow(caller, &request, &entry.resource_id, log)
                    .await?;
                if SERVER_ACTIONS.contains(&entry.action.as_str()) {
                    return Err(ApiError::new(
                        Code::Forbidden,
                        format!("{} entries are written by the console itself", entry.action),
                    ));
                }
                let written = self.log.append(caller, &request, entry).await?;
                Ok(Reply::created(written))
            }
            other => Err(ApiError::route_not_found(other)),
        }
    }
}

impl Audit {
    async fn allow(
        &self,
        caller: &Caller,
        request: &Request,
        resource: &str,
        log: &Logger,
    ) -> Result<(), ApiError> {
        let target = Target {
            resource_type: "AUDIT_LOG",
            resource_id: resource.into(),
        };
        roles::require(&self.log, caller, request, Role::ReadOnly, target, log)
            .await
            .map(|_| ())
    }

    async fn list(&self, q: AuditQuery) -> Result<Value, ApiError> {
        let (names, values) = q.expression_parts();
        let out = self
            .log
            .dynamodb
            .query()
            .table_name(&self.log.table)
            .set_index_name(q.by.index().map(String::from))
            .key_condition_expression(q.key_condition())
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false)
            .limit(q.limit as i32)
            .set_exclusive_start_key(q.start.as_ref().map(PageToken::key))
            .send()
            .await
            .map_err(|e| {
                ApiError::internal(format!("audit query failed: {}", e.into_service_error()))
            })?;
        let entries: Vec<Value> = out.items().iter().map(from_item).collect();
        let next = out
            .last_evaluated_key()
            .map(|key| PageToken::for_key(&q, key).encode());
        Ok(json!({"entries": entries, "count": entries.len(), "nextToken": next}))
    }
}

/// The entry a `POST /audit` body describes, every problem reported at once.
fn entry(request: &Request) -> Result<Entry, ApiError> {
    let body = json_object(request, Code::ValidationError)?;
    let mut f = Fields::new(&body, Code::ValidationError);
    // In name order, whatever order the body (or serde_json's map) holds.
    let mut keys: Vec<&String> = body.keys().collect();
    keys.sort();
    for key in keys {
        if SET_BY_THE_CONSOLE.contains(&key.as_str()) {
            f.problem(
                key,
                "is set by the console from the caller's token and request, never from the body",
            );
        } else if !["action", "resourceType", "resourceId", "details"].contains(&key.as_str()) {
            f.problem(key, "is not a field of an audit entry");
        }
    }
    let action = f.text("action", true, 1, 50);
    let resource_type = f.text("resourceType", true, 1, 50);
    let resource_id = f.text("resourceId", true, 1, 255);
    for (field, value) in [("action", &action), ("resourceType", &resource_type)] {
        if value.as_deref().is_some_and(|v| !query::is_upper_snake(v)) {
            f.problem(
                field,
                "must be UPPER_SNAKE_CASE (A-Z, 0-9, _), such as VIEW_INSTANCE",
            );
        }
    }
    let details = match body.get("details") {
        None | Some(Value::Null) => None,
        Some(Value::Object(d))
            if Value::Object(d.clone()).to_string().len() <= DETAILS_MAX_BYTES =>
        {
            Some(Value::Object(d.clone()))
        }
        Some(_) => {
            f.problem("details", "must be an object of at most 10 KB");
            None
        }
    };
    f.finish()?;
    match (action, resource_type, resource_id) {
        (Some(action), Some(resource_type), Some(resource_id)) => Ok(Entry {
            action,
            resource_type,
            resource_id,
            details,
        }),
        _ => Err(ApiError::internal(
            "validation passed without required fields",
        )),
    }
}
