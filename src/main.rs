//! The `stackctl` binary: one `Ui` over the process's own streams, and
//! everything else in `stackctl::cli::run_with`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Unlocked handles: progress bars draw to stderr from their own thread.
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let ui = stackctl::cli::Ui::terminal(&mut out, &mut err);
    ExitCode::from(stackctl::cli::run_with(std::env::args_os(), &ui))
}
