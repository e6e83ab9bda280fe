//! The binary's layer: parse arguments, read files, call the stages, print.
//! Every command returns an exit code instead of exiting, so tests run it
//! in-process with captured output.

mod args;
mod build;
mod deploy;
mod diff;
mod outputs;
mod stacks;

pub use args::exit;
use args::{Cli, Command, OutputMode, RenderArgs, TemplateFormat, ValidateArgs};
use clap::Parser;
use std::ffi::OsString;
use std::io::Write;

use crate::diagnostic::Diagnostic;
use crate::pipeline::{render_jobs, Outcome};
use crate::plan::CodeLocations;
use crate::render::{to_yaml, Renderer, TemplateSet};
pub use stacks::write_atomically;
use stacks::{load_stacks, read_template_overrides, LoadedStack};

/// Runs stackctl with `args` (including the program name), writing data to
/// `out` and messages to `err`. Returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    let result = match &cli.command {
        Command::Validate(a) => validate(&cli, a, out, err),
        Command::Render(a) => render(&cli, a, out, err),
        Command::Build(a) => build::run(&cli, a, err),
        Command::Diff(a) => diff::run(&cli, a, out, err),
        Command::Deploy(a) => deploy::run(&cli, a, out, err),
        Command::Destroy(a) => deploy::destroy(&cli, a, err),
        Command::Outputs(a) => outputs::run(&cli, a, out, err),
        Command::Schema => {
            let _ = writeln!(out, "{}", crate::schema::schema_json());
            Ok(exit::OK)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            exit::FAILURE
        }
    }
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
fn report(
    stack: &LoadedStack,
    found: &[(String, Vec<Diagnostic>)],
    all_envs: usize,
    mode: OutputMode,
    err: &mut dyn Write,
    out: &mut dyn Write,
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
                let _ = writeln!(out, "{v}");
            }
            OutputMode::Human => {
                let mut d = d.clone();
                if envs.len() < all_envs {
                    d.message = format!("{} (in {})", d.message, envs.join(", "));
                }
                let _ = write!(err, "{}", d.render(&stack.source.file));
            }
        }
    }
    unique.into_iter().map(|(d, _)| d).collect()
}

fn validate(
    cli: &Cli,
    args: &ValidateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (stacks, load_failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
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
        let reported = report(stack, &found, envs.len(), args.output, err, out);
        tally.add(&reported);
        if reported.iter().any(Diagnostic::is_error) {
            tally.failed_stacks += 1;
        } else if args.output == OutputMode::Human {
            let _ = writeln!(err, "ok: {} ({})", stack.source.file.name, envs.join(", "));
        }
    }
    if args.output == OutputMode::Human {
        let _ = writeln!(err, "{}", tally.summary(stacks.len() + load_failures));
    }
    Ok(if tally.errors > 0 {
        exit::FAILURE
    } else {
        exit::OK
    })
}

fn render(
    cli: &Cli,
    args: &RenderArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<u8> {
    let mut set = TemplateSet::builtin();
    if let Some(dir) = &args.templates {
        set = set.with_overrides(read_template_overrides(dir)?)?;
    }
    let renderer = Renderer::new(&set)?;
    let (stacks, load_failures) = load_stacks(&cli.stacks_dir, &args.stacks, err)?;
    if args.out.is_none() && stacks.len() > 1 {
        let _ = writeln!(err, "error: {} stacks would all go to standard output\n  = hint: name one stack, or write one file per stack with `--out DIR`", stacks.len());
        return Ok(exit::USAGE);
    }
    let mut failed = load_failures;
    let layout = crate::build::Layout::new(&cli.build_dir);
    let mut code = Vec::new();
    for stack in &stacks {
        // Code locations from the last build; `pending/` keys otherwise.
        code.push(match layout.read_manifest(&stack.name, &args.env)? {
            Some(m) => m.code_locations(),
            None => {
                let _ = writeln!(err, "note: {} has not been built for {}; its template references `pending/` code (run `stackctl build --env {}`)", stack.name, args.env, args.env);
                CodeLocations::default()
            }
        });
    }
    let jobs: Vec<(&crate::load::StackSource, &str, &CodeLocations)> = stacks
        .iter()
        .zip(&code)
        .map(|(s, c)| (&s.source, args.env.as_str(), c))
        .collect();
    let outcomes = render_jobs(&jobs, &renderer);
    for (stack, outcome) in stacks.iter().zip(outcomes) {
        let outcome = outcome?;
        let found = vec![(args.env.clone(), outcome.diagnostics().to_vec())];
        report(stack, &found, 1, OutputMode::Human, err, out);
        let Outcome::Rendered { template, .. } = outcome else {
            failed += 1;
            continue;
        };
        let text = match args.format {
            TemplateFormat::Yaml => to_yaml(&template),
            TemplateFormat::Json => format!("{}\n", serde_json::to_string_pretty(&template)?),
        };
        match &args.out {
            None => out.write_all(text.as_bytes())?,
            Some(dir) => {
                let ext = if args.format == TemplateFormat::Yaml {
                    "yaml"
                } else {
                    "json"
                };
                let path = dir.join(format!("{}-{}.{ext}", stack.name, args.env));
                crate::cli::stacks::write_atomically(&path, text.as_bytes())?;
                let _ = writeln!(err, "wrote {}", path.display());
            }
        }
    }
    Ok(if failed > 0 { exit::FAILURE } else { exit::OK })
}
