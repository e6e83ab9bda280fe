//! `stackctl render`: the CloudFormation template of stacks for one
//! environment, to stdout or one file per stack.

use super::args::{OutputMode, RenderArgs, TemplateFormat};
use super::exit;
use super::settings::Settings;
use super::stacks::{load_stacks, read_template_overrides};
use super::ui::Ui;
use super::validate::report;
use crate::pipeline::{render_jobs, Outcome};
use crate::plan::CodeLocations;
use crate::render::{to_yaml, Renderer, TemplateSet};

pub fn run(settings: &Settings, args: &RenderArgs, ui: &Ui) -> anyhow::Result<u8> {
    let mut set = TemplateSet::builtin();
    if let Some(dir) = &args.templates {
        set = set.with_overrides(read_template_overrides(dir)?)?;
    }
    let renderer = Renderer::new(&set)?;
    let (stacks, load_failures) = load_stacks(&settings.stacks_dir, &args.stacks, ui)?;
    if args.out.is_none() && stacks.len() > 1 {
        ui.error(
            &format!("{} stacks would all go to standard output", stacks.len()),
            Some("name one stack, or write one file per stack with `--out DIR`"),
        );
        return Ok(exit::USAGE);
    }
    let mut failed = load_failures;
    let layout = crate::build::Layout::new(&settings.build_dir);
    let mut code = Vec::new();
    for stack in &stacks {
        // Code locations from the last build; `pending/` keys otherwise.
        code.push(match layout.read_manifest(&stack.name, &args.env)? {
            Some(m) => m.code_locations(),
            None => {
                ui.warning(
                    &format!(
                        "{} has not been built for {}; its template references `pending/` code",
                        stack.name, args.env
                    ),
                    Some(&format!("run `stackctl build --env {}` first", args.env)),
                );
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
        report(stack, &found, 1, OutputMode::Human, ui);
        let Outcome::Rendered { template, .. } = outcome else {
            failed += 1;
            continue;
        };
        let text = match args.format {
            TemplateFormat::Yaml => to_yaml(&template),
            TemplateFormat::Json => format!("{}\n", serde_json::to_string_pretty(&template)?),
        };
        match &args.out {
            None => ui.out().write_all(text.as_bytes())?,
            Some(dir) => {
                let ext = if args.format == TemplateFormat::Yaml {
                    "yaml"
                } else {
                    "json"
                };
                let path = dir.join(format!("{}-{}.{ext}", stack.name, args.env));
                crate::atomic_file::write_atomically(&path, text.as_bytes())?;
                ui.line(&format!("wrote {}", path.display()));
            }
        }
    }
    Ok(if failed > 0 { exit::FAILURE } else { exit::OK })
}
