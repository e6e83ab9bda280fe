//! A deploy's (or destroy's) progress and questions: one live line per
//! resource on a terminal, plain timestamped event lines otherwise (CI
//! logs); questions only when a person can answer, ended by Ctrl-C.

use super::diff_view::print_human;
use super::targets::Target;
use super::ui::{Answer, Ui};
use crate::engine::deploy::{Approval, Observer, StackDiff};
use crate::engine::stacks::StackEvent;
use crate::engine::watch::is_settled;
use crate::pipeline::Places;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

pub struct Console<'u, 'a> {
    ui: &'u Ui<'a>,
    multi: Option<MultiProgress>,
    bars: Mutex<BTreeMap<(String, String), ProgressBar>>,
    /// Stacks whose change set has been sent for execution.
    pub executing: Mutex<BTreeSet<String>>,
    /// Stacks for which a change set has been requested.
    pub change_sets: Mutex<BTreeSet<String>>,
    prompt: Mutex<()>,
    /// Template and stack-file places by stack name, to point
    /// CloudFormation's findings at the stack files.
    places: BTreeMap<String, (Value, Places)>,
}

impl<'u, 'a> Console<'u, 'a> {
    pub fn new(ui: &'u Ui<'a>) -> Self {
        let multi = ui
            .live_progress()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Console {
            ui,
            multi,
            bars: Mutex::new(BTreeMap::new()),
            executing: Mutex::new(BTreeSet::new()),
            change_sets: Mutex::new(BTreeSet::new()),
            prompt: Mutex::new(()),
            places: BTreeMap::new(),
        }
    }

    /// A console that points findings about `targets` at their stack files.
    pub fn locating(ui: &'u Ui<'a>, targets: &[Target]) -> Self {
        let places = targets
            .iter()
            .map(|t| {
                (
                    t.deployment.stack_name.clone(),
                    (t.template.clone(), t.places.clone()),
                )
            })
            .collect();
        Console {
            places,
            ..Console::new(ui)
        }
    }

    fn line(&self, text: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(text);
            }
            None => self.ui.progress_line(text),
        }
    }

    pub fn finish(&self) {
        for bar in self.bars.lock().expect("bars").values() {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }

    fn live_line(&self, multi: &MultiProgress, stack: &str, e: &StackEvent, message: String) {
        let mut bars = self.bars.lock().expect("bars");
        let bar = bars
            .entry((stack.to_string(), e.logical_id.clone()))
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                        .expect("valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(150));
                bar
            });
        if is_settled(&e.status) {
            bar.finish_with_message(message);
        } else {
            bar.set_message(message);
        }
    }
}

impl Observer for Console<'_, '_> {
    fn note(&self, stack: &str, text: &str) {
        self.line(&format!("{stack}: {text}"));
    }

    fn warning(&self, stack: &str, text: &str, hint: &str) {
        let text = format!("{stack}: {text}");
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("warning: {text}\n  = hint: {hint}"));
            }
            None => self.ui.warning(&text, Some(hint)),
        }
    }

    fn plan(&self, diff: &StackDiff) {
        let mut diff = diff.clone();
        if let Some((template, places)) = self.places.get(&diff.stack) {
            diff.validation
                .locate(|id, property| places.of(template, id, property));
        }
        let mut text = Vec::new();
        print_human(&diff, &mut text);
        for l in String::from_utf8_lossy(&text).lines() {
            self.line(l);
        }
    }

    fn event(&self, stack: &str, e: &StackEvent) {
        let reason = e
            .reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| format!("  {r}"))
            .unwrap_or_default();
        let message = format!(
            "{stack}  {:<32} {:<36} {}{reason}",
            e.logical_id, e.resource_type, e.status
        );
        match &self.multi {
            Some(multi) => self.live_line(multi, stack, e, message),
            None => self.line(&message),
        }
    }

    fn creating_change_set(&self, stack: &str) {
        self.change_sets
            .lock()
            .expect("change sets")
            .insert(stack.to_string());
    }

    fn executing(&self, stack: &str) {
        self.executing
            .lock()
            .expect("executing")
            .insert(stack.to_string());
    }

    fn approve(&self, _stack: &str, question: &str) -> Approval {
        if !self.ui.can_ask() {
            return Approval::CannotAsk;
        }
        let _one_at_a_time = self.prompt.lock().expect("prompt");
        let ask = || self.ui.ask(&format!("{question} [y/N]"));
        let answer = match &self.multi {
            Some(multi) => multi.suspend(ask),
            None => ask(),
        };
        match answer {
            Answer::Line(a) if matches!(a.to_ascii_lowercase().as_str(), "y" | "yes") => {
                Approval::Granted
            }
            Answer::Interrupted => Approval::Interrupted,
            _ => Approval::Declined,
        }
    }
}
