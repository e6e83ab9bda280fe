//! Stack files rendered for `dev` in the planning tests.

use crate::load::StackSource;
use crate::pipeline::{render_environment, Outcome};
use crate::plan::CodeLocations;
use crate::render::{Renderer, TemplateSet};
use crate::source::SourceFile;
use serde_json::Value;

/// The stack `text` (as file `name`) rendered for `dev`, or the diagnostics that stop it.
pub fn render(name: &str, text: &str) -> Outcome {
    let file = SourceFile {
        name: name.into(),
        text: text.into(),
    };
    let source = match StackSource::parse(file) {
        Ok(source) => source,
        Err((_, d)) => return Outcome::Invalid(d),
    };
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    render_environment(&source, "dev", &renderer, &CodeLocations::default()).unwrap()
}

/// The template of a stack that must render.
pub fn rendered(name: &str, text: &str) -> Value {
    match render(name, text) {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{d:#?}"),
    }
}
