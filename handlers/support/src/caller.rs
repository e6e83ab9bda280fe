//! Who is calling: the claims an API Gateway authorizer verified, read the
//! same way from both shapes: an HTTP API JWT authorizer
//! (`requestContext.authorizer.jwt.claims`, every value a string, lists as
//! `[a b]`) and a REST API Cognito authorizer
//! (`requestContext.authorizer.claims`, every value a string, lists as `a,b`).

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Cognito `sub`: stable, never reused; the key of everything a user owns.
    pub user_id: String,
    pub email: Option<String>,
    /// `custom:role`, when the pool has one.
    pub role: Option<String>,
    pub username: Option<String>,
    /// `cognito:groups`: the user pool groups the caller belongs to.
    pub groups: Vec<String>,
}

impl Caller {
    /// The caller the claims name, or `None` without a subject: a request
    /// without verified claims is never given a guessed identity.
    pub fn from_claims(claims: &Map<String, Value>) -> Option<Caller> {
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .map(String::from)
                .filter(|s| !s.is_empty())
        };
        Some(Caller {
            user_id: text("sub")?,
            email: text("email"),
            role: text("custom:role"),
            username: text("cognito:username").or_else(|| text("username")),
            groups: claims.get("cognito:groups").map(groups).unwrap_or_default(),
        })
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Groups as a JSON list, as API Gateway's HTTP API renders lists
/// (`[admin editors]`), or comma-separated as REST APIs do (`admin,editors`).
fn groups(value: &Value) -> Vec<String> {
    let names: Vec<&str> = match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(text) => match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => inner.split([' ', ',']).collect(),
            None => text.split(',').collect(),
        },
        _ => Vec::new(),
    };
    names
        .into_iter()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller(claims: Value) -> Option<Caller> {
        Caller::from_claims(claims.as_object().unwrap())
    }

    #[test]
    fn groups_arrive_in_every_shape() {
        for shape in [
            json!(["admin", "editors"]),
            json!("[admin editors]"),
            json!("admin,editors"),
            json!("admin, editors"),
        ] {
            let c = caller(json!({"sub": "u-1", "cognito:groups": shape})).unwrap();
            assert_eq!(c.groups, ["admin", "editors"], "{shape}");
            assert!(c.in_group("editors") && !c.in_group("owners"));
        }
        let single = caller(json!({"sub": "u-1", "cognito:groups": "admin"})).unwrap();
        assert_eq!(single.groups, ["admin"]);
        assert!(caller(json!({"sub": "u-1"})).unwrap().groups.is_empty());
    }

    #[test]
    fn a_caller_needs_a_subject() {
        assert_eq!(caller(json!({"email": "a@example.com"})), None);
        assert_eq!(caller(json!({"sub": ""})), None);
        let c =
            caller(json!({"sub": "u-1", "email": "a@example.com", "cognito:username": "alice"}))
                .unwrap();
        assert_eq!(
            (c.email.as_deref(), c.username.as_deref()),
            (Some("a@example.com"), Some("alice"))
        );
    }
}
