//! The built-in templates (compiled into the binary) and user overrides.
//!
//! Each registry kind brings its own template ([`crate::kinds`]); the others
//! are listed here: the singletons' (user pool, frontend, dashboard, stack
//! key), the partials every kind shares, and the account-settings stack's.

use super::RenderError;
use std::collections::BTreeMap;

/// Built-in templates that are no registry kind's, by name.
const OTHER_TEMPLATES: [(&str, &str); 10] = [
    (
        "account_settings",
        include_str!("../../templates/account_settings.yaml"),
    ),
    (
        "amplify_app",
        include_str!("../../templates/amplify_app.yaml"),
    ),
    (
        "cloudwatch_dashboard",
        include_str!("../../templates/cloudwatch_dashboard.yaml"),
    ),
    (
        "cognito_user_pool",
        include_str!("../../templates/cognito_user_pool.yaml"),
    ),
    (
        "invoke_permission",
        include_str!("../../templates/invoke_permission.yaml"),
    ),
    ("kms_key", include_str!("../../templates/kms_key.yaml")),
    ("log_group", include_str!("../../templates/log_group.yaml")),
    // A function's subscription to a log group of the stack, with its permission.
    (
        "log_subscription",
        include_str!("../../templates/log_subscription.yaml"),
    ),
    (
        "service_role",
        include_str!("../../templates/service_role.yaml"),
    ),
    // One per queue that topics or rules send to: every sender's statement.
    (
        "sqs_queue_policy",
        include_str!("../../templates/sqs_queue_policy.yaml"),
    ),
];

/// Every built-in template, by name: each registry kind's, then the others.
pub fn builtin_templates() -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
    crate::kinds::KINDS
        .into_iter()
        .flat_map(|kind| kind.templates())
        .chain(OTHER_TEMPLATES)
}

/// Templates by name: the built-in ones, some possibly overridden.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    templates: BTreeMap<String, String>,
}

impl TemplateSet {
    pub fn builtin() -> Self {
        TemplateSet {
            templates: builtin_templates()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        }
    }

    /// Replaces built-in templates by name (the file name without `.yaml`).
    pub fn with_overrides(
        mut self,
        overrides: BTreeMap<String, String>,
    ) -> Result<Self, RenderError> {
        for (name, text) in overrides {
            if !self.templates.contains_key(&name) {
                let hint =
                    crate::diagnostic::suggestion(&name, builtin_templates().map(|(n, _)| n))
                        .unwrap_or_default();
                return Err(RenderError::UnknownOverride { name, hint });
            }
            self.templates.insert(name, text);
        }
        Ok(self)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.templates.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }
}
