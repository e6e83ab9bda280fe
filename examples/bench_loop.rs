//! Renders every seed stack in every environment N times (a profiling aid).
use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::render::{to_yaml, Renderer, TemplateSet};
use stackctl::source::SourceFile;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(20);
    let seeds: Vec<(String, String)> = ["cloud-platform", "ebay-sniper", "fleet-console", "guitar-collection"]
        .iter().map(|s| (s.to_string(), std::fs::read_to_string(format!("stacks/{s}.yaml")).unwrap())).collect();
    for _ in 0..n {
        let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
        for (name, text) in &seeds {
            let source = StackSource::parse(SourceFile { name: name.clone(), text: text.clone() }).map_err(|_| ()).unwrap();
            for env in ["dev", "staging", "prod"] {
                if let Outcome::Rendered { template, .. } = render_environment(&source, env, &renderer, &Default::default()).unwrap() {
                    std::hint::black_box(to_yaml(&template));
                }
            }
        }
    }
}
