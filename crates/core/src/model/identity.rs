//! Who signs in: the Cognito user pool and its app clients.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A Cognito user pool.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPool {
    /// Physical name; `{stack}`, `{app}`, `{env}` are filled in. Default: `{stack}-users`.
    #[serde(default)]
    pub pool_name: Option<String>,
    /// What users sign in with. `email` or `phone_number` alone make that the
    /// user name; together with `username` they become aliases. Changing this
    /// replaces the pool (and loses its users). Default: `[email]`.
    #[serde(default)]
    pub sign_in_with: Option<Vec<SignInAttribute>>,
    /// Attributes Cognito verifies by sending a code. Default: `[email]` when
    /// users sign in with e-mail.
    #[serde(default)]
    pub auto_verify: Option<Vec<VerifiableAttribute>>,
    /// Password rules.
    #[serde(default)]
    pub password: PasswordPolicy,
    /// Multi-factor authentication. Default: `off`.
    #[serde(default)]
    pub mfa: Option<MfaMode>,
    /// Second factors offered when `mfa` is not `off`. Default: `[totp]`.
    #[serde(default)]
    pub mfa_methods: Option<Vec<MfaMethod>>,
    /// How a user recovers an account, in order of preference. Default: `[verified_email]`.
    #[serde(default)]
    pub account_recovery: Option<Vec<RecoveryMechanism>>,
    /// Standard attributes (`email`, `name`, …) and whether they are required
    /// or mutable. Required attributes cannot be changed after creation.
    #[serde(default)]
    pub standard_attributes: IndexMap<String, StandardAttribute>,
    /// Custom attributes, declared without the `custom:` prefix and read with
    /// it (`role` here is `custom:role` in tokens).
    #[serde(default)]
    pub custom_attributes: IndexMap<String, CustomAttribute>,
    /// Cognito threat protection (adaptive authentication, compromised
    /// credentials). Default: `off`. Anything else needs `tier: plus`.
    #[serde(default)]
    pub advanced_security: Option<AdvancedSecurity>,
    /// The pool's Cognito feature plan, billed per monthly active user (MAU).
    /// `lite`: the lowest MAU price, sign-up and sign-in basics. `essentials`
    /// (the default, as for every new pool): a higher MAU price, adds managed
    /// login, passwordless sign-in and token customization. `plus`: the highest
    /// MAU price, adds threat protection (`advanced_security`) and log export.
    /// See Amazon Cognito pricing for the current rates and free allowance.
    #[serde(default)]
    pub tier: Option<UserPoolTier>,
    /// Protect the pool's sign-in endpoints with this web ACL (scope regional).
    #[serde(default)]
    pub waf: Option<String>,
    /// Refuse deletion of the pool. Default: same as `retain_data`.
    #[serde(default)]
    pub deletion_protection: Option<bool>,
    /// App clients, by name.
    #[serde(default)]
    pub clients: IndexMap<String, UserPoolClient>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignInAttribute {
    Username,
    Email,
    PhoneNumber,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifiableAttribute {
    Email,
    PhoneNumber,
}

/// Password rules; Cognito allows a minimum length of 6 to 99.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Default: 8.
    #[serde(default)]
    pub min_length: Option<u32>,
    /// Default: true.
    #[serde(default)]
    pub require_uppercase: Option<bool>,
    /// Default: true.
    #[serde(default)]
    pub require_lowercase: Option<bool>,
    /// Default: true.
    #[serde(default)]
    pub require_numbers: Option<bool>,
    /// Default: true.
    #[serde(default)]
    pub require_symbols: Option<bool>,
    /// Days an administrator-set temporary password stays valid (0-365). Default: 7.
    #[serde(default)]
    pub temporary_password_validity_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMode {
    Off,
    Optional,
    Required,
}

/// A second factor. SMS needs an SNS role and a spending limit stackctl does
/// not manage, so only authenticator apps (TOTP) are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    Totp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryMechanism {
    VerifiedEmail,
    VerifiedPhoneNumber,
    AdminOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserPoolTier {
    Lite,
    Essentials,
    Plus,
}

// Each default is written once, here; validation and planning both read it.
impl UserPool {
    /// The feature plan. Default: Essentials.
    pub fn feature_plan(&self) -> UserPoolTier {
        self.tier.unwrap_or(UserPoolTier::Essentials)
    }

    /// Multi-factor sign-in. Default: off.
    pub fn mfa_mode(&self) -> MfaMode {
        self.mfa.unwrap_or(MfaMode::Off)
    }

    pub const DEFAULT_POOL_NAME: &'static str = "{stack}-users";

    /// The physical name pattern.
    pub fn pool_name_pattern(&self) -> &str {
        self.pool_name.as_deref().unwrap_or(Self::DEFAULT_POOL_NAME)
    }
}

impl UserPoolClient {
    pub const DEFAULT_CLIENT_NAME: &'static str = "{stack}-{name}";

    /// The physical name pattern.
    pub fn client_name_pattern(&self) -> &str {
        self.client_name
            .as_deref()
            .unwrap_or(Self::DEFAULT_CLIENT_NAME)
    }
}

impl UserPoolTier {
    pub fn cloudformation(self) -> &'static str {
        match self {
            UserPoolTier::Lite => "LITE",
            UserPoolTier::Essentials => "ESSENTIALS",
            UserPoolTier::Plus => "PLUS",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdvancedSecurity {
    Off,
    Audit,
    Enforced,
}

/// A standard OpenID Connect attribute of the pool.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StandardAttribute {
    /// Every user must have it. Default: false.
    #[serde(default)]
    pub required: Option<bool>,
    /// Users may change it after sign-up. Default: true.
    #[serde(default)]
    pub mutable: Option<bool>,
}

/// A custom attribute, such as `role`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomAttribute {
    /// `string` or `number`. Default: `string`.
    #[serde(default, rename = "type")]
    pub kind: Option<CustomAttributeType>,
    /// Users may change it. Default: true.
    #[serde(default)]
    pub mutable: Option<bool>,
    /// Shortest value (strings, 0-2048).
    #[serde(default)]
    pub min_length: Option<u32>,
    /// Longest value (strings, 1-2048). Default: 256.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Smallest value (numbers).
    #[serde(default)]
    pub min_value: Option<i64>,
    /// Largest value (numbers).
    #[serde(default)]
    pub max_value: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomAttributeType {
    String,
    Number,
}

/// An app client of the user pool.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPoolClient {
    /// Physical name; `{stack}`, `{app}`, `{env}`, `{name}` are filled in. Default: `{stack}-{name}`.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Sign-in flows the client may use; refresh is always allowed. Default: `[user_srp]`.
    #[serde(default)]
    pub auth_flows: Option<Vec<AuthFlow>>,
    /// Give the client a secret (server-side clients only). Default: false.
    #[serde(default)]
    pub generate_secret: Option<bool>,
    /// Access token lifetime, such as `60m` or `1h` (5 minutes to 1 day). Default: `60m`.
    #[serde(default)]
    pub access_token_validity: Option<Lifetime>,
    /// ID token lifetime (5 minutes to 1 day). Default: `60m`.
    #[serde(default)]
    pub id_token_validity: Option<Lifetime>,
    /// Refresh token lifetime, such as `30d` (1 hour to 3650 days). Default: `30d`.
    #[serde(default)]
    pub refresh_token_validity: Option<Lifetime>,
    /// Attributes the client may read. Default: all.
    #[serde(default)]
    pub read_attributes: Option<Vec<String>>,
    /// Attributes the client may write. Default: all mutable ones.
    #[serde(default)]
    pub write_attributes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthFlow {
    /// USER_PASSWORD_AUTH: the password travels to Cognito over TLS.
    UserPassword,
    /// USER_SRP_AUTH: Secure Remote Password, the password never leaves the client.
    UserSrp,
    /// ADMIN_USER_PASSWORD_AUTH: a server signs users in with IAM credentials.
    AdminUserPassword,
    /// CUSTOM_AUTH: Lambda-driven challenges.
    CustomAuth,
}

/// A token lifetime written as a number and a unit: `45m`, `1h`, `30d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub amount: u32,
    pub unit: LifetimeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeUnit {
    Minutes,
    Hours,
    Days,
}

impl Lifetime {
    pub fn minutes(self) -> u64 {
        let amount = u64::from(self.amount);
        match self.unit {
            LifetimeUnit::Minutes => amount,
            LifetimeUnit::Hours => amount * 60,
            LifetimeUnit::Days => amount * 60 * 24,
        }
    }
    pub fn cloudformation_unit(self) -> &'static str {
        match self.unit {
            LifetimeUnit::Minutes => "minutes",
            LifetimeUnit::Hours => "hours",
            LifetimeUnit::Days => "days",
        }
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let (digits, unit) = text.split_at(
            text.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len()),
        );
        let unit = match unit {
            "m" => LifetimeUnit::Minutes,
            "h" => LifetimeUnit::Hours,
            "d" => LifetimeUnit::Days,
            _ => {
                return Err(serde::de::Error::custom(format!(
                "`{text}` is not a lifetime: write a number and m, h or d, such as `60m` or `30d`"
            )))
            }
        };
        let amount = digits.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "`{text}` is not a lifetime: write a number and m, h or d, such as `60m` or `30d`"
            ))
        })?;
        Ok(Lifetime { amount, unit })
    }
}

impl JsonSchema for Lifetime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Lifetime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]+[mhd]$",
            "description": "A number and a unit: m (minutes), h (hours) or d (days), such as `60m` or `30d`."
        })
    }
}
