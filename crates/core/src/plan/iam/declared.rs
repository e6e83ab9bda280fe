//! The statements of `access.actions`: each declared action on exactly the
//! ARNs of the parts of the named resource it acts on (the resource, a
//! table's indexes or streams, a bucket's objects under a prefix, …), one
//! statement per resource and set of parts; and the stack key through the
//! service where the resource is encrypted with it.

use super::super::refs::{get_att, sub};
use super::super::Planner;
use super::{statement, Value};
use crate::iam_actions::{self, Part, Scope, Target};
use crate::kinds::{self, SCHEDULE_GROUP, TABLE};
use crate::model::Access;
use crate::naming::pascal;
use serde_json::json;
use std::collections::BTreeMap;

impl Planner<'_> {
    /// The statements `access.actions` grants.
    pub(in crate::plan) fn declared_statements(&self, access: &Access) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        let mut sids: Vec<String> = Vec::new();
        // Services whose use of the stack key the declared actions need, in
        // the order the scopes list them.
        let mut key_for: Vec<&'static Scope> = Vec::new();
        for (key, actions) in &access.actions {
            // Validation proved the key names a resource of the stack and
            // every action acts on it.
            let Ok(target) = iam_actions::target(key) else {
                continue;
            };
            let mut groups: BTreeMap<Vec<Part>, Vec<String>> = BTreeMap::new();
            for action in actions {
                let Some(found) = iam_actions::find(action) else {
                    continue;
                };
                let parts = self.granted_parts(&target, target.scope.parts_of(found));
                if parts.is_empty() {
                    continue;
                }
                // The list's spelling where it knows AWS's, else the author's.
                let name = if found.spelled() {
                    found.full()
                } else {
                    action.clone()
                };
                groups.entry(parts).or_default().push(name);
            }
            let id = self.target_id(&target);
            for (parts, names) in &groups {
                let words: Vec<&str> = parts
                    .iter()
                    .map(|p| p.word())
                    .filter(|w| !w.is_empty())
                    .collect();
                let what = match (parts.first(), words.is_empty()) {
                    (Some(Part::Main), false) => format!("{id}And{}", words.join("And")),
                    _ => format!("{id}{}", words.join("And")),
                };
                let mut sid = format!("DeclaredActionsOn{what}");
                let mut n = 1;
                while sids.contains(&sid) {
                    n += 1;
                    sid = format!("DeclaredActionsOn{what}{n}");
                }
                sids.push(sid.clone());
                let resources = parts.iter().map(|p| self.part_arn(&target, *p)).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                out.push(statement(&sid, &names, resources));
            }
            let encrypted_content = match target.scope.section {
                "buckets" => {
                    self.bucket_uses_kms(target.name)
                        && groups.keys().any(|parts| parts.contains(&Part::Objects))
                }
                _ => !groups.is_empty(),
            };
            if !target.scope.key.is_empty()
                && encrypted_content
                && !key_for.iter().any(|s| s.section == target.scope.section)
            {
                key_for.push(target.scope);
            }
        }
        key_for.sort_by_key(|s| {
            iam_actions::SCOPES
                .iter()
                .position(|x| x.section == s.section)
        });
        for scope in key_for {
            out.push(self.key_via(
                &format!("UseStackKeyForDeclaredActionsOn{}", pascal(scope.section)),
                scope.key,
                scope.service,
            ));
        }
        out
    }

    /// The parts an action is granted on: a bucket's objects alone under a
    /// prefix, a table's streams only where it has one.
    fn granted_parts(&self, target: &Target, mut parts: Vec<Part>) -> Vec<Part> {
        if target.prefix.is_some() {
            parts.retain(|p| *p == Part::Objects);
        }
        if target.scope.section == TABLE.section {
            let streams = self
                .def
                .tables
                .get(target.name)
                .is_some_and(|t| t.stream.is_some());
            if !streams {
                parts.retain(|p| *p != Part::Streams);
            }
        }
        parts
    }

    /// The logical id of the named resource's main resource.
    fn target_id(&self, target: &Target) -> String {
        match kinds::by_section(target.scope.section) {
            Some(kind) => kind.logical_id(target.name),
            None => "UserPool".into(),
        }
    }

    /// The ARN of one part of the named resource.
    fn part_arn(&self, target: &Target, part: Part) -> Value {
        let name = target.name;
        if target.scope.section == SCHEDULE_GROUP.section {
            let group = self.schedule_group_name_sub(name);
            let base = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}";
            return match part {
                Part::Schedules => sub(format!("{base}:schedule/{group}/*")),
                _ => sub(format!("{base}:schedule-group/{group}")),
            };
        }
        let Some(kind) = kinds::by_section(target.scope.section) else {
            return get_att("UserPool", "Arn");
        };
        let arn = self.attribute_sub(kind, name, "arn");
        let main = || match arn.strip_prefix("${").and_then(|a| a.strip_suffix('}')) {
            Some(inner) if !inner.contains("${") => match inner.split_once('.') {
                Some((id, attr)) => get_att(id, attr),
                None => json!({ "Ref": inner }),
            },
            _ => sub(arn.clone()),
        };
        match part {
            Part::Main | Part::Schedules => main(),
            Part::Indexes => sub(format!("{arn}/index/*")),
            Part::Streams => sub(format!("{arn}/stream/*")),
            Part::Qualified => sub(format!("{arn}:*")),
            Part::Consumers => sub(format!("{arn}/consumer/*")),
            Part::Objects => {
                let prefix = target.prefix.unwrap_or_default().replace("${", "${!");
                sub(format!("{arn}/{prefix}*"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::StackSource;
    use crate::pipeline::{render_environment, Outcome};
    use crate::plan::CodeLocations;
    use crate::render::{Renderer, TemplateSet};
    use crate::source::SourceFile;
    use serde_json::{json, Value};

    /// The statements of function `api`'s role whose Sid names declared
    /// actions, and the warnings, for a stack whose `api` declares `access`.
    fn declared(stack: &str, access: &str) -> (Vec<Value>, Vec<String>) {
        let text = format!(
            "name: access\n{stack}functions:\n  api:\n    crate: api-handler\n    access:\n{access}"
        );
        let file = SourceFile {
            name: "access.yaml".into(),
            text,
        };
        let source = StackSource::parse(file).unwrap_or_else(|(_, d)| panic!("{d:#?}"));
        let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
        let outcome =
            render_environment(&source, "dev", &renderer, &CodeLocations::default()).unwrap();
        let (template, warnings) = match outcome {
            Outcome::Rendered {
                template, warnings, ..
            } => (template, warnings),
            Outcome::Invalid(d) => panic!("{d:#?}"),
        };
        let statements = template["Resources"]["ApiFunctionRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["Sid"]
                    .as_str()
                    .is_some_and(|sid| sid.contains("DeclaredActions"))
            })
            .cloned()
            .collect();
        let warnings = warnings
            .iter()
            .map(|w| format!("{} ({})", w.message, w.hint.clone().unwrap_or_default()))
            .collect();
        (statements, warnings)
    }

    fn key_via(sid: &str, actions: &[&str], service: &str) -> Value {
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": [{"Fn::GetAtt": ["StackKey", "Arn"]}],
            "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": format!("{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")}}}
        })
    }

    #[test]
    fn a_rotated_secret_gets_the_writing_calls_on_its_arn_and_the_key_through_secrets_manager() {
        let (statements, warnings) = declared(
            "secrets:\n  db: {value: out_of_band}\n",
            "      actions:\n        secrets.db: [secretsmanager:UpdateSecretVersionStage, secretsmanager:PutSecretValue, secretsmanager:ListSecretVersionIds]\n",
        );
        assert_eq!(warnings, Vec::<String>::new());
        assert_eq!(
            statements,
            vec![
                json!({
                    "Sid": "DeclaredActionsOnDbSecret",
                    "Effect": "Allow",
                    "Action": [
                        "secretsmanager:ListSecretVersionIds",
                        "secretsmanager:PutSecretValue",
                        "secretsmanager:UpdateSecretVersionStage"
                    ],
                    "Resource": [{"Ref": "DbSecret"}]
                }),
                key_via(
                    "UseStackKeyForDeclaredActionsOnSecrets",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    "secretsmanager"
                ),
            ]
        );
    }

    #[test]
    fn queue_and_stream_actions_go_to_the_queue_the_stream_or_its_consumers() {
        let (statements, warnings) = declared(
            "queues:\n  jobs: {}\nstreams:\n  clicks: {}\n",
            "      actions:\n        queues.jobs: [sqs:PurgeQueue, sqs:ChangeMessageVisibility]\n        streams.clicks: [kinesis:RegisterStreamConsumer, kinesis:SubscribeToShard, kinesis:DescribeStreamConsumer]\n",
        );
        assert_eq!(warnings, Vec::<String>::new());
        let stream_arn = json!({"Fn::GetAtt": ["ClicksStream", "Arn"]});
        assert_eq!(
            statements,
            vec![
                json!({
                    "Sid": "DeclaredActionsOnJobsQueue",
                    "Effect": "Allow",
                    "Action": ["sqs:ChangeMessageVisibility", "sqs:PurgeQueue"],
                    "Resource": [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnClicksStream",
                    "Effect": "Allow",
                    "Action": ["kinesis:RegisterStreamConsumer"],
                    "Resource": [stream_arn]
                }),
                json!({
                    "Sid": "DeclaredActionsOnClicksStreamConsumers",
                    "Effect": "Allow",
                    "Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
                    "Resource": [{"Fn::Sub": "${ClicksStream.Arn}/consumer/*"}]
                }),
                key_via(
                    "UseStackKeyForDeclaredActionsOnQueues",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    "sqs"
                ),
                key_via(
                    "UseStackKeyForDeclaredActionsOnStreams",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    "kinesis"
                ),
            ]
        );
    }

    #[test]
    fn table_actions_go_to_the_table_its_indexes_or_its_streams_as_each_acts() {
        let (statements, _) = declared(
            "tables:\n  orders:\n    partition_key: {name: id, type: S}\n    stream: new_image\n",
            "      actions:\n        tables.orders: [dynamodb:GetRecords, dynamodb:Query, dynamodb:DescribeTimeToLive, dynamodb:DescribeStream]\n",
        );
        assert_eq!(
            statements,
            vec![
                json!({
                    "Sid": "DeclaredActionsOnOrdersTable",
                    "Effect": "Allow",
                    "Action": ["dynamodb:DescribeTimeToLive"],
                    "Resource": [{"Fn::GetAtt": ["OrdersTable", "Arn"]}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnOrdersTableAndIndexes",
                    "Effect": "Allow",
                    "Action": ["dynamodb:Query"],
                    "Resource": [
                        {"Fn::GetAtt": ["OrdersTable", "Arn"]},
                        {"Fn::Sub": "${OrdersTable.Arn}/index/*"}
                    ]
                }),
                json!({
                    "Sid": "DeclaredActionsOnOrdersTableStreams",
                    "Effect": "Allow",
                    "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords"],
                    "Resource": [{"Fn::Sub": "${OrdersTable.Arn}/stream/*"}]
                }),
                key_via(
                    "UseStackKeyForDeclaredActionsOnTables",
                    &["kms:Decrypt"],
                    "dynamodb"
                ),
            ]
        );
    }

    #[test]
    fn bucket_actions_on_the_bucket_or_on_objects_under_a_prefix() {
        let (statements, _) = declared(
            "buckets:\n  files: {}\n",
            "      actions:\n        buckets.files: [s3:GetBucketTagging]\n        buckets.files/up/: [s3:PutObjectTagging, s3:GetObjectTagging]\n        buckets.files/down/: [s3:GetObjectTagging]\n",
        );
        let bucket =
            "arn:${AWS::Partition}:s3:::${AWS::StackName}-files-${AWS::AccountId}-${AWS::Region}";
        assert_eq!(
            statements,
            vec![
                json!({
                    "Sid": "DeclaredActionsOnFilesBucket",
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketTagging"],
                    "Resource": [{"Fn::Sub": bucket}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnFilesBucketObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObjectTagging", "s3:PutObjectTagging"],
                    "Resource": [{"Fn::Sub": format!("{bucket}/up/*")}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnFilesBucketObjects2",
                    "Effect": "Allow",
                    "Action": ["s3:GetObjectTagging"],
                    "Resource": [{"Fn::Sub": format!("{bucket}/down/*")}]
                }),
                key_via(
                    "UseStackKeyForDeclaredActionsOnBuckets",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    "s3"
                ),
            ]
        );
    }

    #[test]
    fn functions_groups_and_the_user_pool_by_their_arns() {
        let (statements, warnings) = declared(
            "user_pool: {}\nqueues:\n  failed: {}\nschedule_groups:\n  jobs: {targets: [api]}\n",
            "      actions:\n        functions.api: [lambda:getfunctionconfiguration, lambda:GetProvisionedConcurrencyConfig]\n        schedule_groups.jobs: [scheduler:GetScheduleGroup]\n        user_pool: [cognito-idp:AdminAddUserToGroup]\n    async: {on_failure: {queue: failed}}\n",
        );
        let function = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${AWS::StackName}-api";
        assert_eq!(
            statements,
            vec![
                json!({
                    "Sid": "DeclaredActionsOnApiFunction",
                    "Effect": "Allow",
                    "Action": ["lambda:GetFunctionConfiguration"],
                    "Resource": [{"Fn::Sub": function}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnApiFunctionVersionsAndAliases",
                    "Effect": "Allow",
                    "Action": ["lambda:GetProvisionedConcurrencyConfig"],
                    "Resource": [{"Fn::Sub": format!("{function}:*")}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnJobsScheduleGroup",
                    "Effect": "Allow",
                    "Action": ["scheduler:GetScheduleGroup"],
                    "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/${AWS::StackName}-jobs"}]
                }),
                json!({
                    "Sid": "DeclaredActionsOnUserPool",
                    "Effect": "Allow",
                    "Action": ["cognito-idp:AdminAddUserToGroup"],
                    "Resource": [{"Fn::GetAtt": ["UserPool", "Arn"]}]
                }),
            ]
        );
        assert_eq!(
            warnings,
            ["`lambda:getfunctionconfiguration` is spelled `lambda:GetFunctionConfiguration` (write it as AWS does (IAM ignores the case of actions; the policy uses AWS's spelling))"]
        );
    }

    #[test]
    fn an_action_a_level_already_grants_or_listed_twice_is_a_warning() {
        let (statements, warnings) = declared(
            "secrets:\n  db: {value: out_of_band}\ntables:\n  t: {partition_key: {name: id, type: S}}\n",
            "      secrets: [db]\n      tables: {t: read}\n      actions:\n        secrets.db: [secretsmanager:GetSecretValue, secretsmanager:PutSecretValue, secretsmanager:PutSecretValue]\n        tables.t: [dynamodb:Query, dynamodb:PutItem]\n",
        );
        assert_eq!(
            warnings,
            [
                "`secretsmanager:GetSecretValue` on `secrets.db` is already granted by `access.secrets: [db]` (remove it from `access.actions`)",
                "`secretsmanager:PutSecretValue` is listed twice under `secrets.db` (remove one)",
                "`dynamodb:Query` on `tables.t` is already granted by `access.tables: {t: read}` (remove it from `access.actions`)",
            ]
        );
        assert_eq!(
            statements[0]["Action"],
            json!([
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue"
            ])
        );
    }
}
