//! A role's identity policy and its evaluation, as IAM's policy evaluation
//! logic describes it for one identity-based policy set: an applicable
//! `Deny` wins; otherwise any applicable `Allow` allows; otherwise the
//! request is denied implicitly. A statement applies when its `Action`
//! (or `NotAction`), `Resource` (or `NotResource`) and every condition
//! match the request.

use super::condition::{strings, Condition, Context, Test};
use super::pattern;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`/`Resource` (the listed patterns) or `NotAction`/`NotResource`
/// (everything but them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patterns {
    Listed(Vec<String>),
    AllExcept(Vec<String>),
}

impl Patterns {
    fn matches(&self, text: &str, one: fn(&str, &str) -> bool) -> bool {
        match self {
            Patterns::Listed(p) => p.iter().any(|p| one(p, text)),
            Patterns::AllExcept(p) => !p.iter().any(|p| one(p, text)),
        }
    }

    /// The listed patterns (for `NotAction`, the excluded ones).
    pub fn patterns(&self) -> &[String] {
        match self {
            Patterns::Listed(p) | Patterns::AllExcept(p) => p,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    /// The policy it belongs to (an inline policy's name).
    pub policy: String,
    /// Its place in that policy, from 0.
    pub index: usize,
    pub effect: Effect,
    pub actions: Patterns,
    pub resources: Patterns,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// The `Sid`, or where the statement is when it has none.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => sid.clone(),
            None => format!("statement {} of policy {}", self.index + 1, self.policy),
        }
    }

    fn test(&self, action: &str, resource: &str, context: &Context) -> Test {
        if !self.actions.matches(action, pattern::action_matches)
            || !self.resources.matches(resource, pattern::matches)
        {
            return Test::NotMet;
        }
        let mut unknown = None;
        for condition in &self.conditions {
            match condition.test(context) {
                Test::Met => {}
                Test::NotMet => return Test::NotMet,
                Test::Unknown(why) => unknown = Some(why),
            }
        }
        unknown.map_or(Test::Met, Test::Unknown)
    }

    /// The condition keys of this statement `context` does not know.
    fn unknown_keys<'s>(&'s self, context: &'s Context) -> impl Iterator<Item = String> + 's {
        self.conditions
            .iter()
            .filter(|c| !context.knows(&c.key))
            .map(|c| c.key.clone())
    }
}

/// A role as `local` evaluates it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicy {
    /// The role's template logical id.
    pub role: String,
    pub role_arn: String,
    pub statements: Vec<Statement>,
    /// Managed policies attached to the role: their documents are not in
    /// the template, so `local` cannot evaluate them.
    pub managed_policies: Vec<String>,
    /// Values of the policy the deployment could not resolve (that
    /// resource or condition value matches nothing).
    pub unresolved: Vec<String>,
}

/// What IAM decides, and what could not be known on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// Statements that would have applied but for a condition that cannot
    /// be decided locally (taken as not met), with the reason.
    pub undecided: Vec<(String, String)>,
    /// The condition keys those statements need and the context does not
    /// know (a caller may find some out and evaluate again).
    pub unknown_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed by these statements (indexes into `RolePolicy::statements`).
    Allowed(Vec<usize>),
    ExplicitlyDenied(usize),
    /// No statement allows it.
    ImplicitlyDenied,
}

impl RolePolicy {
    /// Adds the statements of one policy document (every value resolved).
    pub fn add_document(&mut self, policy: &str, document: &Value) {
        let statements = match &document["Statement"] {
            Value::Array(items) => items.clone(),
            single @ Value::Object(_) => vec![single.clone()],
            _ => Vec::new(),
        };
        for (index, s) in statements.iter().enumerate() {
            self.statements.push(parse_statement(policy, index, s));
        }
    }

    pub fn evaluate(&self, action: &str, resource: &str, context: &Context) -> Evaluation {
        let mut undecided = Vec::new();
        let mut unknown_keys = Vec::new();
        let mut allowed = Vec::new();
        for (i, statement) in self.statements.iter().enumerate() {
            match (statement.test(action, resource, context), statement.effect) {
                (Test::Met, Effect::Deny) => {
                    return Evaluation {
                        decision: Decision::ExplicitlyDenied(i),
                        undecided,
                        unknown_keys,
                    }
                }
                (Test::Met, Effect::Allow) => allowed.push(i),
                (Test::Unknown(why), _) => {
                    undecided.push((statement.label(), why));
                    unknown_keys.extend(statement.unknown_keys(context));
                }
                (Test::NotMet, _) => {}
            }
        }
        let decision = if allowed.is_empty() {
            Decision::ImplicitlyDenied
        } else {
            Decision::Allowed(allowed)
        };
        Evaluation {
            decision,
            undecided,
            unknown_keys,
        }
    }
}

fn parse_statement(policy: &str, index: usize, s: &Value) -> Statement {
    let either = |listed: &str, except: &str| match s.get(except) {
        Some(v) if s.get(listed).is_none() => Patterns::AllExcept(strings(v)),
        _ => Patterns::Listed(s.get(listed).map(strings).unwrap_or_default()),
    };
    Statement {
        sid: s["Sid"].as_str().map(str::to_string),
        policy: policy.to_string(),
        index,
        effect: if s["Effect"] == "Deny" {
            Effect::Deny
        } else {
            Effect::Allow
        },
        actions: either("Action", "NotAction"),
        resources: either("Resource", "NotResource"),
        conditions: s
            .get("Condition")
            .map(Condition::parse_block)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(statements: Value) -> RolePolicy {
        let mut r = RolePolicy::default();
        r.add_document("access", &json!({ "Statement": statements }));
        r
    }

    const OBJECT: &str = "arn:aws:s3:::b/images/x.jpg";

    #[test]
    fn an_allow_on_the_exact_resource_allows_and_another_resource_is_implicitly_denied() {
        let r = role(
            json!([{"Sid": "ReadB", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/images/*"]}]),
        );
        let ctx = Context::new();
        assert_eq!(
            r.evaluate("s3:GetObject", OBJECT, &ctx).decision,
            Decision::Allowed(vec![0])
        );
        assert_eq!(
            r.evaluate("s3:GetObject", "arn:aws:s3:::b/other/x", &ctx)
                .decision,
            Decision::ImplicitlyDenied
        );
        assert_eq!(
            r.evaluate("s3:PutObject", OBJECT, &ctx).decision,
            Decision::ImplicitlyDenied
        );
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow_in_any_order() {
        let r = role(json!([
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Sid": "NoDeletes", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": OBJECT}
        ]));
        assert_eq!(
            r.evaluate("s3:DeleteObject", OBJECT, &Context::new())
                .decision,
            Decision::ExplicitlyDenied(1)
        );
        assert_eq!(
            r.evaluate("s3:GetObject", OBJECT, &Context::new()).decision,
            Decision::Allowed(vec![0])
        );
    }

    #[test]
    fn not_action_and_not_resource_match_everything_but_what_they_list() {
        let r = role(
            json!([{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]),
        );
        let ctx = Context::new();
        assert!(matches!(
            r.evaluate("s3:GetObject", OBJECT, &ctx).decision,
            Decision::Allowed(_)
        ));
        assert_eq!(
            r.evaluate("IAM:PassRole", OBJECT, &ctx).decision,
            Decision::ImplicitlyDenied
        );
        assert_eq!(
            r.evaluate("s3:GetObject", "arn:aws:s3:::secret/k", &ctx)
                .decision,
            Decision::ImplicitlyDenied
        );
    }

    #[test]
    fn a_statement_whose_condition_cannot_be_decided_does_not_allow_and_says_why() {
        let r = role(
            json!([{"Sid": "ActOnInstances", "Effect": "Allow", "Action": "ec2:RebootInstances",
            "Resource": "arn:aws:ec2:eu-west-1:1:instance/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/fleet-console": "managed"}}}]),
        );
        let e = r.evaluate(
            "ec2:RebootInstances",
            "arn:aws:ec2:eu-west-1:1:instance/i-1",
            &Context::new(),
        );
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert_eq!(e.undecided[0].0, "ActOnInstances");
        assert!(
            e.undecided[0].1.contains("aws:ResourceTag/fleet-console"),
            "{e:?}"
        );
        assert_eq!(e.unknown_keys, vec!["aws:ResourceTag/fleet-console"]);
        let tagged = Context::new().with_resource_tags([("fleet-console", "managed")]);
        let e = r.evaluate(
            "ec2:RebootInstances",
            "arn:aws:ec2:eu-west-1:1:instance/i-1",
            &tagged,
        );
        assert_eq!(e.decision, Decision::Allowed(vec![0]));
        assert!(e.undecided.is_empty() && e.unknown_keys.is_empty(), "{e:?}");
    }

    #[test]
    fn a_statement_without_sid_is_named_by_its_place() {
        let r = role(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}));
        assert_eq!(r.statements[0].label(), "statement 1 of policy access");
    }
}
