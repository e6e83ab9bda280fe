//! Resources a stack uses but does not own (`external:`): found by ARN, by
//! name, through another stack's exported output or through an SSM
//! parameter, and granted to functions with the same least-privilege
//! levels as the stack's own resources.

use schemars::JsonSchema;
use serde::Deserialize;

/// An existing resource of another stack or team. Name exactly one of
/// `arn`, `name`, `export` and `ssm_parameter`; stackctl never creates,
/// changes or deletes it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: ExternalKind,
    /// Its ARN, written out (`arn:aws:dynamodb:eu-west-1:123456789012:table/orders`).
    #[serde(default)]
    pub arn: Option<String>,
    /// Its name in the stack's own account and region (a secret's name
    /// without the six characters Secrets Manager appends).
    #[serde(default)]
    pub name: Option<String>,
    /// The name another stack exports its ARN under (an output's
    /// `Export.Name`): CloudFormation reads it with `Fn::ImportValue`, and
    /// refuses to delete the export while this stack uses it.
    #[serde(default)]
    pub export: Option<String>,
    /// An SSM parameter (String) holding its ARN, read by CloudFormation at
    /// each deploy (a template parameter of type
    /// `AWS::SSM::Parameter::Value<String>`).
    #[serde(default)]
    pub ssm_parameter: Option<String>,
    /// The customer managed KMS key it is encrypted with, as a key ARN
    /// (`arn:aws:kms:REGION:ACCOUNT:key/ID`; IAM does not match aliases):
    /// functions granted access may use it through the resource's service.
    #[serde(default)]
    pub key_arn: Option<String>,
    /// For an external topic: functions and queues of this stack it
    /// delivers to, as `topics.NAME.subscriptions` (the topic's owner must
    /// allow this account to subscribe when the topic is in another one).
    #[serde(default)]
    pub subscriptions: Vec<super::TopicSubscription>,
}

/// The kinds of resource `external:` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExternalKind {
    Table,
    Bucket,
    Queue,
    Topic,
    Secret,
    Function,
    Stream,
    EventBus,
}

/// What a function may do with an external resource; each kind takes
/// the levels its stack-owned counterpart takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExternalAccess {
    /// Tables, buckets (objects and listing), streams, secrets.
    Read,
    /// Tables, buckets (objects), streams.
    Write,
    /// Tables and buckets.
    ReadWrite,
    /// Queues.
    Send,
    /// Queues.
    Consume,
    /// Topics.
    Publish,
    /// Functions.
    Invoke,
    /// Event buses.
    PutEvents,
}

impl ExternalKind {
    /// The word the stack file uses.
    pub fn word(self) -> &'static str {
        match self {
            ExternalKind::Table => "table",
            ExternalKind::Bucket => "bucket",
            ExternalKind::Queue => "queue",
            ExternalKind::Topic => "topic",
            ExternalKind::Secret => "secret",
            ExternalKind::Function => "function",
            ExternalKind::Stream => "stream",
            ExternalKind::EventBus => "event_bus",
        }
    }

    /// The access levels this kind takes.
    pub fn levels(self) -> &'static [ExternalAccess] {
        use ExternalAccess::*;
        match self {
            ExternalKind::Table | ExternalKind::Bucket => &[Read, Write, ReadWrite],
            ExternalKind::Stream => &[Read, Write],
            ExternalKind::Secret => &[Read],
            ExternalKind::Queue => &[Send, Consume],
            ExternalKind::Topic => &[Publish],
            ExternalKind::Function => &[Invoke],
            ExternalKind::EventBus => &[PutEvents],
        }
    }
}

impl ExternalAccess {
    pub fn word(self) -> &'static str {
        match self {
            ExternalAccess::Read => "read",
            ExternalAccess::Write => "write",
            ExternalAccess::ReadWrite => "read_write",
            ExternalAccess::Send => "send",
            ExternalAccess::Consume => "consume",
            ExternalAccess::Publish => "publish",
            ExternalAccess::Invoke => "invoke",
            ExternalAccess::PutEvents => "put_events",
        }
    }

    pub fn reads(self) -> bool {
        matches!(self, ExternalAccess::Read | ExternalAccess::ReadWrite)
    }

    pub fn writes(self) -> bool {
        matches!(self, ExternalAccess::Write | ExternalAccess::ReadWrite)
    }
}

/// Where an external resource's ARN comes from, once validation has
/// checked that exactly one source is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalSource<'a> {
    Arn(&'a str),
    Name(&'a str),
    Export(&'a str),
    SsmParameter(&'a str),
}

impl External {
    /// The one source named; `None` when none or several are.
    pub fn source(&self) -> Option<ExternalSource<'_>> {
        super::exactly_one([
            self.arn.as_deref().map(ExternalSource::Arn),
            self.name.as_deref().map(ExternalSource::Name),
            self.export.as_deref().map(ExternalSource::Export),
            self.ssm_parameter
                .as_deref()
                .map(ExternalSource::SsmParameter),
        ])
    }
}

impl ExternalKind {
    /// The IAM service prefix of its actions and ARNs.
    pub fn service(self) -> &'static str {
        match self {
            ExternalKind::Table => "dynamodb",
            ExternalKind::Bucket => "s3",
            ExternalKind::Queue => "sqs",
            ExternalKind::Topic => "sns",
            ExternalKind::Secret => "secretsmanager",
            ExternalKind::Function => "lambda",
            ExternalKind::Stream => "kinesis",
            ExternalKind::EventBus => "events",
        }
    }

    /// How the resource part of its ARN begins (`table/`), after
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:`; empty for queues, topics
    /// and buckets, whose resource part is the name.
    pub fn resource_prefix(self) -> &'static str {
        match self {
            ExternalKind::Table => "table/",
            ExternalKind::Secret => "secret:",
            ExternalKind::Function => "function:",
            ExternalKind::Stream => "stream/",
            ExternalKind::EventBus => "event-bus/",
            ExternalKind::Bucket | ExternalKind::Queue | ExternalKind::Topic => "",
        }
    }

    /// The ARN of the resource named `name` in the stack's own account and
    /// region, as `Fn::Sub` text (`name` already escaped). A secret's ARN
    /// ends with six characters Secrets Manager chooses: IAM matches them
    /// with `-??????`.
    pub fn arn_of_name_sub(self, name: &str) -> String {
        let here = "${AWS::Region}:${AWS::AccountId}";
        let service = self.service();
        let prefix = self.resource_prefix();
        match self {
            ExternalKind::Bucket => format!("arn:${{AWS::Partition}}:s3:::{name}"),
            ExternalKind::Secret => {
                format!("arn:${{AWS::Partition}}:{service}:{here}:{prefix}{name}-??????")
            }
            _ => format!("arn:${{AWS::Partition}}:{service}:{here}:{prefix}{name}"),
        }
    }

    /// The name inside a written-out ARN of this kind, or why it is not one.
    pub fn name_in_arn(self, arn: &str) -> Result<&str, String> {
        let shape = self.arn_shape();
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [head, partition, service, region, account, resource] = fields[..] else {
            return Err(shape);
        };
        let global = self == ExternalKind::Bucket;
        let located = if global {
            region.is_empty() && account.is_empty()
        } else {
            !region.is_empty() && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
        };
        if head != "arn" || !partition.starts_with("aws") || service != self.service() || !located {
            return Err(shape);
        }
        let name = resource
            .strip_prefix(self.resource_prefix())
            .ok_or_else(|| shape.clone())?;
        let name = match self {
            // A function ARN may carry a version or alias.
            ExternalKind::Function => name.split(':').next().unwrap_or(name),
            // Secrets Manager appends `-` and six characters to the name.
            ExternalKind::Secret => name
                .rsplit_once('-')
                .filter(|(_, tail)| tail.len() == 6)
                .map_or(name, |(n, _)| n),
            _ => name,
        };
        if name.is_empty() || name.contains(['/', ':', '*', '?']) && self != ExternalKind::Secret {
            return Err(shape);
        }
        Ok(name)
    }

    /// What an ARN of this kind looks like, for messages.
    pub fn arn_shape(self) -> String {
        match self {
            ExternalKind::Bucket => "arn:aws:s3:::NAME".to_string(),
            _ => format!(
                "arn:aws:{}:REGION:ACCOUNT:{}NAME",
                self.service(),
                self.resource_prefix()
            ),
        }
    }
}
