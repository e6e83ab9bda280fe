//! The two sides of a deployed stack, for the commands that read a stack
//! after its deploy (`status`, `verify`, `drift`, `logs`): the stack
//! file rendered for the environment, and what CloudFormation holds (state,
//! outputs, physical ids). Nothing is built: where a function's code lives
//! does not change what these commands read, so the last build's code
//! locations are used when there is one and `pending/` keys otherwise.

use super::stacks::LoadedStack;
use super::ui::Ui;
use crate::build::Layout;
use crate::engine::context::AwsContext;
use crate::engine::error::AwsError;
use crate::engine::stacks::{StackState, Stacks};
use crate::local::template::Deployed;
use crate::model::StackDef;
use crate::pipeline::{render_jobs, Outcome, Places};
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};
use serde_json::Value;
use std::path::Path;

/// A stack file rendered for one environment.
pub struct RenderedStack {
    /// The stack file's name (`guitar-collection`).
    pub app: String,
    /// The CloudFormation stack's name (`guitar-collection-prod`).
    pub stack_name: String,
    /// The definition as it is in the environment.
    pub def: StackDef,
    pub template: Value,
    /// Where each resource comes from in the stack file.
    pub places: Places,
}

/// Renders each stack for `env`; `None` after reporting the stacks whose
/// definitions have errors (they cannot be compared with anything).
pub fn render_for_reading(
    build_dir: &Path,
    stacks: &[LoadedStack],
    env: &str,
    ui: &Ui,
) -> anyhow::Result<Option<Vec<RenderedStack>>> {
    let renderer = Renderer::new(&TemplateSet::builtin())?;
    let layout = Layout::new(build_dir);
    let mut code = Vec::new();
    for stack in stacks {
        code.push(
            layout
                .read_manifest(&stack.name, env)?
                .map(|m| m.code_locations())
                .unwrap_or_else(CodeLocations::default),
        );
    }
    let jobs: Vec<(&crate::load::StackSource, &str, &CodeLocations)> = stacks
        .iter()
        .zip(&code)
        .map(|(s, c)| (&s.source, env, c))
        .collect();
    let mut rendered = Vec::new();
    let mut invalid = false;
    for (stack, outcome) in stacks.iter().zip(render_jobs(&jobs, &renderer)) {
        match outcome? {
            Outcome::Rendered {
                template, places, ..
            } => {
                let resolved = stack.source.resolve(env);
                let Some(def) = resolved.valid_def() else {
                    invalid = true;
                    continue;
                };
                let deployment = crate::plan::deployment(def, env);
                rendered.push(RenderedStack {
                    app: stack.name.clone(),
                    stack_name: deployment.stack_name,
                    def: StackDef::clone(def),
                    template,
                    places: *places,
                });
            }
            Outcome::Invalid(diagnostics) => {
                invalid = true;
                for d in diagnostics {
                    let _ = write!(ui.err(), "{}", d.render(&stack.source.file));
                }
            }
        }
    }
    Ok((!invalid).then_some(rendered))
}

/// The deployed stack `name`: its state and what the template's
/// references resolve to; `None` when there is no such stack, or only the
/// empty shell of a first change set that never ran.
pub async fn read_deployed(
    context: &AwsContext,
    name: &str,
) -> Result<Option<(StackState, Deployed)>, AwsError> {
    let cloudformation = context.cloudformation();
    let Some(state) = cloudformation.describe(name).await? else {
        return Ok(None);
    };
    // Created for a first change set that never ran: nothing is deployed.
    if state.status == "REVIEW_IN_PROGRESS" {
        return Ok(None);
    }
    let resources = cloudformation.resources(name).await?;
    let deployed = Deployed {
        stack_name: name.to_string(),
        region: context.region().to_string(),
        account: context.account().to_string(),
        // A resource still being created (or whose creation failed) has no
        // id yet: it resolves as not deployed, never as an empty name.
        physical_ids: resources
            .into_iter()
            .filter(|r| !r.physical_id.is_empty())
            .map(|r| (r.logical_id, r.physical_id))
            .collect(),
        outputs: state.outputs.iter().cloned().collect(),
        overrides: Default::default(),
    };
    Ok(Some((state, deployed)))
}
