//! Stacks rendered for one environment and ready for AWS (built, rendered,
//! with their packages and the account-settings stack they need): what
//! `diff` and `deploy` both work on.

use super::packages::{build_packages, functions_of_stacks, shipments, Reporter};
use super::settings::Settings;
use super::stacks::LoadedStack;
use super::ui::Ui;
use crate::build::{Layout, Packaged};
use crate::engine::artifacts::Shipment;
use crate::engine::validation::Validation;
use crate::pipeline::{render_environment, Outcome, Places};
use crate::plan::account::{
    account_settings_tags, account_settings_template, needs_account_settings,
    ACCOUNT_SETTINGS_STACK,
};
use crate::plan::{deployment, Deployment};
use crate::render::{Renderer, TemplateSet};
use crate::rollback::RollbackGuard;
use serde_json::Value;

/// One stack ready to deploy.
pub struct Target {
    pub deployment: Deployment,
    pub depends_on: Vec<String>,
    pub app: String,
    pub template: Value,
    pub shipments: Vec<Shipment>,
    /// Where each resource of the template comes from in the stack file.
    pub places: Places,
    /// The account-settings stack rather than an application's.
    pub account_settings: bool,
}

impl Target {
    /// Points CloudFormation's validation findings at the stack file.
    pub fn locate(&self, validation: &mut Validation) {
        validation.locate(|id, property| self.places.of(&self.template, id, property));
    }
}

/// Resolves, builds and renders each stack for `env`; `None` after
/// reporting what is wrong with the definitions.
pub fn prepare(
    settings: &Settings,
    stacks: &[LoadedStack],
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Option<Vec<Target>>> {
    let Some(functions) = functions_of_stacks(stacks, Some(env), ui) else {
        return Ok(None);
    };
    let mut packaged: Vec<Packaged> = Vec::new();
    if !functions.is_empty() {
        let reporter = Reporter::new(functions.len(), ui);
        packaged = build_packages(settings, &functions, &reporter)?;
        reporter.finish();
    }
    let renderer = Renderer::new(&TemplateSet::builtin())?;
    let layout = Layout::new(&settings.build_dir);
    let mut targets = Vec::new();
    for stack in stacks {
        let code = layout
            .read_manifest(&stack.name, env)?
            .map(|m| m.code_locations())
            .unwrap_or_default();
        let (template, places) = match render_environment(&stack.source, env, &renderer, &code)? {
            Outcome::Rendered {
                template, places, ..
            } => (template, places),
            Outcome::Invalid(d) => {
                for d in d {
                    let _ = write!(ui.err(), "{}", d.render(&stack.source.file));
                }
                return Ok(None);
            }
        };
        let resolved = stack.source.resolve(env);
        let def = resolved.valid_def().expect("rendered, so valid");
        let ours: Vec<Packaged> = packaged
            .iter()
            .filter(|p| p.code.stack == stack.name)
            .cloned()
            .collect();
        let shipments = shipments(&ours);
        targets.push(Target {
            deployment: deployment(def, env),
            depends_on: def.depends_on.clone(),
            app: def.name.clone(),
            template,
            shipments,
            places: *places,
            account_settings: false,
        });
    }
    if let Some(clash) = targets
        .iter()
        .find(|t| t.deployment.stack_name == ACCOUNT_SETTINGS_STACK)
    {
        ui.error(
            &format!(
                "stack {} has the name stackctl keeps for its account-settings stack",
                clash.deployment.stack_name
            ),
            Some("rename the stack file (its name is the stack's)"),
        );
        return Ok(None);
    }
    if let Some(settings) = account_settings_target(&mut targets, &renderer)? {
        targets.push(settings);
    }
    Ok(Some(targets))
}

/// The account-settings stack, when a stack needs it, with every stack that
/// needs it made to depend on it (so it deploys in an earlier wave, and a
/// failure to set it blocks only them).
pub(super) fn account_settings_target(
    targets: &mut [Target],
    renderer: &Renderer,
) -> anyhow::Result<Option<Target>> {
    let mut needed = false;
    for t in targets
        .iter_mut()
        .filter(|t| needs_account_settings(&t.template))
    {
        t.depends_on.push(ACCOUNT_SETTINGS_STACK.into());
        needed = true;
    }
    if !needed {
        return Ok(None);
    }
    Ok(Some(Target {
        deployment: Deployment {
            stack_name: ACCOUNT_SETTINGS_STACK.into(),
            tags: account_settings_tags(),
            termination_protection: true,
            region: None,
            rollback: RollbackGuard::none(),
        },
        depends_on: Vec::new(),
        app: ACCOUNT_SETTINGS_STACK.into(),
        template: account_settings_template(renderer)?,
        shipments: Vec::new(),
        places: Places::default(),
        account_settings: true,
    }))
}
