//! The built-in templates (compiled into the binary) and user overrides.

use super::RenderError;
use std::collections::BTreeMap;

/// Every built-in template, by kind.
pub const BUILTIN_TEMPLATES: [(&str, &str); 20] = [
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
    (
        "dynamodb_table",
        include_str!("../../templates/dynamodb_table.yaml"),
    ),
    ("http_api", include_str!("../../templates/http_api.yaml")),
    (
        "http_api_route",
        include_str!("../../templates/http_api_route.yaml"),
    ),
    ("kms_key", include_str!("../../templates/kms_key.yaml")),
    (
        "lambda_function",
        include_str!("../../templates/lambda_function.yaml"),
    ),
    ("rest_api", include_str!("../../templates/rest_api.yaml")),
    (
        "rest_api_cors",
        include_str!("../../templates/rest_api_cors.yaml"),
    ),
    (
        "rest_api_method",
        include_str!("../../templates/rest_api_method.yaml"),
    ),
    ("s3_bucket", include_str!("../../templates/s3_bucket.yaml")),
    ("schedule", include_str!("../../templates/schedule.yaml")),
    (
        "schedule_group",
        include_str!("../../templates/schedule_group.yaml"),
    ),
    ("secret", include_str!("../../templates/secret.yaml")),
    ("sns_topic", include_str!("../../templates/sns_topic.yaml")),
    (
        "waf_web_acl",
        include_str!("../../templates/waf_web_acl.yaml"),
    ),
];

/// Templates by name: the built-in ones, some possibly overridden.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    templates: BTreeMap<String, String>,
}

impl TemplateSet {
    pub fn builtin() -> Self {
        TemplateSet {
            templates: BUILTIN_TEMPLATES
                .iter()
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
                    crate::diagnostic::suggestion(&name, BUILTIN_TEMPLATES.iter().map(|(n, _)| *n))
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
