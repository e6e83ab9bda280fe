//! References and physical names as CloudFormation values.
//!
//! Buckets and functions are referred to by constructed names and ARNs
//! (their names are fixed by the stack file), not by `Ref`, so that a bucket
//! notifying a function that reads it, or CORS naming the distribution that
//! serves the bucket, never forms a dependency cycle.

use super::Planner;
use crate::kinds::{self, Attribute, Kind, PhysicalName, API, BUCKET, FUNCTION, SCHEDULE_GROUP};
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
        self.physical_name_sub(&FUNCTION, name)
    }

    pub(super) fn function_arn_sub(&self, name: &str) -> String {
        self.attribute_sub(&FUNCTION, name, "arn")
    }

    pub(super) fn bucket_name_sub(&self, name: &str) -> String {
        self.physical_name_sub(&BUCKET, name)
    }

    pub(super) fn bucket_arn_sub(&self, name: &str) -> String {
        self.attribute_sub(&BUCKET, name, "arn")
    }

    pub(super) fn schedule_group_name_sub(&self, name: &str) -> String {
        self.physical_name_sub(&SCHEDULE_GROUP, name)
    }

    /// The physical name of entry `name` of a registry kind, as an `Fn::Sub`
    /// body. A kind AWS does not name has none to ask for (a registry test
    /// holds its attributes to that); the registry's usual pattern stands in.
    pub(super) fn physical_name_sub(&self, kind: &Kind, name: &str) -> String {
        match &kind.physical_name {
            Some(physical) => self.fitted_name_sub(physical, name),
            None => self.name_sub("{stack}-{name}", name),
        }
    }

    /// A physical name as an `Fn::Sub` body: the entry's own pattern, or the
    /// default fitted to AWS's limit (the same name validation measured).
    pub(super) fn fitted_name_sub(&self, physical: &PhysicalName, name: &str) -> String {
        self.name_sub(&physical.fitted(self.def, self.env, name), name)
    }

    /// The `Fn::Sub` text a reference to an entry of a registry kind stands for.
    pub(super) fn attribute_sub(&self, kind: &Kind, name: &str, attribute: &str) -> String {
        let id = kind.logical_id(name);
        // Validation proved the attribute is one the kind gives.
        match kind.attribute(attribute).unwrap_or(Attribute::Ref) {
            Attribute::Ref => format!("${{{id}}}"),
            Attribute::GetAtt(attr) => format!("${{{id}.{attr}}}"),
            Attribute::GetAttOf(suffix, attr) => format!("${{{id}{suffix}.{attr}}}"),
            Attribute::RefOf(suffix) => format!("${{{id}{suffix}}}"),
            Attribute::Name => self.physical_name_sub(kind, name),
            Attribute::Sub(text) => {
                let text = text.replace("{id}", &id);
                if text.contains("{name}") {
                    text.replace("{name}", &self.physical_name_sub(kind, name))
                } else {
                    text
                }
            }
            Attribute::FromEntry(value) => value(self.def, self.env, name),
        }
    }

    /// The kind of API `name` (validation proved it exists; HTTP otherwise).
    pub(super) fn api_kind(&self, name: &str) -> ApiKind {
        self.def
            .apis
            .get(name)
            .map_or(ApiKind::Http, |api| api.kind)
    }

    pub(super) fn api_url_sub(&self, name: &str) -> String {
        self.attribute_sub(&API, name, "url")
    }

    pub(super) fn rest_stage_name(&self, name: &str) -> String {
        kinds::rest_stage_name(self.def, self.env, name)
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
            (Section::Kind(kind), _) => self.attribute_sub(kind, n, attr),
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
            (Section::External, "name") => self.external_name_sub(n),
            (Section::External, _) => self.external_arn_sub(n),
            (Section::Encryption, "key_arn") => "${StackKey.Arn}".into(),
            (Section::Encryption, _) => "${StackKey}".into(),
        }
    }

    /// A stack-file string as a CloudFormation value: plain text stays a
    /// string, text with references becomes `Fn::Sub`.
    pub(super) fn text_value(&self, text: &str) -> Value {
        // Validation proved every reference parses; text that did not would
        // stay the literal text it is.
        let Ok(pieces) = reference::parse(text) else {
            return Value::String(text.to_string());
        };
        if pieces.iter().all(|p| matches!(p, Piece::Text(_))) {
            let literal = pieces.into_iter().filter_map(|p| match p {
                Piece::Text(t) => Some(t),
                Piece::Ref(_) => None,
            });
            return Value::String(literal.collect());
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
