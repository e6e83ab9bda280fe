//! The built-in templates (compiled into the binary) and user overrides.
//!
//! Each registry kind brings its own template ([`crate::kinds`]); the others
//! are listed here: templates of kinds not on the registry yet, the partials
//! every kind shares, and the account-settings stack's.

use super::RenderError;
use std::collections::BTreeMap;

/// Built-in templates that are no registry kind's, by name.
const OTHER_TEMPLATES: [(&str, &str); 17] = [
    (
        "account_settings",
        include_str!("../../templates/account_settings.yaml"),
    ),
    (
        "amplify_app",
        include_str!("../../templates/amplify_app.yaml"),
    ),
    (
        "cloudfront_distribution",
        include_str!("../../templates/cloudfront_distribution.yaml"),
    ),
    (
        "cloudwatch_alarm",
        include_str!("../../templates/cloudwatch_alarm.yaml"),
    ),
    (
        "cloudwatch_dashboard",
        include_str!("../../templates/cloudwatch_dashboard.yaml"),
    ),
    (
        "cognito_user_pool",
        include_str!("../../templates/cognito_user_pool.yaml"),
    ),
    ("http_api", include_str!("../../templates/http_api.yaml")),
    (
        "invoke_permission",
        include_str!("../../templates/invoke_permission.yaml"),
    ),
    (
        "http_api_route",
        include_str!("../../templates/http_api_route.yaml"),
    ),
    ("kms_key", include_str!("../../templates/kms_key.yaml")),
    ("log_group", include_str!("../../templates/log_group.yaml")),
    ("rest_api", include_str!("../../templates/rest_api.yaml")),
    (
        "rest_api_cors",
        include_str!("../../templates/rest_api_cors.yaml"),
    ),
    (
        "rest_api_method",
        include_str!("../../templates/rest_api_method.yaml"),
    ),
    ("schedule", include_str!("../../templates/schedule.yaml")),
    (
        "service_role",
        include_str!("../../templates/service_role.yaml"),
    ),
    (
        "waf_web_acl",
        include_str!("../../templates/waf_web_acl.yaml"),
    ),
];

/// Every built-in template, by name: each registry kind's, then the others.
pub fn builtin_templates() -> impl Iterator<Item = (&'static str, &'static str)> + Clone {
    crate::kinds::KINDS
        .into_iter()
        .map(|kind| kind.template)
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
