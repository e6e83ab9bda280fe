//! Runs a command in-process, as `main` would, with its output captured.

use stackctl::cli::{run_with, Ui};
use std::ffi::OsString;
use std::io::BufRead;
use std::path::Path;

/// A command run: exit code, stdout, stderr.
pub type Run = (u8, String, String);

/// Runs `stackctl --stacks-dir DIR/stacks --build-dir DIR/.stackctl ARGS`
/// with `input` as the person's input (`person`: as if someone sat at a
/// terminal). `with_ui` sees the Ui before the command runs (to hand its
/// interrupts to something that presses Ctrl-C).
pub fn run(
    dir: &Path,
    args: &[&str],
    input: impl BufRead + Send + 'static,
    person: bool,
    with_ui: impl FnOnce(&Ui),
) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let ui = Ui::captured(&mut out, &mut err, input);
        let ui = if person { ui.with_person() } else { ui };
        with_ui(&ui);
        let mut argv: Vec<OsString> = vec![
            "stackctl".into(),
            "--stacks-dir".into(),
            dir.join("stacks").into(),
            "--build-dir".into(),
            dir.join(".stackctl").into(),
        ];
        argv.extend(args.iter().map(OsString::from));
        run_with(argv, &ui)
    };
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}
