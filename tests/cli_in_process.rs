//! A command run in-process with a person's input and its output captured:
//! `destroy` against the emulator names the account and region, asks for
//! the stack's name, and a Ctrl-C ends the question at once; a Ctrl-C at
//! `deploy`'s approval question ends it at once and removes what the deploy
//! had created.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::in_process;
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

fn run_in(dir: &Path, args: &[&str], input: &'static [u8]) -> in_process::Run {
    in_process::run(dir, args, input, true, |_| {})
}

/// One emulator for both scenarios, one after the other: `Moto::export`
/// sets the process's AWS endpoint, so two tests of this binary running at
/// once each with their own emulator pointed each other's commands at the
/// wrong one (and both used the stack `pinned-dev`).
#[test]
fn questions_asked_in_process_end_on_an_answer_or_a_ctrl_c() {
    let moto = Moto::start();
    moto.export();
    destroy_runs_in_process_asking_the_person_and_an_interrupt_ends_the_question();
    ctrl_c_at_the_deploy_question_ends_it_at_once_and_leaves_nothing_behind();
}

fn destroy_runs_in_process_asking_the_person_and_an_interrupt_ends_the_question() {
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
    let (_held_open, silent) = std::os::unix::net::UnixStream::pair().unwrap();
    let started = Instant::now();
    let (code, _, err) = in_process::run(
        dir.path(),
        &["destroy", "--env", "dev", "pinned"],
        std::io::BufReader::new(silent),
        true,
        |ui| {
            let interrupts = ui.interrupts().clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1500));
                interrupts.raise();
            });
        },
    );
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

/// An input nobody types into that presses Ctrl-C the moment a question
/// starts reading it, so the interrupt lands exactly while the question waits.
struct CtrlCWhenAsked {
    interrupts: std::sync::Arc<std::sync::OnceLock<stackctl::cli::Interrupts>>,
    never: std::sync::mpsc::Receiver<()>,
}

impl std::io::Read for CtrlCWhenAsked {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        if let Some(interrupts) = self.interrupts.get() {
            interrupts.raise();
        }
        // Blocks until the test ends (its sender is dropped): end of input.
        let _ = self.never.recv();
        Ok(0)
    }
}

fn ctrl_c_at_the_deploy_question_ends_it_at_once_and_leaves_nothing_behind() {
    let dir = project();
    let interrupts = std::sync::Arc::new(std::sync::OnceLock::new());
    let (_never_sent, never) = std::sync::mpsc::channel();
    let input = std::io::BufReader::new(CtrlCWhenAsked {
        interrupts: interrupts.clone(),
        never,
    });
    let (code, _, err) = in_process::run(
        dir.path(),
        &[
            "deploy",
            "--env",
            "dev",
            "--require-approval",
            "any-change",
            "pinned",
        ],
        input,
        true,
        |ui| {
            let _ = interrupts.set(ui.interrupts().clone());
        },
    );
    assert_eq!(code, 130, "{err}");
    assert!(
        err.contains("deploy these changes to pinned-dev? [y/N] \n"),
        "the question ends on Ctrl-C: {err}"
    );
    assert!(
        err.ends_with("interrupted before pinned-dev was changed; the new stack's empty shell (REVIEW_IN_PROGRESS) was deleted, and its change set with it\n"),
        "{err}"
    );
    // The stack CloudFormation created to hold the first change set is gone.
    let (code, out, err) = run_in(dir.path(), &["outputs", "--env", "dev", "pinned"], b"");
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("does not exist"), "{err}");
}
