//! The account-settings stack (see [`crate::plan::account`]), deployed
//! through the same change-set path as every stack: its no-change shortcut
//! makes an unchanged one two read calls, and its guards apply (its role is
//! a grant, so a first deploy needs the same approval as any other).

use super::deploy::{DeployOutcome, DeployRequest};
use super::watch::Pacing;
use crate::diff::guard::RequireApproval;
use crate::plan::account::{account_settings_tags, ACCOUNT_SETTINGS_STACK};
use serde_json::Value;

/// What ensuring the account settings did, for the one line that reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountSettings {
    UpToDate,
    Created,
    Updated,
}

impl AccountSettings {
    /// From the deploy of the account-settings stack; `None` when it did
    /// not succeed (the outcome then says why).
    pub fn from_outcome(outcome: &DeployOutcome) -> Option<AccountSettings> {
        match outcome {
            DeployOutcome::NoChanges { .. } => Some(AccountSettings::UpToDate),
            DeployOutcome::Deployed { status, .. } if status == "CREATE_COMPLETE" => {
                Some(AccountSettings::Created)
            }
            DeployOutcome::Deployed { .. } => Some(AccountSettings::Updated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountSettings::UpToDate => "up to date",
            AccountSettings::Created => "created",
            AccountSettings::Updated => "updated",
        }
    }
}

/// The deploy of the account-settings stack: always under termination
/// protection, since deleting it breaks the logging of every REST API in
/// the account and region.
pub fn account_settings_request(
    template: Value,
    require_approval: RequireApproval,
    wait_busy: bool,
    change_set_name: String,
    pacing: Pacing,
) -> DeployRequest {
    DeployRequest {
        stack: ACCOUNT_SETTINGS_STACK.into(),
        template,
        tags: account_settings_tags(),
        shipments: Vec::new(),
        allow_replace: Vec::new(),
        require_approval,
        termination_protection: true,
        wait_busy,
        rollback: crate::rollback::RollbackGuard::none(),
        revert_drift: false,
        change_set_name,
        pacing,
    }
}
