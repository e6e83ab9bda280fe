//! `stackctl status`: being built (issue 13); until it lands it says so
//! and exits 1 rather than pretending to check anything.

use super::args::StatusArgs;
use super::exit;
use super::settings::Settings;
use super::ui::Ui;

pub fn run(_settings: &Settings, _args: &StatusArgs, ui: &Ui) -> anyhow::Result<u8> {
    ui.error("`stackctl status` is not built yet", None);
    Ok(exit::FAILURE)
}
