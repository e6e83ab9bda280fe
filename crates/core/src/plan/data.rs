//! Tables, buckets, secrets, topics and schedule groups.

use super::refs::{get_att, reference, sub};
use super::{entity, iam, Planner};
use crate::kinds::{
    BUCKET, DISTRIBUTION, FUNCTION, GROUP_DEAD_LETTER_QUEUE_NAME, SCHEDULE_GROUP, SECRET, TABLE,
    TOPIC,
};
use crate::model::{Billing, BucketEvent, KeyAttribute, Projection, SecretValue};
use serde_json::{json, Value};

fn key_schema(pk: &KeyAttribute, sk: Option<&KeyAttribute>) -> Value {
    let mut schema = vec![json!({"AttributeName": pk.name, "KeyType": "HASH"})];
    if let Some(sk) = sk {
        schema.push(json!({"AttributeName": sk.name, "KeyType": "RANGE"}));
    }
    Value::Array(schema)
}

impl Planner<'_> {
    pub(super) fn tables(&mut self) {
        for (name, t) in &self.def.tables {
            let id = TABLE.logical_id(name);
            let mut attributes: Vec<&KeyAttribute> = vec![&t.partition_key];
            attributes.extend(t.sort_key.iter());
            for index in t.indexes.values() {
                attributes.push(&index.partition_key);
                attributes.extend(index.sort_key.iter());
            }
            let mut seen = Vec::new();
            let attribute_definitions: Vec<Value> = attributes
                .into_iter()
                .filter(|a| {
                    let new = !seen.contains(&a.name);
                    seen.push(a.name.clone());
                    new
                })
                .map(|a| json!({"AttributeName": a.name, "AttributeType": a.kind.as_str()}))
                .collect();
            let capacity = match &t.billing {
                Some(Billing::Provisioned(c)) => Some(*c),
                _ => None,
            };
            let throughput = |c: Option<crate::model::Capacity>| {
                c.map(|c| json!({"ReadCapacityUnits": c.read, "WriteCapacityUnits": c.write}))
            };
            let indexes: Vec<Value> = t
                .indexes
                .iter()
                .map(|(iname, index)| {
                    let projection = match index.projection.clone().unwrap_or(Projection::All) {
                        Projection::All => json!({"ProjectionType": "ALL"}),
                        Projection::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
                        Projection::Include(attrs) => {
                            json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": attrs})
                        }
                    };
                    let mut gsi = json!({
                        "IndexName": iname,
                        "KeySchema": key_schema(&index.partition_key, index.sort_key.as_ref()),
                        "Projection": projection,
                    });
                    // Only provisioned tables give index throughput: DynamoDB refuses it
                    // on on-demand tables, and CloudFormation refuses a null.
                    if let Some(t) = throughput(index.capacity.or(capacity)) {
                        gsi["ProvisionedThroughput"] = t;
                    }
                    gsi
                })
                .collect();
            let view = json!({
                "id": id,
                "table_name": sub(self.physical_name_sub(&TABLE, name)),
                "attributes": attribute_definitions,
                "key_schema": key_schema(&t.partition_key, t.sort_key.as_ref()),
                "billing_mode": if capacity.is_some() { "PROVISIONED" } else { "PAY_PER_REQUEST" },
                "throughput": throughput(capacity),
                "indexes": if indexes.is_empty() { Value::Null } else { Value::Array(indexes) },
                "ttl_attribute": t.ttl_attribute,
                "pitr": t.point_in_time_recovery.unwrap_or(true),
                "stream": t.stream.map(|s| s.cloudformation()),
                "deletion_protection": t.deletion_protection.unwrap_or(self.retain()),
            });
            self.push(TABLE.template.0, entity(TABLE.section, name), view);
            self.output(
                format!("{id}Name"),
                format!("Name of table {name}"),
                reference(&id),
            );
        }
    }

    pub(super) fn buckets(&mut self) {
        for (name, b) in &self.def.buckets {
            let id = BUCKET.logical_id(name);
            let lifecycle: Vec<Value> = b
                .lifecycle
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut rule = json!({"Id": format!("rule-{i}"), "Status": "Enabled"});
                    if let Some(p) = &r.prefix {
                        rule["Prefix"] = json!(p);
                    }
                    if !r.transitions.is_empty() {
                        rule["Transitions"] = r.transitions.iter().map(|t| json!({"StorageClass": t.storage_class.cloudformation(), "TransitionInDays": t.after_days})).collect();
                    }
                    if let Some(d) = r.expire_after_days {
                        rule["ExpirationInDays"] = json!(d);
                    }
                    if let Some(d) = r.noncurrent_expire_after_days {
                        rule["NoncurrentVersionExpiration"] = json!({"NoncurrentDays": d});
                    }
                    rule
                })
                .chain(std::iter::once(json!({"Id": "abort-incomplete-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}})))
                .collect();
            let cors = b.cors.as_ref().map(|c| {
                let mut rule = json!({
                    "AllowedOrigins": c.allow_origins.iter().map(|o| self.text_value(o)).collect::<Vec<_>>(),
                    "AllowedMethods": c.allow_methods,
                });
                if !c.allow_headers.is_empty() {
                    rule["AllowedHeaders"] = json!(c.allow_headers);
                }
                if !c.expose_headers.is_empty() {
                    rule["ExposedHeaders"] = json!(c.expose_headers);
                }
                if let Some(age) = c.max_age_seconds {
                    rule["MaxAge"] = json!(age);
                }
                json!({"CorsRules": [rule]})
            });
            let notifications: Vec<Value> = b
                .notifications
                .iter()
                .flat_map(|n| {
                    let events = n.events.clone().unwrap_or_else(|| vec![BucketEvent::ObjectCreated]);
                    events.into_iter().map(move |e| (n, e))
                })
                .map(|(n, e)| {
                    let mut filter = Vec::new();
                    if let Some(p) = &n.prefix {
                        filter.push(json!({"Name": "prefix", "Value": p}));
                    }
                    if let Some(s) = &n.suffix {
                        filter.push(json!({"Name": "suffix", "Value": s}));
                    }
                    let mut conf = json!({
                        "Event": match e { BucketEvent::ObjectCreated => "s3:ObjectCreated:*", BucketEvent::ObjectRemoved => "s3:ObjectRemoved:*" },
                        "Function": get_att(&FUNCTION.logical_id(&n.function), "Arn"),
                    });
                    if !filter.is_empty() {
                        conf["Filter"] = json!({"S3Key": {"Rules": filter}});
                    }
                    conf
                })
                .collect();
            let mut notified: Vec<&String> = b.notifications.iter().map(|n| &n.function).collect();
            notified.dedup();
            let permissions: Vec<Value> = notified
                .into_iter()
                .map(|f| {
                    json!({
                        "id": format!("{id}Invokes{}", FUNCTION.logical_id(f)),
                        "function": get_att(&FUNCTION.logical_id(f), "Arn"),
                    })
                })
                .collect();
            let kms = self.bucket_uses_kms(name);
            let view = json!({
                "id": id,
                "policy_id": format!("{id}Policy"),
                "bucket_name": sub(self.bucket_name_sub(name)),
                "bucket_arn": sub(self.bucket_arn_sub(name)),
                "versioning": b.versioning.unwrap_or(true),
                "kms": kms,
                "lifecycle": lifecycle,
                "cors": cors,
                "notifications": if notifications.is_empty() { Value::Null } else { Value::Array(notifications) },
                "permissions": permissions,
                "served_by": self.cdn_grants(name),
            });
            self.push(BUCKET.template.0, entity(BUCKET.section, name), view);
            self.output(
                format!("{id}Name"),
                format!("Name of bucket {name}"),
                reference(&id),
            );
        }
    }

    /// Distributions that read `bucket`, as source ARNs for its policy.
    fn cdn_grants(&self, bucket: &str) -> Vec<Value> {
        self.def
            .distributions
            .iter()
            .filter(|(_, d)| d.origin == bucket || d.behaviors.values().any(|b| b.bucket == bucket))
            .map(|(name, _)| {
                sub(format!(
                    "arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{}}}",
                    DISTRIBUTION.logical_id(name)
                ))
            })
            .collect()
    }

    pub(super) fn secrets(&mut self) {
        for (name, s) in &self.def.secrets {
            let id = SECRET.logical_id(name);
            let generate = match &s.value {
                SecretValue::OutOfBand => json!({"PasswordLength": 32, "ExcludePunctuation": true}),
                SecretValue::Generate(g) => {
                    let mut spec = json!({"PasswordLength": g.length.unwrap_or(32), "ExcludePunctuation": g.exclude_punctuation.unwrap_or(false)});
                    if !g.json_fields.is_empty() {
                        spec["SecretStringTemplate"] = json!(json!(g.json_fields).to_string());
                        spec["GenerateStringKey"] = json!(g.key.as_deref().unwrap_or("password"));
                    }
                    spec
                }
            };
            let description = s.description.clone().unwrap_or_else(|| match s.value {
                SecretValue::OutOfBand => format!(
                    "{name}: set the value out of band with `aws secretsmanager put-secret-value`"
                ),
                SecretValue::Generate(_) => format!("{name}: generated by Secrets Manager"),
            });
            let view = json!({
                "id": id,
                "secret_name": sub(self.physical_name_sub(&SECRET, name)),
                "description": description,
                "generate": generate,
                "out_of_band": matches!(s.value, SecretValue::OutOfBand),
            });
            self.push(SECRET.template.0, entity(SECRET.section, name), view);
            self.output(
                format!("{id}Arn"),
                format!("ARN of secret {name} (not its value)"),
                reference(&id),
            );
        }
    }

    pub(super) fn topics(&mut self) {
        for (name, t) in &self.def.topics {
            let id = TOPIC.logical_id(name);
            let view = json!({
                "id": id,
                "topic_name": sub(self.physical_name_sub(&TOPIC, name)),
                "display_name": t.display_name,
                "subscriptions": t.email.iter().enumerate().map(|(i, e)| json!({"id": format!("{id}Email{i}"), "email": e})).collect::<Vec<_>>(),
            });
            self.push(TOPIC.template.0, entity(TOPIC.section, name), view);
            self.output(
                format!("{id}Arn"),
                format!("ARN of topic {name}"),
                reference(&id),
            );
        }
    }

    pub(super) fn schedule_groups(&mut self) {
        for (name, g) in &self.def.schedule_groups {
            let id = SCHEDULE_GROUP.logical_id(name);
            let dead_letter = g.dead_letter.as_ref().map(|d| {
                json!({
                    "id": format!("{id}DeadLetterQueue"),
                    "queue_name": sub(self.fitted_name_sub(&GROUP_DEAD_LETTER_QUEUE_NAME, name)),
                    "retention_seconds": u64::from(d.retention()) * 24 * 60 * 60,
                })
            });
            let view = json!({
                "id": id,
                "group_name": sub(self.schedule_group_name_sub(name)),
                "role_id": format!("{id}Role"),
                "trust": iam::trust_from_account("scheduler.amazonaws.com"),
                "policy": iam::policy(self.schedule_group_statements(name, g)),
                "dead_letter": dead_letter,
            });
            self.push(
                SCHEDULE_GROUP.template.0,
                entity(SCHEDULE_GROUP.section, name),
                view,
            );
            self.output(
                format!("{id}Name"),
                format!("Name of schedule group {name}"),
                reference(&id),
            );
            self.output(
                format!("{id}RoleArn"),
                format!("Role that schedules in {name} run as"),
                get_att(&format!("{id}Role"), "Arn"),
            );
            if g.dead_letter.is_some() {
                self.output(
                    format!("{id}DeadLetterQueueArn"),
                    format!("Dead-letter queue of the schedules in {name}"),
                    get_att(&format!("{id}DeadLetterQueue"), "Arn"),
                );
            }
        }
    }
}
