//! `stackctl outputs`: a deployed stack's outputs for people and for tools
//! (a frontend build, a CI step).

use super::args::OutputsArgs;
use super::exit;
use super::output_formats::format_outputs;
use super::settings::{connect, DeclaredRegion, Settings};
use super::stacks::deployment_of;
use super::ui::Ui;
use crate::engine::stacks::Stacks;

pub fn run(settings: &Settings, args: &OutputsArgs, ui: &Ui) -> anyhow::Result<u8> {
    let Some(target) = deployment_of(&settings.stacks_dir, &args.stack, &args.env, ui)? else {
        return Ok(exit::FAILURE);
    };
    let name = target.stack_name;
    let declared = DeclaredRegion {
        stack: name.clone(),
        region: target.region,
    };
    // Read-only: no account line, so the output stays what a script reads.
    let aws = connect(settings, std::slice::from_ref(&declared), false, ui)?;
    let state = aws
        .runtime
        .block_on(aws.context.cloudformation().describe(&name))?;
    let Some(state) = state else {
        ui.error(
            &format!("stack {name} does not exist in {}", aws.context.region()),
            Some(&format!(
                "deploy it with `stackctl deploy --env {} {}`",
                args.env, args.stack
            )),
        );
        return Ok(exit::FAILURE);
    };
    let mut outputs = state.outputs;
    outputs.sort();
    let text = format_outputs(&outputs, args.format);
    ui.out().write_all(text.as_bytes())?;
    Ok(exit::OK)
}
