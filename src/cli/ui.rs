//! The one way commands meet a person or a script: data on `out`, messages
//! on `err` in one style (`error:`, `warning:`, `  = hint:`), questions on
//! `input` only when a person can answer, live progress only on a terminal,
//! colour only on a terminal and never with `NO_COLOR`. Tests build one
//! over buffers and run any command in-process.

use crate::engine::error::AwsError;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

type Output<'a> = Mutex<&'a mut (dyn Write + Send)>;
type Input = Arc<Mutex<Box<dyn BufRead + Send>>>;

pub struct Ui<'a> {
    out: Output<'a>,
    err: Output<'a>,
    input: Input,
    /// A person is there to answer questions (a terminal, and not CI).
    person: bool,
    /// Progress may redraw lines (stderr is a terminal, and not CI).
    live: bool,
    colour: bool,
    verbose: AtomicBool,
    interrupts: Interrupts,
    started: Instant,
}

/// The answer to a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Line(String),
    /// Ctrl-C while waiting: the question is over at once.
    Interrupted,
    /// Nobody can be asked, or the input ended.
    NoAnswer,
}

impl<'a> Ui<'a> {
    /// The process's own terminal (or pipes): what `main` uses.
    pub fn terminal(out: &'a mut (dyn Write + Send), err: &'a mut (dyn Write + Send)) -> Ui<'a> {
        let ci = std::env::var_os("CI").is_some();
        let err_terminal = std::io::stderr().is_terminal();
        let mut ui = Ui::captured(out, err, std::io::BufReader::new(std::io::stdin()));
        ui.person = err_terminal && std::io::stdin().is_terminal() && !ci;
        ui.live = err_terminal && !ci;
        ui.colour = err_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        ui
    }

    /// Buffers and a scripted input: nobody to ask, no colour, plain lines.
    pub fn captured(
        out: &'a mut (dyn Write + Send),
        err: &'a mut (dyn Write + Send),
        input: impl BufRead + Send + 'static,
    ) -> Ui<'a> {
        Ui {
            out: Mutex::new(out),
            err: Mutex::new(err),
            input: Arc::new(Mutex::new(Box::new(input))),
            person: false,
            live: false,
            colour: false,
            verbose: AtomicBool::new(false),
            interrupts: Interrupts::default(),
            started: Instant::now(),
        }
    }

    /// As if a person sat at the input (for tests of prompts).
    pub fn with_person(mut self) -> Self {
        self.person = true;
        self
    }

    pub fn set_verbose(&self, verbose: bool) {
        self.verbose.store(verbose, Ordering::Relaxed);
    }

    pub fn can_ask(&self) -> bool {
        self.person
    }

    pub fn live_progress(&self) -> bool {
        self.live
    }

    pub fn interrupts(&self) -> &Interrupts {
        &self.interrupts
    }

    /// The data stream (stdout): what scripts read.
    pub fn out(&self) -> MutexGuard<'_, &'a mut (dyn Write + Send)> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The message stream (stderr), for text laid out by the caller.
    pub fn err(&self) -> MutexGuard<'_, &'a mut (dyn Write + Send)> {
        self.err.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One plain message line on stderr.
    pub fn line(&self, text: &str) {
        let _ = writeln!(self.err(), "{text}");
    }

    /// A progress line in logs: timestamped from the start of the command.
    pub fn progress_line(&self, text: &str) {
        let _ = writeln!(
            self.err(),
            "[{:>6.1}s] {text}",
            self.started.elapsed().as_secs_f64()
        );
    }

    pub fn error(&self, text: &str, hint: Option<&str>) {
        self.labelled("error", "1;31", text, hint);
    }

    pub fn warning(&self, text: &str, hint: Option<&str>) {
        self.labelled("warning", "1;33", text, hint);
    }

    fn labelled(&self, label: &str, colour: &str, text: &str, hint: Option<&str>) {
        let label = self.paint(label, colour);
        let mut err = self.err();
        let _ = writeln!(err, "{label}: {text}");
        if let Some(hint) = hint {
            let _ = writeln!(err, "  = {}: {hint}", self.paint("hint", "1;36"));
        }
    }

    fn paint(&self, text: &str, colour: &str) -> String {
        if self.colour {
            format!("\x1b[{colour}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// An error that ends a command: one sentence and a hint; the SDK's
    /// full report only with `--verbose`.
    pub fn report(&self, error: &anyhow::Error) {
        self.report_about(None, error);
    }

    /// The same, about one stack of several (`error: shop-prod: …`).
    pub fn report_about(&self, subject: Option<&str>, error: &anyhow::Error) {
        let about = |text: &str| match subject {
            Some(s) => format!("{s}: {text}"),
            None => text.to_string(),
        };
        if let Some(aws) = error.chain().find_map(|e| e.downcast_ref::<AwsError>()) {
            self.error(&about(&aws.to_string()), aws.hint().as_deref());
            if self.verbose.load(Ordering::Relaxed) {
                self.line(&format!("details (--verbose):\n{}", aws.detail()));
            }
        } else if let Some(r) = error.downcast_ref::<Refusal>() {
            self.error(&about(&r.message), r.hint.as_deref());
        } else {
            self.error(&about(&format!("{error:#}")), None);
        }
    }

    /// Asks a question on stderr and reads one line; ends at once on Ctrl-C
    /// (the read goes on in a thread nobody waits for).
    pub fn ask(&self, question: &str) -> Answer {
        if !self.person {
            return Answer::NoAnswer;
        }
        let seen = self.interrupts.count();
        {
            let mut err = self.err();
            let _ = write!(err, "{question} ");
            let _ = err.flush();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let input = self.input.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = input
                .lock()
                .map(|mut i| i.read_line(&mut line))
                .unwrap_or(Ok(0));
            let _ = tx.send(read.map(|n| (n, line)));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Ok((n, line))) if n > 0 => return Answer::Line(line.trim().to_string()),
                Ok(_) => return Answer::NoAnswer,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if self.interrupts.count() > seen {
                        self.line("");
                        return Answer::Interrupted;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Answer::NoAnswer,
            }
        }
    }
}

/// A refusal the CLI explains: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Refusal {}

/// Ctrl-C presses, counted; shared by the prompt (which polls the count)
/// and the async commands (which await the next one). `main`'s signal
/// listener raises them; tests raise them directly.
#[derive(Clone)]
pub struct Interrupts {
    count: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Default for Interrupts {
    fn default() -> Self {
        Interrupts {
            count: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }
}

impl Interrupts {
    pub fn raise(&self) {
        self.count.send_modify(|c| *c += 1);
    }

    pub fn count(&self) -> usize {
        *self.count.borrow()
    }

    /// Resolves once there have been more than `seen` interrupts.
    pub async fn after(&self, seen: usize) {
        let mut rx = self.count.subscribe();
        let _ = rx.wait_for(|c| *c > seen).await;
    }

    /// Counts the process's Ctrl-C presses from now on (instead of letting
    /// the first one end the process), on a thread of its own so a prompt
    /// blocked on input still sees them.
    pub fn listen_to_ctrl_c(&self) {
        static LISTENING: OnceLock<()> = OnceLock::new();
        let interrupts = self.clone();
        LISTENING.get_or_init(move || {
            let (ready, registered) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async {
                    let mut signals =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                            .ok();
                    let _ = ready.send(());
                    while let Some(s) = signals.as_mut() {
                        if s.recv().await.is_none() {
                            break;
                        }
                        interrupts.raise();
                    }
                });
            });
            // Registered before the command goes on, so no press is lost.
            let _ = registered.recv_timeout(Duration::from_secs(2));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupt_ends_a_question_at_once() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        // An input that never answers (a pipe held open).
        let (_keep_open, reader) = std::os::unix::net::UnixStream::pair().unwrap();
        let ui = Ui::captured(&mut out, &mut err, std::io::BufReader::new(reader)).with_person();
        let interrupts = ui.interrupts().clone();
        let presser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            interrupts.raise();
        });
        let asked = Instant::now();
        assert_eq!(ui.ask("deploy? [y/N]"), Answer::Interrupted);
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "{:?}",
            asked.elapsed()
        );
        presser.join().unwrap();
    }

    #[test]
    fn answers_come_from_the_input_and_nobody_is_asked_without_a_person() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let ui = Ui::captured(&mut out, &mut err, &b"yes\n"[..]).with_person();
        assert_eq!(ui.ask("go?"), Answer::Line("yes".into()));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let ui = Ui::captured(&mut out, &mut err, &b"yes\n"[..]);
        assert_eq!(ui.ask("go?"), Answer::NoAnswer);
    }

    #[test]
    fn messages_have_one_style_and_colour_only_when_allowed() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        {
            let ui = Ui::captured(&mut out, &mut err, std::io::empty());
            ui.error("it broke", Some("fix it"));
            ui.warning("careful", None);
        }
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "error: it broke\n  = hint: fix it\nwarning: careful\n"
        );
    }
}
