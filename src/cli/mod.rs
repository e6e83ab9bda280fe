//! The binary's layer: parse arguments, resolve settings once, run one
//! command with one [`Ui`], print. Every command returns an exit code
//! instead of exiting, so tests run any of them in-process with captured
//! input and output ([`run_with`]).
//!
//! One file per command (`validate`, `render`, `build`, `diff`, `deploy`,
//! `destroy`, `outputs`, `status`, `verify`, `drift`, `logs`); no command imports another. What several share
//! lives beside them: [`settings`] (flags, environment, profile, region
//! check, the AWS connection), [`ui`], [`exit`], `stacks` (finding stack
//! files), `packages` (building handlers), `targets` (rendered stacks ready
//! for AWS), `diff_view` (the human diff), `console` (a deploy's progress
//! and questions).

mod args;
mod build;
mod console;
mod deploy;
mod deployed;
pub mod destroy;
mod diff;
mod diff_view;
mod drift;
pub mod exit;
mod local;
mod logs;
mod output_formats;
mod outputs;
mod packages;
mod render;
pub mod settings;
mod stacks;
mod status;
mod targets;
pub mod ui;
mod validate;
mod verify;

use args::{Cli, Command};
use clap::Parser;
use settings::Settings;
use std::ffi::OsString;
use std::io::Write;
pub use ui::{Interrupts, Ui};

/// Runs stackctl with `args` (including the program name), writing data to
/// `out` and messages to `err`, with nobody to ask. Returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> u8 {
    run_with(args, &Ui::captured(out, err, std::io::empty()))
}

/// Runs stackctl with `args` through `ui`. Returns the exit code.
pub fn run_with(args: impl IntoIterator<Item = OsString>, ui: &Ui) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = write!(ui.err(), "{text}");
                return exit::USAGE;
            }
            let _ = write!(ui.out(), "{text}");
            return exit::OK;
        }
    };
    ui.set_verbose(cli.verbose);
    let settings = match Settings::resolve(&cli) {
        Ok(s) => s,
        Err(refusal) => {
            ui.error(&refusal.message, refusal.hint.as_deref());
            return exit::USAGE;
        }
    };
    let result = match &cli.command {
        Command::Validate(a) => validate::run(&settings, a, ui),
        Command::Render(a) => render::run(&settings, a, ui),
        Command::Build(a) => build::run(&settings, a, ui),
        Command::Diff(a) => diff::run(&settings, a, ui),
        Command::Deploy(a) => deploy::run(&settings, a, ui),
        Command::Destroy(a) => destroy::run(&settings, a, ui),
        Command::Outputs(a) => outputs::run(&settings, a, ui),
        Command::Status(a) => status::run(&settings, a, ui),
        Command::Verify(a) => verify::run(&settings, a, ui),
        Command::Drift(a) => drift::run(&settings, a, ui),
        Command::Logs(a) => logs::run(&settings, a, ui),
        Command::Local(a) => local::run(&settings, a, ui),
        Command::Schema => {
            let _ = writeln!(ui.out(), "{}", crate::schema::schema_json());
            Ok(exit::OK)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            ui.report(&e);
            exit::FAILURE
        }
    }
}
