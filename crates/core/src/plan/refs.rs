//! References and physical names as CloudFormation values.
//!
//! Buckets and functions are referred to by constructed names and ARNs
//! (their names are fixed by the stack file), not by `Ref`, so that a bucket
//! notifying a function that reads it, or CORS naming the distribution that
//! serves the bucket, never forms a dependency cycle.

use super::Planner;
use crate::model::ApiKind;
use crate::naming::{logical_id, to_sub, NameContext};
use crate::reference::{self, Piece, Reference, Section};
use serde_json::{json, Value};

impl Planner<'_> {
    pub(super) fn name_ctx<'n>(&'n self, name: &'n str) -> NameContext<'n> {
        NameContext {
            app: &self.def.name,
            env: self.env,
            name,
        }
    }

    /// A physical-name pattern as an `Fn::Sub` body.
    pub(super) fn name_sub(&self, pattern: &str, name: &str) -> String {
        to_sub(pattern, &self.name_ctx(name))
    }

    pub(super) fn function_name_sub(&self, name: &str) -> String {
        let pattern = self.def.functions[name]
            .function_name
            .as_deref()
            .unwrap_or("{stack}-{name}");
        self.name_sub(pattern, name)
    }

    pub(super) fn function_arn_sub(&self, name: &str) -> String {
        format!(
            "arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{}",
            self.function_name_sub(name)
        )
    }

    pub(super) fn bucket_name_sub(&self, name: &str) -> String {
        let pattern = self.def.buckets[name]
            .bucket_name
            .as_deref()
            .unwrap_or("{stack}-{name}-{account}-{region}");
        self.name_sub(pattern, name)
    }

    pub(super) fn bucket_arn_sub(&self, name: &str) -> String {
        format!(
            "arn:${{AWS::Partition}}:s3:::{}",
            self.bucket_name_sub(name)
        )
    }

    pub(super) fn schedule_group_name_sub(&self, name: &str) -> String {
        let pattern = self.def.schedule_groups[name]
            .group_name
            .as_deref()
            .unwrap_or("{stack}-{name}");
        self.name_sub(pattern, name)
    }

    pub(super) fn secret_name_sub(&self, name: &str) -> String {
        let pattern = self.def.secrets[name]
            .secret_name
            .as_deref()
            .unwrap_or("{stack}/{name}");
        self.name_sub(pattern, name)
    }

    pub(super) fn api_url_sub(&self, name: &str) -> String {
        let api = &self.def.apis[name];
        let id = logical_id(name, "Api");
        match api.kind {
            ApiKind::Http => {
                format!("https://${{{id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}")
            }
            ApiKind::Rest => format!(
                "https://${{{id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{}",
                self.rest_stage_name(name)
            ),
        }
    }

    pub(super) fn rest_stage_name(&self, name: &str) -> String {
        self.def.apis[name]
            .stage_name
            .clone()
            .unwrap_or_else(|| self.env.replace('-', "_"))
    }

    pub(super) fn frontend_branch(&self) -> String {
        self.def
            .frontend
            .as_ref()
            .and_then(|f| f.branch.clone())
            .unwrap_or_else(|| self.env.to_string())
    }

    /// The `Fn::Sub` text a reference stands for.
    fn reference_sub(&self, r: &Reference) -> String {
        let n = r.name.as_str();
        let attr = r.attr.as_str();
        match (r.section, attr) {
            (Section::Tables, "name") => format!("${{{}}}", logical_id(n, "Table")),
            (Section::Tables, "arn") => format!("${{{}.Arn}}", logical_id(n, "Table")),
            (Section::Tables, _) => format!("${{{}.StreamArn}}", logical_id(n, "Table")),
            (Section::Buckets, "name") => self.bucket_name_sub(n),
            (Section::Buckets, "arn") => self.bucket_arn_sub(n),
            (Section::Buckets, _) => format!(
                "{}.s3.${{AWS::Region}}.${{AWS::URLSuffix}}",
                self.bucket_name_sub(n)
            ),
            (Section::Secrets, "arn") => format!("${{{}}}", logical_id(n, "Secret")),
            (Section::Secrets, _) => self.secret_name_sub(n),
            (Section::Functions, "name") => self.function_name_sub(n),
            (Section::Functions, _) => self.function_arn_sub(n),
            (Section::Topics, "arn") => format!("${{{}}}", logical_id(n, "Topic")),
            (Section::Topics, _) => format!("${{{}.TopicName}}", logical_id(n, "Topic")),
            (Section::ScheduleGroups, "name") => self.schedule_group_name_sub(n),
            (Section::ScheduleGroups, _) => {
                format!("${{{}.Arn}}", logical_id(n, "ScheduleGroupRole"))
            }
            (Section::Apis, "url") => self.api_url_sub(n),
            (Section::Apis, _) => format!("${{{}}}", logical_id(n, "Api")),
            (Section::Distributions, "domain") => {
                format!("${{{}.DomainName}}", logical_id(n, "Distribution"))
            }
            (Section::Distributions, "url") => {
                format!("https://${{{}.DomainName}}", logical_id(n, "Distribution"))
            }
            (Section::Distributions, _) => format!("${{{}}}", logical_id(n, "Distribution")),
            (Section::UserPool, "id") => "${UserPool}".into(),
            (Section::UserPool, "arn") => "${UserPool.Arn}".into(),
            (Section::UserPool, "issuer") => {
                "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${UserPool}".into()
            }
            (Section::UserPool, _) => "${UserPool.ProviderName}".into(),
            (Section::UserPoolClients, _) => format!("${{{}}}", logical_id(n, "UserPoolClient")),
            (Section::Frontend, "url") => format!(
                "https://{}.${{FrontendApp.DefaultDomain}}",
                self.frontend_branch()
            ),
            (Section::Frontend, "app_id") => "${FrontendApp.AppId}".into(),
            (Section::Frontend, _) => "${FrontendApp.DefaultDomain}".into(),
            (Section::Stack, "name") => "${AWS::StackName}".into(),
            (Section::Stack, "env") => self.env.to_string(),
            (Section::Stack, _) => self.def.name.clone(),
            (Section::Aws, "region") => "${AWS::Region}".into(),
            (Section::Aws, "account_id") => "${AWS::AccountId}".into(),
            (Section::Aws, "partition") => "${AWS::Partition}".into(),
            (Section::Aws, _) => "${AWS::URLSuffix}".into(),
            (Section::Encryption, "key_arn") => "${StackKey.Arn}".into(),
            (Section::Encryption, _) => "${StackKey}".into(),
        }
    }

    /// A stack-file string as a CloudFormation value: plain text stays a
    /// string, text with references becomes `Fn::Sub`.
    pub(super) fn text_value(&self, text: &str) -> Value {
        let pieces = reference::parse(text).expect("validated before planning");
        if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
            return Value::String(
                pieces
                    .into_iter()
                    .map(|p| {
                        if let Piece::Text(t) = p {
                            t
                        } else {
                            unreachable!()
                        }
                    })
                    .collect(),
            );
        }
        let body: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.replace("${", "${!"),
                Piece::Ref(r) => self.reference_sub(r),
            })
            .collect();
        sub(body)
    }
}

/// `{"Fn::Sub": body}`, or the plain string when nothing is substituted.
pub fn sub(body: String) -> Value {
    if body.contains("${") && !only_escapes(&body) {
        json!({ "Fn::Sub": body })
    } else {
        Value::String(body.replace("${!", "${"))
    }
}

fn only_escapes(body: &str) -> bool {
    body.match_indices("${")
        .all(|(i, _)| body[i..].starts_with("${!"))
}

pub fn get_att(id: &str, attr: &str) -> Value {
    json!({ "Fn::GetAtt": [id, attr] })
}

pub fn reference(id: &str) -> Value {
    json!({ "Ref": id })
}
