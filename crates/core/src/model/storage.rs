//! Where data lives: DynamoDB tables, S3 buckets and Secrets Manager secrets.
//! These are the stateful resources the data-loss guard protects.

use super::shorthand::scalar_or_struct;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A DynamoDB table, encrypted with the stack key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Physical name; `{stack}`, `{app}`, `{env}`, `{name}` are filled in.
    /// Default: `{stack}-{name}`. Changing it replaces the table.
    #[serde(default)]
    pub table_name: Option<String>,
    /// The partition (hash) key. Changing it replaces the table.
    pub partition_key: KeyAttribute,
    /// The sort (range) key, if any. Changing it replaces the table.
    #[serde(default)]
    pub sort_key: Option<KeyAttribute>,
    /// Global secondary indexes, by index name (at most 20).
    #[serde(default)]
    pub indexes: IndexMap<String, GlobalIndex>,
    /// `on_demand`, or `provisioned: {read, write}`. Default: `on_demand`.
    #[serde(default)]
    pub billing: Option<Billing>,
    /// Attribute holding an expiry time in epoch seconds (a number).
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    /// Continuous backups for 35 days. Default: true.
    #[serde(default)]
    pub point_in_time_recovery: Option<bool>,
    /// Publish item changes to a stream.
    #[serde(default)]
    pub stream: Option<StreamView>,
    /// Refuse DeleteTable. Default: same as `retain_data`.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
}

/// A key attribute: its name and DynamoDB type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyAttribute {
    pub name: String,
    /// `S` (string), `N` (number) or `B` (binary).
    #[serde(rename = "type")]
    pub kind: KeyType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum KeyType {
    S,
    N,
    B,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// A global secondary index.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalIndex {
    pub partition_key: KeyAttribute,
    #[serde(default)]
    pub sort_key: Option<KeyAttribute>,
    /// `all`, `keys_only`, or `include: [attributes]`. Default: `all`.
    #[serde(default)]
    pub projection: Option<Projection>,
    /// Capacity for a provisioned table's index. Default: the table's.
    #[serde(default)]
    pub capacity: Option<Capacity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    OnDemand,
    Provisioned(Capacity),
}

/// Provisioned read and write capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub read: u32,
    pub write: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamView {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl StreamView {
    pub fn cloudformation(self) -> &'static str {
        match self {
            StreamView::KeysOnly => "KEYS_ONLY",
            StreamView::NewImage => "NEW_IMAGE",
            StreamView::OldImage => "OLD_IMAGE",
            StreamView::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }
}

/// An S3 bucket: private, versioned, encrypted, TLS-only.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Physical name (3-63 of lowercase letters, digits, dots, hyphens);
    /// `{stack}`, `{app}`, `{env}`, `{name}`, `{account}`, `{region}` are
    /// filled in. Default: `{stack}-{name}-{account}-{region}`, unique per
    /// account and region. Changing it replaces the bucket.
    #[serde(default)]
    pub bucket_name: Option<String>,
    /// Keep old versions of objects. Default: true.
    #[serde(default)]
    pub versioning: Option<bool>,
    /// `kms` (the stack key) or `s3_managed` (SSE-S3). Default: `kms`, or
    /// `s3_managed` for a bucket a distribution serves.
    #[serde(default)]
    pub encryption: Option<BucketEncryption>,
    /// Lifecycle rules: storage class transitions and expiry.
    #[serde(default)]
    pub lifecycle: Vec<LifecycleRule>,
    /// CORS for browsers that upload with pre-signed URLs.
    #[serde(default)]
    pub cors: Option<BucketCors>,
    /// Invoke functions on object events.
    #[serde(default)]
    pub notifications: Vec<BucketNotification>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BucketEncryption {
    Kms,
    S3Managed,
}

/// A lifecycle rule for objects under a prefix.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleRule {
    /// Objects this rule applies to. Default: all.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Move objects to cheaper storage after some days.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Delete current versions this many days after creation.
    #[serde(default)]
    pub expire_after_days: Option<u32>,
    /// Delete old versions this many days after they became old.
    #[serde(default)]
    pub noncurrent_expire_after_days: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub storage_class: StorageClass,
    pub after_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StorageClass {
    StandardIa,
    OnezoneIa,
    IntelligentTiering,
    GlacierIr,
    Glacier,
    DeepArchive,
}

impl StorageClass {
    pub fn cloudformation(self) -> &'static str {
        match self {
            StorageClass::StandardIa => "STANDARD_IA",
            StorageClass::OnezoneIa => "ONEZONE_IA",
            StorageClass::IntelligentTiering => "INTELLIGENT_TIERING",
            StorageClass::GlacierIr => "GLACIER_IR",
            StorageClass::Glacier => "GLACIER",
            StorageClass::DeepArchive => "DEEP_ARCHIVE",
        }
    }
    /// Days S3 requires an object to stay before this transition.
    pub fn minimum_days(self) -> u32 {
        match self {
            StorageClass::StandardIa | StorageClass::OnezoneIa => 30,
            _ => 0,
        }
    }
}

/// CORS rules of a bucket.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketCors {
    /// Origins such as `https://app.example.com`, or references like `${frontend.url}`.
    pub allow_origins: Vec<String>,
    /// HTTP methods: GET, PUT, POST, DELETE, HEAD.
    pub allow_methods: Vec<String>,
    #[serde(default)]
    pub allow_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default)]
    pub max_age_seconds: Option<u32>,
}

/// Invoke a function when objects change.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketNotification {
    /// The function to invoke.
    pub function: String,
    /// `object_created`, `object_removed`. Default: `[object_created]`.
    #[serde(default)]
    pub events: Option<Vec<BucketEvent>>,
    /// Only keys starting with this.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Only keys ending with this.
    #[serde(default)]
    pub suffix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BucketEvent {
    ObjectCreated,
    ObjectRemoved,
}

/// A Secrets Manager secret, encrypted with the stack key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// Physical name; `{stack}`, `{app}`, `{env}`, `{name}` are filled in. Default: `{stack}/{name}`.
    #[serde(default)]
    pub secret_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `out_of_band` (set it later with `aws secretsmanager put-secret-value`;
    /// a random placeholder is generated) or `generate: {…}`.
    pub value: SecretValue,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretValue {
    OutOfBand,
    Generate(GeneratedSecret),
}

/// A value Secrets Manager generates; it never appears in a template.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedSecret {
    /// Characters (1-4096). Default: 32.
    #[serde(default)]
    pub length: Option<u32>,
    /// Leave out punctuation. Default: false.
    #[serde(default)]
    pub exclude_punctuation: Option<bool>,
    /// Store JSON: these fixed, non-secret fields plus the generated value under `key`.
    #[serde(default)]
    pub json_fields: IndexMap<String, String>,
    /// The JSON key of the generated value when `json_fields` is given. Default: `password`.
    #[serde(default)]
    pub key: Option<String>,
}

/// What a function may do with a bucket: a level, or a level under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketGrant {
    pub level: DataAccess,
    pub prefix: Option<String>,
}

/// The long form of [`BucketGrant`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketGrantFull {
    pub level: DataAccess,
    /// Only keys under this prefix, such as `uploads/`.
    #[serde(default)]
    pub prefix: Option<String>,
}

impl From<BucketGrantFull> for BucketGrant {
    fn from(f: BucketGrantFull) -> Self {
        BucketGrant {
            level: f.level,
            prefix: f.prefix,
        }
    }
}

scalar_or_struct!(
    BucketGrant,
    full = BucketGrantFull,
    short = DataAccess,
    from_short = |level| BucketGrant {
        level,
        prefix: None
    }
);

/// A bucket's level: read, write, or both. Writing includes deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataAccess {
    Read,
    Write,
    ReadWrite,
}

impl DataAccess {
    pub fn reads(self) -> bool {
        matches!(self, DataAccess::Read | DataAccess::ReadWrite)
    }
    pub fn writes(self) -> bool {
        matches!(self, DataAccess::Write | DataAccess::ReadWrite)
    }
}

/// What a function may do with a table's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableAccess {
    /// Get, query and scan items, on the table and its indexes.
    Read,
    /// Put, update and delete items (writing includes deleting).
    Write,
    /// `read` and `write`.
    ReadWrite,
    /// Add items only: PutItem on the table, and only with `ReturnValues`
    /// absent or `NONE`, so a put never returns the item it replaces. No
    /// update, delete or batch write. IAM cannot require a condition
    /// expression, so a put with the key of an existing item still replaces
    /// it: the writer refuses to overwrite with
    /// `ConditionExpression: attribute_not_exists(<partition key>)`. Nor
    /// can IAM restrict `ReturnValuesOnConditionCheckFailure`: a put whose
    /// condition fails may ask for the item that is there.
    Append,
    /// `read` and `append`.
    ReadAppend,
}

impl TableAccess {
    /// Reads items (GetItem, Query, Scan…).
    pub fn reads(self) -> bool {
        matches!(
            self,
            TableAccess::Read | TableAccess::ReadWrite | TableAccess::ReadAppend
        )
    }
    /// Writes items in every way: put, update, delete.
    pub fn writes(self) -> bool {
        matches!(self, TableAccess::Write | TableAccess::ReadWrite)
    }
    /// Only adds items (PutItem asking nothing back).
    pub fn appends(self) -> bool {
        matches!(self, TableAccess::Append | TableAccess::ReadAppend)
    }

    /// The level that reads, writes and appends as told (`writes` covers
    /// appending); `None` for none of them.
    pub fn of(reads: bool, writes: bool, appends: bool) -> Option<TableAccess> {
        Some(match (reads, writes, appends) {
            (true, true, _) => TableAccess::ReadWrite,
            (false, true, _) => TableAccess::Write,
            (true, false, true) => TableAccess::ReadAppend,
            (false, false, true) => TableAccess::Append,
            (true, false, false) => TableAccess::Read,
            (false, false, false) => return None,
        })
    }

    /// As the stack file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TableAccess::Read => "read",
            TableAccess::Write => "write",
            TableAccess::ReadWrite => "read_write",
            TableAccess::Append => "append",
            TableAccess::ReadAppend => "read_append",
        }
    }
}
