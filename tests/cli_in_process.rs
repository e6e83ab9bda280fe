//! A command run in-process with a person's input and its output captured:
//! `destroy` against the emulator names the account and region, asks for
//! the stack's name, and a Ctrl-C ends the question at once.

mod support;

use stackctl::cli::{run_with, Ui};
use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};
use support::moto::Moto;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
    std::fs::write(
        dir.path().join("stacks/pinned.yaml"),
        "name: pinned\nregion: us-east-1\ntables:\n  items:\n    partition_key: {name: id, type: S}\n",
    )
    .unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str], input: &'static [u8]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = {
        let ui = Ui::captured(&mut out, &mut err, input).with_person();
        let mut argv: Vec<OsString> = vec![
            "stackctl".into(),
            "--stacks-dir".into(),
            dir.join("stacks").into(),
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

#[test]
fn destroy_runs_in_process_asking_the_person_and_an_interrupt_ends_the_question() {
    let moto = Moto::start();
    moto.export();
    let dir = project();

    // The person types another name: nothing is deleted, and the account
    // and region were named before the question.
    let (code, out, err) = run_in(
        dir.path(),
        &["destroy", "--env", "dev", "pinned"],
        b"pinned\n",
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(
        err.starts_with("AWS account 123456789012 in us-east-1\n"),
        "{err}"
    );
    // (A terminal echoes the typed line; captured input does not.)
    assert!(
        err.contains("Type the stack name to confirm: not confirmed; nothing was deleted\n"),
        "{err}"
    );
    let (code, _, err) = run_in(
        dir.path(),
        &["destroy", "--env", "dev", "pinned"],
        b"pinned-dev\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.ends_with("pinned-dev does not exist; nothing to destroy\n"),
        "{err}"
    );

    // Nobody answers; Ctrl-C ends the question at once.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (_held_open, silent) = std::os::unix::net::UnixStream::pair().unwrap();
    let started = Instant::now();
    let code = {
        let ui = Ui::captured(&mut out, &mut err, std::io::BufReader::new(silent)).with_person();
        let interrupts = ui.interrupts().clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            interrupts.raise();
        });
        let argv: Vec<OsString> = ["stackctl", "--stacks-dir"]
            .into_iter()
            .map(OsString::from)
            .chain([dir.path().join("stacks").into()])
            .chain(["destroy", "--env", "dev", "pinned"].map(OsString::from))
            .collect();
        run_with(argv, &ui)
    };
    let err = String::from_utf8(err).unwrap();
    assert_eq!(code, 130, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.ends_with("Type the stack name to confirm: \ninterrupted; nothing was deleted\n"),
        "{err}"
    );
}
