//! What holding templates to CloudFormation's resource schemas costs:
//! `check::check_resources` over the twelve seed templates (four seeds in
//! dev, staging and prod), rendered beforehand and not timed.
//!
//! Run with `cargo bench --bench schemas`. Two figures:
//! - first use in a process, as one `stackctl validate` pays it: the
//!   patterns the templates meet are compiled (the schemas themselves are
//!   static data, compiled into the binary). Measured in fresh processes (the bench runs itself again),
//!   median of 21; the goal is 5 ms.
//! - later uses in the same process (schemas parsed, patterns compiled).
//!
//! Both run on one thread; `validate` spreads the work over every core.

use stackctl::check::check_resources;
use stackctl::load::StackSource;
use stackctl::render::{Renderer, TemplateSet};
use stackctl::source::SourceFile;
use std::process::Command;
use std::time::{Duration, Instant};

const COLD_RUN: &str = "STACKCTL_BENCH_COLD_RUN";

fn seed_templates() -> Vec<serde_json::Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates compile");
    let mut templates = Vec::new();
    for stack in [
        "cloud-platform",
        "ebay-sniper",
        "fleet-console",
        "guitar-collection",
    ] {
        let name = format!("stacks/{stack}.yaml");
        let text = std::fs::read_to_string(root.join(&name)).expect("seed stack");
        let source = StackSource::parse(SourceFile { name, text })
            .map_err(|(_, d)| d)
            .expect("parses");
        for env in ["dev", "staging", "prod"] {
            // Rendering alone, without the pipeline's schema check, so nothing is warmed up.
            let resolved = source.resolve(env);
            let def = resolved.valid_def().expect("valid seed");
            let plan = stackctl::plan::plan(def, &Default::default());
            templates.push(renderer.render_owned(plan).expect("renders"));
        }
    }
    templates
}

fn check_all(templates: &[serde_json::Value]) -> usize {
    templates.iter().map(|t| check_resources(t).len()).sum()
}

fn main() {
    let templates = seed_templates();
    if std::env::var_os(COLD_RUN).is_some() {
        let start = Instant::now();
        let findings = check_all(&templates);
        println!("{}", start.elapsed().as_nanos());
        assert_eq!(findings, 0, "the seed templates have findings");
        return;
    }
    let resources: usize = templates
        .iter()
        .map(|t| t["Resources"].as_object().map_or(0, |r| r.len()))
        .sum();
    println!("{} templates, {resources} resources", templates.len());
    let exe = std::env::current_exe().expect("own path");
    let mut cold: Vec<Duration> = (0..21)
        .map(|_| {
            let out = Command::new(&exe)
                .env(COLD_RUN, "1")
                .output()
                .expect("run again");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Duration::from_nanos(
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("nanoseconds"),
            )
        })
        .collect();
    cold.sort();
    let goal = Duration::from_millis(5);
    let verdict = if cold[10] <= goal { "within" } else { "OVER" };
    println!("first use in a process: median {:.2?} (min {:.2?}, max {:.2?}, 21 processes) - {verdict} the {goal:?} goal", cold[10], cold[0], cold[20]);
    check_all(&templates);
    let mut warm: Vec<Duration> = (0..101)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(check_all(&templates));
            start.elapsed()
        })
        .collect();
    warm.sort();
    println!(
        "later uses: median {:.2?} (min {:.2?}, p90 {:.2?}, 101 runs)",
        warm[50], warm[0], warm[90]
    );
}
