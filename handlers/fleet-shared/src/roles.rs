//! Roles: `custom:role` in the caller's ID token is `admin` or `readonly`.
//! `readonly` reads; `admin` also acts (reboots). A caller without a known
//! role is refused everything, and the refusal is audited as
//! `ACCESS_DENIED`.

use crate::audit::{AuditLog, Entry};
use crate::Code;
use handler_support::log::Logger;
use handler_support::{ApiError, Caller, Request};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    ReadOnly,
    Admin,
}

impl Role {
    /// The caller's role, `None` when the claim is absent or unknown.
    pub fn of(caller: &Caller) -> Option<Role> {
        match caller.role.as_deref() {
            Some("admin") => Some(Role::Admin),
            Some("readonly") => Some(Role::ReadOnly),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ReadOnly => "readonly",
        }
    }
}

/// What a refused request was aimed at, for its audit entry.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource_type: &'static str,
    pub resource_id: String,
}

/// The caller's role when it is at least `needed`; otherwise an
/// `ACCESS_DENIED` entry is appended and the answer is 403 `FORBIDDEN`.
/// A failed audit write is logged with the whole entry and does not turn
/// the refusal into a 500: the caller is refused either way.
pub async fn require(
    audit: &AuditLog,
    caller: &Caller,
    request: &Request,
    needed: Role,
    target: Target,
    log: &Logger,
) -> Result<Role, ApiError> {
    let role = Role::of(caller);
    if role.is_some_and(|r| r >= needed) {
        return role.ok_or_else(|| ApiError::internal("unreachable: role checked"));
    }
    let reason = match role {
        None => {
            "No role assigned: an administrator sets custom:role to admin or readonly".to_string()
        }
        Some(r) => format!("The {} role cannot do this", r.name()),
    };
    let entry = Entry {
        action: "ACCESS_DENIED".into(),
        resource_type: target.resource_type.into(),
        resource_id: target.resource_id,
        details: Some(json!({
            "reason": reason,
            "route": request.route,
            "requiredRole": needed.name(),
            "role": caller.role,
        })),
    };
    audit.append_or_log(caller, request, entry, log).await;
    let message = match role {
        None => "No role assigned; ask an administrator for the admin or readonly role".to_string(),
        Some(_) => format!("{} role required", needed.name()),
    };
    Err(ApiError::new(Code::Forbidden, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Option<&str>) -> Caller {
        Caller {
            user_id: "u-1".into(),
            email: None,
            role: role.map(String::from),
            username: None,
            groups: Vec::new(),
        }
    }

    #[test]
    fn only_the_two_roles_count() {
        assert_eq!(Role::of(&caller(Some("admin"))), Some(Role::Admin));
        assert_eq!(Role::of(&caller(Some("readonly"))), Some(Role::ReadOnly));
        for other in [None, Some(""), Some("Admin"), Some("root"), Some("admin ")] {
            assert_eq!(Role::of(&caller(other)), None, "{other:?}");
        }
        assert!(Role::Admin >= Role::ReadOnly && Role::ReadOnly < Role::Admin);
    }
}
