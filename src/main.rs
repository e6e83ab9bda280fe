//! The `stackctl` binary: everything happens in `stackctl::cli::run`.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Unlocked handles: progress bars draw to stderr from their own thread.
    let code = stackctl::cli::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}
