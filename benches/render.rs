//! Render benchmark: all four seed stacks in dev, staging and prod, and a
//! generated stack of about 500 resources, through the library as the
//! release binary runs it (parse, validate, plan, render, check, YAML out).
//!
//! Run with `cargo bench --bench render`. Prints the median and spread of
//! repeated runs; the goals are 20 ms for the twelve seed renders and 50 ms
//! for the large stack. Each run includes compiling the templates, as one
//! `stackctl` process does; renders use every core (`render_jobs`). A
//! one-core figure is printed too.

use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, render_jobs, Outcome};
use stackctl::render::{to_yaml, Renderer, TemplateSet};
use stackctl::source::SourceFile;
use std::time::{Duration, Instant};

/// What `stackctl render --out DIR` does for these stacks: parse each file,
/// compile the templates once, render every (stack, environment) pair on all
/// cores, and write YAML.
fn render_all(sources: &[(String, String)], envs: &[&str]) -> usize {
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates compile");
    let parsed: Vec<StackSource> = sources
        .iter()
        .map(|(name, text)| {
            StackSource::parse(SourceFile {
                name: name.clone(),
                text: text.clone(),
            })
            .map_err(|(_, d)| d)
            .expect("parses")
        })
        .collect();
    let pending: &stackctl::plan::CodeLocations = &Default::default();
    let jobs: Vec<(&StackSource, &str, &stackctl::plan::CodeLocations)> = parsed
        .iter()
        .flat_map(|s| envs.iter().map(move |e| (s, *e, pending)))
        .collect();
    render_jobs(&jobs, &renderer)
        .into_iter()
        .map(|outcome| match outcome.expect("renders") {
            Outcome::Rendered { template, .. } => to_yaml(&template).len(),
            Outcome::Invalid(d) => panic!("invalid: {d:?}"),
        })
        .sum()
}

fn large_stack(functions: usize, tables: usize) -> String {
    let mut text = String::from("name: large\nfunction_defaults: {memory: 256}\ntables:\n");
    for t in 0..tables {
        text.push_str(&format!("  t{t}:\n    partition_key: {{name: pk, type: S}}\n    sort_key: {{name: sk, type: S}}\n"));
    }
    text.push_str("functions:\n");
    for f in 0..functions {
        let t = f % tables;
        text.push_str(&format!("  f{f}:\n    crate: handler-{f}\n    environment: {{TABLE: \"${{tables.t{t}.name}}\"}}\n    access:\n      tables: {{t{t}: read_write}}\n"));
    }
    text
}

fn measure(label: &str, runs: usize, goal: Duration, mut f: impl FnMut() -> usize) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[runs / 2];
    let verdict = if median <= goal { "within" } else { "OVER" };
    println!("{label}: median {median:.2?} (min {:.2?}, p90 {:.2?}, {runs} runs) - {verdict} the {goal:?} goal", times[0], times[runs * 9 / 10]);
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds: Vec<(String, String)> = [
        "cloud-platform",
        "ebay-sniper",
        "fleet-console",
        "guitar-collection",
    ]
    .iter()
    .map(|s| {
        let name = format!("stacks/{s}.yaml");
        (
            name.clone(),
            std::fs::read_to_string(root.join(&name)).expect("seed stack"),
        )
    })
    .collect();
    let large = vec![("large.yaml".to_string(), large_stack(130, 100))];
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let source = StackSource::parse(SourceFile {
        name: "large.yaml".into(),
        text: large[0].1.clone(),
    })
    .map_err(|(_, d)| d)
    .unwrap();
    if let Outcome::Rendered { template, .. } =
        render_environment(&source, "prod", &renderer, &Default::default()).unwrap()
    {
        println!(
            "generated stack: {} resources, {} outputs",
            template["Resources"].as_object().unwrap().len(),
            template["Outputs"].as_object().map_or(0, |o| o.len())
        );
    }
    measure(
        "4 seed stacks x 3 environments",
        50,
        Duration::from_millis(20),
        || render_all(&seeds, &["dev", "staging", "prod"]),
    );
    measure(
        "generated ~500-resource stack",
        30,
        Duration::from_millis(50),
        || render_all(&large, &["prod"]),
    );
    let one_core = || {
        let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
        let mut bytes = 0;
        for (name, text) in &seeds {
            let source = StackSource::parse(SourceFile {
                name: name.clone(),
                text: text.clone(),
            })
            .map_err(|(_, d)| d)
            .unwrap();
            for env in ["dev", "staging", "prod"] {
                if let Outcome::Rendered { template, .. } =
                    render_environment(&source, env, &renderer, &Default::default()).unwrap()
                {
                    bytes += to_yaml(&template).len();
                }
            }
        }
        bytes
    };
    measure(
        "4 seed stacks x 3 environments, one core",
        50,
        Duration::from_millis(20),
        one_core,
    );
}
