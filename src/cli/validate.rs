//! `stackctl validate`: every mistake that can be known before AWS sees a
//! stack, in every environment (or one), located in the stack file.

use super::args::{OutputMode, ValidateArgs};
use super::exit;
use super::settings::Settings;
use super::stacks::{load_stacks, LoadedStack};
use super::ui::Ui;
use crate::diagnostic::Diagnostic;
use crate::pipeline::render_jobs;
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};

pub fn run(settings: &Settings, args: &ValidateArgs, ui: &Ui) -> anyhow::Result<u8> {
    let (stacks, load_failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    let renderer = Renderer::new(&TemplateSet::builtin())?;
    let mut tally = Tally {
        failed_stacks: load_failures,
        errors: load_failures,
        ..Tally::default()
    };
    let envs_of = |stack: &LoadedStack| -> Vec<String> {
        match &args.env {
            Some(e) => vec![e.clone()],
            None => stack.source.environments().map(String::from).collect(),
        }
    };
    let all_envs: Vec<Vec<String>> = stacks.iter().map(envs_of).collect();
    // The code functions name must exist: crates in the workspace here,
    // packages beside the stack file. Looking is I/O, so it happens here.
    let crates = crate::build::workspace_crates(&std::env::current_dir()?);
    let code: Vec<CodeLocations> = stacks
        .iter()
        .map(|s| CodeLocations {
            available: crate::validate::AvailableCode {
                crates: crates.clone(),
                zips: Some(crate::build::existing_zips(&s.source)),
            },
            ..CodeLocations::default()
        })
        .collect();
    let jobs: Vec<(&crate::load::StackSource, &str, &CodeLocations)> = stacks
        .iter()
        .zip(&all_envs)
        .zip(&code)
        .flat_map(|((s, envs), code)| envs.iter().map(move |e| (&s.source, e.as_str(), code)))
        .collect();
    let mut outcomes = render_jobs(&jobs, &renderer).into_iter();
    for (stack, envs) in stacks.iter().zip(&all_envs) {
        let mut found = Vec::new();
        for env in envs {
            let outcome = outcomes.next().expect("one outcome per job")?;
            found.push((env.clone(), outcome.diagnostics().to_vec()));
        }
        let reported = report(stack, &found, envs.len(), args.output, ui);
        tally.add(&reported);
        if reported.iter().any(Diagnostic::is_error) {
            tally.failed_stacks += 1;
        } else if args.output == OutputMode::Human {
            ui.line(&format!(
                "ok: {} ({})",
                stack.source.file.name,
                envs.join(", ")
            ));
        }
    }
    if args.output == OutputMode::Human {
        ui.line(&tally.summary(stacks.len() + load_failures));
    }
    Ok(if tally.errors > 0 {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// Counts what a command reported, for its closing line.
#[derive(Default)]
struct Tally {
    errors: usize,
    warnings: usize,
    failed_stacks: usize,
}

impl Tally {
    fn add(&mut self, diagnostics: &[Diagnostic]) {
        self.errors += diagnostics.iter().filter(|d| d.is_error()).count();
        self.warnings += diagnostics.iter().filter(|d| !d.is_error()).count();
    }
    fn summary(&self, stacks: usize) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {} in {} of {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            self.failed_stacks,
            plural(stacks, "stack")
        )
    }
}

/// Prints diagnostics once each, noting the environments they occur in when
/// not all of them.
pub(super) fn report(
    stack: &LoadedStack,
    found: &[(String, Vec<Diagnostic>)],
    all_envs: usize,
    mode: OutputMode,
    ui: &Ui,
) -> Vec<Diagnostic> {
    let mut unique: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    for (env, diagnostics) in found {
        for d in diagnostics {
            match unique.iter_mut().find(|(u, _)| u == d) {
                Some((_, envs)) => envs.push(env.clone()),
                None => unique.push((d.clone(), vec![env.clone()])),
            }
        }
    }
    for (d, envs) in &unique {
        match mode {
            OutputMode::Json => {
                let mut v = d.to_json(&stack.source.file);
                v["environments"] = serde_json::json!(envs);
                let _ = writeln!(ui.out(), "{v}");
            }
            OutputMode::Human => {
                let mut d = d.clone();
                if envs.len() < all_envs {
                    d.message = format!("{} (in {})", d.message, envs.join(", "));
                }
                let _ = write!(ui.err(), "{}", d.render(&stack.source.file));
            }
        }
    }
    unique.into_iter().map(|(d, _)| d).collect()
}
