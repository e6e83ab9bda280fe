//! What runs: Lambda functions, what they may touch, and when they run.

use super::storage::{BucketGrant, TableAccess};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// Settings every function gets unless it sets its own.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionDefaults {
    /// MB of memory (128-10240). Default: 512.
    #[serde(default)]
    pub memory: Option<u32>,
    /// Seconds before the function is stopped (1-900). Default: 10.
    #[serde(default)]
    pub timeout: Option<u32>,
    /// `x86_64` or `arm64`. Default: `x86_64`.
    #[serde(default)]
    pub architecture: Option<Architecture>,
    /// X-Ray tracing. Default: `passthrough`.
    #[serde(default)]
    pub tracing: Option<Tracing>,
    /// Days logs are kept (1, 3, 5, 7, 14, 30, 60, 90, …). Default: 30.
    #[serde(default)]
    pub log_retention_days: Option<u32>,
    /// Environment variables every function gets (a function's own win).
    #[serde(default)]
    pub environment: IndexMap<String, String>,
}

/// A Lambda function.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// The workspace crate whose binary is this function's `bootstrap`
    /// (runtime `provided.al2023`).
    #[serde(default, rename = "crate")]
    pub crate_name: Option<String>,
    /// A prebuilt deployment package instead of a crate.
    #[serde(default)]
    pub zip: Option<PrebuiltZip>,
    /// Physical name (at most 64 characters); `{stack}`, `{app}`, `{env}`,
    /// `{name}` are filled in. Default: `{stack}-{name}`.
    #[serde(default)]
    pub function_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// MB of memory (128-10240).
    #[serde(default)]
    pub memory: Option<u32>,
    /// Seconds (1-900). Behind an API at most 30 (HTTP) or 29 (REST).
    #[serde(default)]
    pub timeout: Option<u32>,
    #[serde(default)]
    pub architecture: Option<Architecture>,
    /// Environment variables. Values may refer to the stack: `${tables.users.name}`,
    /// `${buckets.images.name}`, `${secrets.ebay.arn}`, `${user_pool.id}`,
    /// `${user_pool.clients.web.id}`, `${functions.executor.arn}`,
    /// `${schedule_groups.bids.name}`, `${schedule_groups.bids.role_arn}`,
    /// `${schedule_groups.bids.dead_letter_arn}`, `${encryption.key_arn}`,
    /// `${apis.main.url}`, `${distributions.site.domain}`, `${topics.alerts.arn}`,
    /// `${stack.name}`, `${stack.env}`, `${aws.region}`, `${aws.account_id}`.
    /// Write `$${` for a literal `${`. At most 4 KB in all.
    #[serde(default)]
    pub environment: IndexMap<String, String>,
    /// Concurrent executions set aside for this function (and its ceiling).
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Pre-initialised execution environments on the `live` alias.
    #[serde(default)]
    pub provisioned_concurrency: Option<u32>,
    #[serde(default)]
    pub tracing: Option<Tracing>,
    /// Days logs are kept.
    #[serde(default)]
    pub log_retention_days: Option<u32>,
    /// A function URL: an HTTPS endpoint of its own that invokes the
    /// function (its `live` alias when it keeps provisioned concurrency),
    /// without an API in front. Referred to as `${functions.NAME.url}`.
    #[serde(default)]
    pub url: Option<FunctionUrl>,
    /// What happens to an asynchronous invocation (an S3 notification, a
    /// schedule, a topic, an event rule): how often Lambda retries it, how
    /// old it may grow, and where a record of its success or failure goes.
    #[serde(default, rename = "async")]
    pub async_invocation: Option<AsyncInvocation>,
    /// What the function may touch; least-privilege IAM is derived from it.
    #[serde(default)]
    pub access: Access,
    /// Queues, table streams and Kinesis streams that invoke the function
    /// with batches of their messages or records; the reading permissions
    /// are derived.
    #[serde(default)]
    pub event_sources: Vec<super::EventSource>,
    /// Log groups of the stack's functions and APIs whose matching log
    /// events invoke this function (CloudWatch Logs subscription filters).
    #[serde(default)]
    pub log_subscriptions: Vec<super::LogSubscription>,
}

/// A deployment package built elsewhere.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrebuiltZip {
    /// Path to the .zip, relative to the stack file.
    pub path: String,
    /// Lambda runtime. Default: `provided.al2023`.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Handler. Default: `bootstrap`.
    #[serde(default)]
    pub handler: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    X86_64,
    Arm64,
}

// Each default is written once, here; validation and planning both read it.
impl FunctionDefaults {
    /// Days logs are kept unless a function says otherwise.
    pub fn log_retention(&self) -> u32 {
        self.log_retention_days.unwrap_or(30)
    }
}

impl Function {
    /// MB of memory: the function's own, else the stack's default, else 512.
    pub fn memory_mb(&self, defaults: &FunctionDefaults) -> u32 {
        self.memory.or(defaults.memory).unwrap_or(512)
    }

    /// Seconds before it is stopped: its own, else the stack's default, else 10.
    pub fn timeout_seconds(&self, defaults: &FunctionDefaults) -> u32 {
        self.timeout.or(defaults.timeout).unwrap_or(10)
    }

    /// Days its logs are kept: its own, else the stack's default, else 30.
    pub fn log_retention(&self, defaults: &FunctionDefaults) -> u32 {
        self.log_retention_days
            .unwrap_or_else(|| defaults.log_retention())
    }
}

impl Architecture {
    pub fn cloudformation(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tracing {
    Active,
    Passthrough,
}

/// Declared access. Each entry becomes IAM statements scoped to exactly the
/// named resources (and the stack key where they are encrypted).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Tables and `read`, `write`, `read_write` (writing includes deleting
    /// items), `append` (PutItem only, returning nothing; the writer's
    /// `attribute_not_exists` condition refuses to overwrite) or `read_append`.
    #[serde(default)]
    pub tables: IndexMap<String, TableAccess>,
    /// Buckets and a level, or `{level, prefix}` to limit it to keys under a prefix.
    #[serde(default)]
    pub buckets: IndexMap<String, BucketGrant>,
    /// Secrets the function reads.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Queues and `send` or `consume`.
    #[serde(default)]
    pub queues: IndexMap<String, super::QueueAccess>,
    /// Kinesis streams and `write` or `read`.
    #[serde(default)]
    pub streams: IndexMap<String, super::StreamAccess>,
    /// Functions this one invokes.
    #[serde(default)]
    pub invoke: Vec<String>,
    /// Topics this function publishes to.
    #[serde(default)]
    pub publish: Vec<String>,
    /// Event buses of the stack this function puts events on (`events:PutEvents`).
    #[serde(default)]
    pub event_buses: Vec<String>,
    /// Resources of `external:` and what the function may do with each:
    /// `read`, `write` or `read_write` (tables, buckets), `read` or `write`
    /// (streams), `read` (secrets), `send` or `consume` (queues), `publish`
    /// (topics), `invoke` (functions), `put_events` (event buses).
    #[serde(default)]
    pub external: IndexMap<String, super::ExternalAccess>,
    /// Schedule groups in which the function creates, updates and deletes
    /// schedules (and may hand them the group's role).
    #[serde(default)]
    pub schedule_groups: Vec<String>,
    /// Administrative calls on the stack's user pool.
    #[serde(default)]
    pub user_pool: Vec<UserPoolAction>,
    /// EC2 instance calls.
    #[serde(default)]
    pub ec2: Option<Ec2Access>,
    /// Reading CloudWatch metrics (GetMetricData, GetMetricStatistics, ListMetrics).
    #[serde(default)]
    pub read_metrics: Option<bool>,
    /// The function's own calls to KMS with the stack's key (encrypting a
    /// user's token before storing it, say), allowed only when the call
    /// carries the encryption context declared here.
    #[serde(default)]
    pub stack_key: Option<StackKeyAccess>,
    /// More IAM actions on named resources of the stack, for calls the
    /// levels above do not cover (`secretsmanager:PutSecretValue` for a
    /// function that rotates a secret, say). Each key names one resource:
    /// `tables.NAME`, `buckets.NAME` (the bucket and all its objects) or
    /// `buckets.NAME/PREFIX` (only objects whose key starts with `PREFIX`),
    /// `secrets.NAME`, `topics.NAME`, `queues.NAME`, `streams.NAME`,
    /// `functions.NAME`, `schedule_groups.NAME` or `user_pool`; its value
    /// lists actions as IAM writes them, `service:Action`. Each must be an
    /// action of that resource's service that acts on it (or on its
    /// indexes, streams, objects, versions, stream consumers or schedules),
    /// named in full: no `*` or `?`. Each
    /// is granted on exactly the ARNs of the parts it acts on, and on the
    /// stack key through the service (`kms:ViaService`) where the resource
    /// is encrypted with it.
    #[serde(default)]
    pub actions: IndexMap<String, Vec<String>>,
}

/// Direct use of the stack key, bound to an encryption context: the grant
/// holds only for calls whose encryption context has every pair listed, so
/// a function that may decrypt one kind of ciphertext cannot decrypt
/// another made with the same key under another context.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackKeyAccess {
    /// The calls the function makes: `encrypt`, `decrypt`, `generate_data_key`.
    pub actions: Vec<StackKeyAction>,
    /// Pairs every call must carry in its encryption context (at least one;
    /// keys may not start with `aws`). The function sends them, and more
    /// pairs if it likes, such as the user's id.
    pub encryption_context: IndexMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StackKeyAction {
    Encrypt,
    Decrypt,
    GenerateDataKey,
}

impl StackKeyAction {
    pub fn iam_action(self) -> &'static str {
        match self {
            StackKeyAction::Encrypt => "kms:Encrypt",
            StackKeyAction::Decrypt => "kms:Decrypt",
            StackKeyAction::GenerateDataKey => "kms:GenerateDataKey",
        }
    }

    /// As a stack file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StackKeyAction::Encrypt => "encrypt",
            StackKeyAction::Decrypt => "decrypt",
            StackKeyAction::GenerateDataKey => "generate_data_key",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserPoolAction {
    AdminGetUser,
    AdminCreateUser,
    AdminUpdateUserAttributes,
    AdminDeleteUser,
    AdminConfirmSignUp,
    AdminDisableUser,
    AdminEnableUser,
    AdminResetUserPassword,
    ListUsers,
}

impl UserPoolAction {
    pub fn iam_action(self) -> &'static str {
        match self {
            UserPoolAction::AdminGetUser => "cognito-idp:AdminGetUser",
            UserPoolAction::AdminCreateUser => "cognito-idp:AdminCreateUser",
            UserPoolAction::AdminUpdateUserAttributes => "cognito-idp:AdminUpdateUserAttributes",
            UserPoolAction::AdminDeleteUser => "cognito-idp:AdminDeleteUser",
            UserPoolAction::AdminConfirmSignUp => "cognito-idp:AdminConfirmSignUp",
            UserPoolAction::AdminDisableUser => "cognito-idp:AdminDisableUser",
            UserPoolAction::AdminEnableUser => "cognito-idp:AdminEnableUser",
            UserPoolAction::AdminResetUserPassword => "cognito-idp:AdminResetUserPassword",
            UserPoolAction::ListUsers => "cognito-idp:ListUsers",
        }
    }
}

/// EC2 actions, optionally limited to instances carrying a tag.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ec2Access {
    pub actions: Vec<Ec2Action>,
    /// Only instances with these tags (for actions on instances).
    #[serde(default)]
    pub instances_tagged: IndexMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ec2Action {
    DescribeInstances,
    DescribeInstanceStatus,
    RebootInstances,
    StartInstances,
    StopInstances,
}

impl Ec2Action {
    pub fn iam_action(self) -> &'static str {
        match self {
            Ec2Action::DescribeInstances => "ec2:DescribeInstances",
            Ec2Action::DescribeInstanceStatus => "ec2:DescribeInstanceStatus",
            Ec2Action::RebootInstances => "ec2:RebootInstances",
            Ec2Action::StartInstances => "ec2:StartInstances",
            Ec2Action::StopInstances => "ec2:StopInstances",
        }
    }
    /// Describe calls have no resource-level permissions in IAM: they take `*`.
    pub fn is_describe(self) -> bool {
        matches!(
            self,
            Ec2Action::DescribeInstances | Ec2Action::DescribeInstanceStatus
        )
    }
}

/// An EventBridge Scheduler group, with a role that lets its schedules invoke
/// the target functions.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleGroup {
    /// Physical name; `{stack}`, `{app}`, `{env}`, `{name}` are filled in. Default: `{stack}-{name}`.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Functions schedules in this group may invoke.
    pub targets: Vec<String>,
    /// An SQS queue, encrypted with the stack key, for the schedules
    /// functions create in the group to name as their dead-letter queue
    /// (`${schedule_groups.NAME.dead_letter_arn}`): Scheduler sends an
    /// invocation there once its retries are spent, with the group's role.
    #[serde(default)]
    pub dead_letter: Option<DeadLetter>,
}

/// A schedule group's dead-letter queue.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetter {
    /// Physical name (at most 80 characters); `{stack}`, `{app}`, `{env}`,
    /// `{name}` are filled in. Default: `{stack}-{name}-dlq`.
    #[serde(default)]
    pub queue_name: Option<String>,
    /// Days a failed invocation stays in the queue (1-14). Default: 14.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

// The defaults are written once, here; validation and planning both read them.
impl DeadLetter {
    pub const DEFAULT_QUEUE_NAME: &'static str = "{stack}-{name}-dlq";
    /// SQS keeps a message at most 14 days (`MessageRetentionPeriod`
    /// 60 to 1,209,600 seconds), the longest a failure can wait to be seen.
    pub const MAX_RETENTION_DAYS: u32 = 14;

    pub fn queue_name_pattern(&self) -> &str {
        self.queue_name
            .as_deref()
            .unwrap_or(Self::DEFAULT_QUEUE_NAME)
    }

    pub fn retention(&self) -> u32 {
        self.retention_days.unwrap_or(Self::MAX_RETENTION_DAYS)
    }
}

/// A fixed schedule that invokes a function.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub function: String,
    /// `rate(5 minutes)`, `cron(0 12 * * ? *)` or `at(2026-12-01T09:00:00)`.
    pub expression: String,
    /// IANA time zone for cron and at expressions. Default: UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// JSON event passed to the function.
    #[serde(default)]
    pub input: Option<serde_json::Value>,
    /// Default: true.
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub description: Option<String>,
    /// How Scheduler retries an invocation Lambda refused (throttled, say).
    /// Default: Scheduler's, 185 attempts within 24 hours.
    #[serde(default)]
    pub retry: Option<ScheduleRetry>,
    /// A queue of this stack (`queues:`) that receives the event once
    /// Scheduler gives up on it; the schedule's role may send to it.
    #[serde(default)]
    pub dead_letter: Option<String>,
}

/// A schedule target's retry policy (Scheduler's `RetryPolicy`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRetry {
    /// Retries before Scheduler gives up (0-185). Default: 185.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Seconds Scheduler keeps trying an event (60-86400). Default: 86400.
    #[serde(default)]
    pub max_event_age_seconds: Option<u32>,
}

impl ScheduleRetry {
    /// Scheduler's limits: `MaximumRetryAttempts` 0-185,
    /// `MaximumEventAgeInSeconds` 60-86400.
    pub const MAX_ATTEMPTS: u32 = 185;
    pub const EVENT_AGE_SECONDS: std::ops::RangeInclusive<u32> = 60..=86_400;
}

/// A Lambda function URL (`https://<id>.lambda-url.<region>.on.aws/`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionUrl {
    /// `aws_iam` (callers sign their requests with SigV4 and need
    /// `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`) or `none`
    /// (anyone on the internet may call it; needs `allow_public: true`).
    /// Default: `aws_iam`.
    #[serde(default)]
    pub auth: Option<UrlAuth>,
    /// The acknowledgement that `auth: none` makes the function public: the
    /// function's resource policy then lets anyone invoke it through the URL.
    #[serde(default)]
    pub allow_public: Option<bool>,
    /// CORS headers Lambda answers browsers with (the function need not).
    #[serde(default)]
    pub cors: Option<UrlCors>,
    /// `buffered` (the response is sent once complete, at most 6 MB) or
    /// `response_stream` (sent as the handler writes it, up to 200 MB; the
    /// handler must stream). Default: `buffered`.
    #[serde(default)]
    pub invoke_mode: Option<InvokeMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UrlAuth {
    AwsIam,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvokeMode {
    Buffered,
    ResponseStream,
}

impl FunctionUrl {
    pub fn auth(&self) -> UrlAuth {
        self.auth.unwrap_or(UrlAuth::AwsIam)
    }

    pub fn invoke_mode(&self) -> InvokeMode {
        self.invoke_mode.unwrap_or(InvokeMode::Buffered)
    }
}

impl UrlAuth {
    pub fn cloudformation(self) -> &'static str {
        match self {
            UrlAuth::AwsIam => "AWS_IAM",
            UrlAuth::None => "NONE",
        }
    }
}

impl InvokeMode {
    pub fn cloudformation(self) -> &'static str {
        match self {
            InvokeMode::Buffered => "BUFFERED",
            InvokeMode::ResponseStream => "RESPONSE_STREAM",
        }
    }
}

/// A function URL's CORS settings (Lambda's `Cors`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlCors {
    /// Origins (at most 100, each 1-253 characters), or `*` for any;
    /// references such as `${frontend.url}` are allowed.
    #[serde(default)]
    pub allow_origins: Vec<String>,
    /// Methods (at most 6): `GET`, `PUT`, `HEAD`, `POST`, `PATCH`,
    /// `DELETE`, or `*` for any.
    #[serde(default)]
    pub allow_methods: Vec<String>,
    /// Request headers browsers may send (at most 100).
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// Response headers browsers may read (at most 100).
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Whether browsers may send cookies and other credentials (not with
    /// the `*` origin). Default: false.
    #[serde(default)]
    pub allow_credentials: Option<bool>,
    /// Seconds browsers cache a preflight answer (0-86400). Default: 0.
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

/// Lambda's handling of asynchronous invocations of one function.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncInvocation {
    /// Times Lambda retries an invocation whose function returned an error
    /// (0-2). Default: 2.
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Seconds an event may wait in Lambda's queue before it is dropped
    /// (60-21600). Default: 21600 (six hours).
    #[serde(default)]
    pub max_event_age_seconds: Option<u32>,
    /// Where a record of each successful invocation goes.
    #[serde(default)]
    pub on_success: Option<AsyncDestination>,
    /// Where a record of an invocation goes once its retries are spent or
    /// it grew too old: without one, the event is dropped.
    #[serde(default)]
    pub on_failure: Option<AsyncDestination>,
}

impl AsyncInvocation {
    /// Lambda's limits: `MaximumRetryAttempts` 0-2,
    /// `MaximumEventAgeInSeconds` 60-21600.
    pub const MAX_RETRIES: u32 = 2;
    pub const EVENT_AGE_SECONDS: std::ops::RangeInclusive<u32> = 60..=21_600;
}

/// A queue, topic, function or event bus of this stack that receives an
/// invocation record. Name exactly one.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncDestination {
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub function: Option<String>,
    /// A custom event bus of this stack (`event_buses:`): the record is put
    /// on it as an event (source `lambda`, detail-type `Lambda Function
    /// Invocation Result - Success` or `- Failure`), for rules to route.
    #[serde(default)]
    pub event_bus: Option<String>,
    /// A queue, topic, function or event bus of `external:`.
    #[serde(default)]
    pub external: Option<String>,
}

/// What an asynchronous-invocation destination names, once validation has
/// checked that it names exactly one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncTarget<'a> {
    Queue(&'a str),
    Topic(&'a str),
    Function(&'a str),
    EventBus(&'a str),
    /// An `external:` queue, topic, function or event bus (validation proved which).
    External(&'a str),
}

impl AsyncDestination {
    /// The one destination named; `None` when none or several are.
    pub fn target(&self) -> Option<AsyncTarget<'_>> {
        super::exactly_one([
            self.queue.as_deref().map(AsyncTarget::Queue),
            self.topic.as_deref().map(AsyncTarget::Topic),
            self.function.as_deref().map(AsyncTarget::Function),
            self.event_bus.as_deref().map(AsyncTarget::EventBus),
            self.external.as_deref().map(AsyncTarget::External),
        ])
    }
}
