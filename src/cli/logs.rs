//! `stackctl logs`: being built (issue 13); until it lands it says so
//! and exits 1 rather than pretending to check anything.

use super::args::LogsArgs;
use super::exit;
use super::settings::Settings;
use super::ui::Ui;

pub fn run(_settings: &Settings, _args: &LogsArgs, ui: &Ui) -> anyhow::Result<u8> {
    ui.error("`stackctl logs` is not built yet", None);
    Ok(exit::FAILURE)
}
