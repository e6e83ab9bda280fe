//! Which grants a function used while `local` ran, to list on exit the
//! actions its role grants and it never used: candidates for a narrower
//! `access:` entry.

use super::pattern;
use super::policy::{Effect, Patterns, RolePolicy, Statement};
use std::collections::BTreeSet;

/// An action granted by one statement and never used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedGrant {
    /// The statement's `Sid` (or its place).
    pub statement: String,
    /// The action as the statement grants it (`dynamodb:Scan`, `s3:*`).
    pub action: String,
    pub resources: Vec<String>,
}

/// The (statement, action pattern) pairs of one role that allowed a call.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    used: BTreeSet<(usize, usize)>,
}

impl Usage {
    /// Notes that `statements` (indexes into `policy`) allowed `action`.
    pub fn record(&mut self, policy: &RolePolicy, statements: &[usize], action: &str) {
        for &s in statements {
            let Some(statement) = policy.statements.get(s) else {
                continue;
            };
            match &statement.actions {
                Patterns::Listed(patterns) => {
                    let matching = patterns
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| pattern::action_matches(p, action));
                    self.used.extend(matching.map(|(i, _)| (s, i)));
                }
                Patterns::AllExcept(_) => {
                    self.used.insert((s, usize::MAX));
                }
            }
        }
    }

    /// The grants of `policy` never used, leaving out those AWS uses on
    /// the function's behalf.
    pub fn unused(&self, policy: &RolePolicy) -> Vec<UnusedGrant> {
        let mut out = Vec::new();
        for (s, statement) in policy.statements.iter().enumerate() {
            if statement.effect != Effect::Allow || used_on_the_functions_behalf(statement) {
                continue;
            }
            let grants: Vec<(usize, String)> = match &statement.actions {
                Patterns::Listed(p) => p.iter().cloned().enumerate().collect(),
                Patterns::AllExcept(p) => {
                    vec![(usize::MAX, format!("every action but {}", p.join(", ")))]
                }
            };
            for (i, action) in grants {
                if !self.used.contains(&(s, i)) {
                    out.push(UnusedGrant {
                        statement: statement.label(),
                        action,
                        resources: statement.resources.patterns().to_vec(),
                    });
                }
            }
        }
        out
    }
}

/// Grants that AWS, not the function's code, exercises: Lambda writes the
/// function's logs with the role (`local` prints them to the terminal
/// instead), the X-Ray integration sends its traces, and services decrypt
/// with the stack key on the function's behalf (`kms:ViaService`: the
/// environment, DynamoDB, S3, SNS, Secrets Manager). None of these calls
/// passes the proxy, so their being unused says nothing.
fn used_on_the_functions_behalf(statement: &Statement) -> bool {
    let by_aws = |action: &String| {
        let a = action.to_ascii_lowercase();
        a.starts_with("xray:")
            || [
                "logs:createlogstream",
                "logs:putlogevents",
                "logs:createloggroup",
            ]
            .contains(&a.as_str())
    };
    let via_service = statement
        .conditions
        .iter()
        .any(|c| c.key.eq_ignore_ascii_case("kms:ViaService"));
    let actions = statement.actions.patterns();
    via_service
        || (matches!(statement.actions, Patterns::Listed(_))
            && !actions.is_empty()
            && actions.iter().all(by_aws))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::iam::condition::Context;
    use crate::local::iam::policy::Decision;
    use serde_json::json;

    fn role() -> RolePolicy {
        let mut r = RolePolicy::default();
        r.add_document("access", &json!({"Statement": [
            {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*"},
            {"Sid": "DecryptOwnEnvironment", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": "lambda.eu-west-1.amazonaws.com"}}},
            {"Sid": "XRay", "Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
            {"Sid": "ReadWriteGuitarsTable", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Put*", "dynamodb:Scan"], "Resource": ["arn:t", "arn:t/index/*"]},
            {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}
        ]}));
        r
    }

    fn use_it(usage: &mut Usage, policy: &RolePolicy, action: &str) {
        let Decision::Allowed(by) = policy.evaluate(action, "arn:t", &Context::new()).decision
        else {
            panic!("{action} should be allowed")
        };
        usage.record(policy, &by, action);
    }

    #[test]
    fn actions_never_used_are_listed_by_statement_with_its_resources() {
        let policy = role();
        let mut usage = Usage::default();
        use_it(&mut usage, &policy, "dynamodb:GetItem");
        use_it(&mut usage, &policy, "dynamodb:PutItem");
        assert_eq!(
            usage.unused(&policy),
            vec![UnusedGrant {
                statement: "ReadWriteGuitarsTable".into(),
                action: "dynamodb:Scan".into(),
                resources: vec!["arn:t".into(), "arn:t/index/*".into()],
            }]
        );
    }

    #[test]
    fn logs_xray_kms_via_a_service_and_denies_are_never_listed() {
        let policy = role();
        let unused: Vec<String> = Usage::default()
            .unused(&policy)
            .into_iter()
            .map(|u| u.statement)
            .collect();
        assert_eq!(unused, ["ReadWriteGuitarsTable"; 3]);
    }
}
