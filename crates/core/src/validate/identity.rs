//! The user pool: sign-in, passwords, MFA, recovery, attributes, clients.

use super::{p, Checker};
use crate::model::{
    AdvancedSecurity, MfaMode, RecoveryMechanism, SignInAttribute, UserPoolTier,
    VerifiableAttribute,
};

/// Cognito's standard attributes.
pub const STANDARD_ATTRIBUTES: [&str; 18] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "website",
    "zoneinfo",
];

pub(super) fn check(c: &mut Checker) {
    let Some(pool) = &c.def.user_pool else { return };
    let at = p("user_pool");
    let pw = &pool.password;
    if let Some(n) = pw.min_length {
        c.in_range(
            at.key("password").key("min_length"),
            "minimum password length",
            n.into(),
            6..=99,
            "Cognito accepts a minimum length of",
        );
    }
    if let Some(d) = pw.temporary_password_validity_days {
        c.in_range(
            at.key("password").key("temporary_password_validity_days"),
            "temporary password validity",
            d.into(),
            0..=365,
            "Cognito keeps temporary passwords for",
        );
    }
    let sign_in = pool
        .sign_in_with
        .clone()
        .unwrap_or_else(|| vec![SignInAttribute::Email]);
    if sign_in.is_empty() {
        c.error(
            at.key("sign_in_with"),
            "users cannot sign in with nothing",
            "list `email`, `phone_number` and/or `username`",
        );
    }
    for (i, s) in sign_in.iter().enumerate() {
        if sign_in[..i].contains(s) {
            c.error(
                at.key("sign_in_with").index(i),
                "listed twice",
                "remove the repeat",
            );
        }
    }
    let verify = pool.auto_verify.clone().unwrap_or_default();
    let recovery = pool
        .account_recovery
        .clone()
        .unwrap_or_else(|| vec![RecoveryMechanism::VerifiedEmail]);
    if verify.contains(&VerifiableAttribute::PhoneNumber) {
        c.error(
            at.key("auto_verify"),
            "verifying phone numbers needs SMS, which stackctl does not set up",
            "SMS needs an SNS role and a spending limit; verify `email` only",
        );
    }
    if recovery.contains(&RecoveryMechanism::VerifiedPhoneNumber) {
        c.error(
            at.key("account_recovery"),
            "recovery by phone needs SMS, which stackctl does not set up",
            "use `verified_email`",
        );
    }
    if recovery.contains(&RecoveryMechanism::AdminOnly) && recovery.len() > 1 {
        c.error(
            at.key("account_recovery"),
            "`admin_only` cannot be combined with other recovery mechanisms",
            "use `[admin_only]` alone, or drop it",
        );
    }
    if recovery.len() > 2 {
        c.error(
            at.key("account_recovery"),
            "Cognito takes at most two recovery mechanisms",
            "keep two",
        );
    }
    if recovery.contains(&RecoveryMechanism::VerifiedEmail)
        && !sign_in.contains(&SignInAttribute::Email)
        && !pool.standard_attributes.contains_key("email")
    {
        c.error(
            at.key("account_recovery"),
            "recovery by e-mail, but users have no e-mail attribute",
            "sign in with `email`, or declare `standard_attributes: {email: {required: true}}`",
        );
    }
    // Amazon Cognito "User pool feature plans": threat protection is a Plus
    // feature; creating an Essentials (default) or Lite pool with it fails.
    let tier = pool.feature_plan();
    if matches!(
        pool.advanced_security,
        Some(AdvancedSecurity::Audit | AdvancedSecurity::Enforced)
    ) && tier != UserPoolTier::Plus
    {
        c.error(
            at.key("advanced_security"),
            format!("threat protection needs the Plus feature plan, and this pool is on {}", tier.cloudformation().to_lowercase()),
            "add `tier: plus` to the user pool (Plus is billed per monthly active user at Cognito's highest rate), or set `advanced_security: off`",
        );
    }
    let mfa = pool.mfa_mode();
    if mfa != MfaMode::Off && pool.mfa_methods.as_ref().is_some_and(Vec::is_empty) {
        c.error(
            at.key("mfa_methods"),
            "MFA is on but offers no method",
            "list `totp`",
        );
    }
    for (name, attr) in &pool.standard_attributes {
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) {
            let hint = crate::diagnostic::suggestion(name, STANDARD_ATTRIBUTES)
                .map(|s| format!("{s} (or declare it under `custom_attributes`)"))
                .unwrap_or_else(|| {
                    "declare attributes of your own under `custom_attributes`".into()
                });
            c.error_at_key(
                at.key("standard_attributes").key(name),
                format!("`{name}` is not a standard Cognito attribute"),
                hint,
            );
        }
        if attr.required == Some(true)
            && attr.mutable == Some(false)
            && name == "email"
            && sign_in.contains(&SignInAttribute::Email)
        {
            c.warning(
                at.key("standard_attributes").key(name).key("mutable"),
                "users will never be able to change their e-mail",
                "remove `mutable: false` unless that is intended",
            );
        }
    }
    for (name, attr) in &pool.custom_attributes {
        let here = at.key("custom_attributes").key(name);
        if let Some(bare) = name.strip_prefix("custom:") {
            c.error_at_key(
                here.clone(),
                format!("custom attributes are declared without the `custom:` prefix: `{name}`"),
                format!("write `{bare}` here; tokens and code read it as `custom:{bare}`"),
            );
            continue;
        }
        if name.is_empty()
            || name.len() > 20
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        {
            c.error_at_key(
                here.clone(),
                format!("`{name}` is not a usable custom attribute name"),
                "custom attribute names are 1 to 20 letters, digits or `_`",
            );
        }
        let number = attr.kind == Some(crate::model::CustomAttributeType::Number);
        if number && (attr.min_length.is_some() || attr.max_length.is_some()) {
            c.error(
                here.clone(),
                "a number attribute has no length",
                "use `min_value` and `max_value`, or `type: string`",
            );
        }
        if !number && (attr.min_value.is_some() || attr.max_value.is_some()) {
            c.error(
                here.clone(),
                "a string attribute has no value range",
                "use `min_length` and `max_length`, or `type: number`",
            );
        }
        if let Some(max) = attr.max_length {
            c.in_range(
                here.key("max_length"),
                "maximum length",
                max.into(),
                1..=2048,
                "Cognito custom strings are",
            );
        }
        if let (Some(min), Some(max)) = (attr.min_length, attr.max_length) {
            if min > max {
                c.error(
                    here.key("min_length"),
                    format!("minimum length {min} is above the maximum {max}"),
                    "swap them",
                );
            }
        }
    }
    if let Some(acl) = &pool.waf {
        if c.expect_known(at.key("waf"), "web ACL", acl, c.def.web_acls.keys())
            && c.def.web_acls.get(acl).and_then(|found| found.scope)
                == Some(crate::model::WafScope::Cloudfront)
        {
            c.error(
                at.key("waf"),
                format!("web ACL `{acl}` has scope cloudfront"),
                "user pools take regional web ACLs",
            );
        }
    }
    let known_attr = |a: &str| {
        STANDARD_ATTRIBUTES.contains(&a)
            || a.strip_prefix("custom:")
                .is_some_and(|n| pool.custom_attributes.contains_key(n))
    };
    for (name, client) in &pool.clients {
        let here = at.key("clients").key(name);
        let minutes = |l: Option<crate::model::Lifetime>, default: u64| {
            l.map(|l| l.minutes()).unwrap_or(default)
        };
        let access = minutes(client.access_token_validity, 60);
        let id = minutes(client.id_token_validity, 60);
        let refresh = minutes(client.refresh_token_validity, 30 * 24 * 60);
        if !(5..=1440).contains(&access) {
            c.error(
                here.key("access_token_validity"),
                format!("an access token lifetime of {access} minutes"),
                "Cognito allows 5 minutes to 1 day",
            );
        }
        if !(5..=1440).contains(&id) {
            c.error(
                here.key("id_token_validity"),
                format!("an ID token lifetime of {id} minutes"),
                "Cognito allows 5 minutes to 1 day",
            );
        }
        if !(60..=3650 * 24 * 60).contains(&refresh) {
            c.error(
                here.key("refresh_token_validity"),
                format!("a refresh token lifetime of {refresh} minutes"),
                "Cognito allows 60 minutes to 3650 days",
            );
        } else if refresh <= access.max(id) {
            c.error(
                here.key("refresh_token_validity"),
                "the refresh token expires before the tokens it refreshes",
                "make the refresh token live longer than the access and ID tokens",
            );
        }
        for (field, list) in [
            ("read_attributes", &client.read_attributes),
            ("write_attributes", &client.write_attributes),
        ] {
            for (i, a) in list.iter().flatten().enumerate() {
                if !known_attr(a) {
                    let hint = if pool.custom_attributes.contains_key(a.as_str()) {
                        format!("write `custom:{a}`")
                    } else {
                        "name a standard attribute or `custom:NAME` of a declared custom attribute"
                            .into()
                    };
                    c.error(
                        here.key(field).index(i),
                        format!("`{a}` is not an attribute of this pool"),
                        hint,
                    );
                }
            }
        }
        if client.auth_flows.as_ref().is_some_and(Vec::is_empty) {
            c.error(here.key("auth_flows"), "no sign-in flow", "list at least one of `user_srp`, `user_password`, `admin_user_password`, `custom_auth`");
        }
    }
}
