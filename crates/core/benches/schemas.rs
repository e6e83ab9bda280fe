//! What holding templates to CloudFormation's resource schemas costs:
//! `check::check_resources` over the twelve seed templates (four seeds in
//! dev, staging and prod), rendered beforehand and not timed.
//!
//! Run with `cargo bench -p stackctl-core --bench schemas`. Two figures:
//! - first use in a process, as one `stackctl validate` pays it: the
//!   patterns the templates meet are compiled (the schemas themselves are
//!   static data, compiled into the binary). Measured in fresh processes (the bench runs itself again),
//!   median of 21; the goal is 5 ms.
//! - later uses in the same process (schemas parsed, patterns compiled).
//!
//! Both run on one thread; `validate` spreads the work over every core.
//! First uses also report the thread's on-CPU time, which a busy machine's
//! waiting does not inflate.

use stackctl_core::check::check_resources;
use stackctl_core::load::StackSource;
use stackctl_core::render::{Renderer, TemplateSet};
use stackctl_core::source::SourceFile;
use std::process::Command;
use std::time::{Duration, Instant};

const COLD_RUN: &str = "STACKCTL_BENCH_COLD_RUN";

fn seed_templates() -> Vec<serde_json::Value> {
    // The seed stacks live at the workspace root.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
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
            let plan = stackctl_core::plan::plan(def, &Default::default());
            templates.push(renderer.render_owned(plan).expect("renders"));
        }
    }
    templates
}

fn check_all(templates: &[serde_json::Value]) -> usize {
    templates.iter().map(|t| check_resources(t).len()).sum()
}

/// Nanoseconds this thread has spent on a CPU, so a busy machine's waiting
/// is not counted as work.
fn on_cpu_nanos() -> Option<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    (status == 0).then(|| now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
}

/// One first use in this process: (wall, on-CPU) nanoseconds.
fn first_use(templates: &[serde_json::Value]) -> (u64, Option<u64>) {
    let (start, cpu_start) = (Instant::now(), on_cpu_nanos());
    let findings = check_all(templates);
    let wall = start.elapsed().as_nanos() as u64;
    let cpu = on_cpu_nanos()
        .zip(cpu_start)
        .map(|(end, start)| end - start);
    assert_eq!(findings, 0, "the seed templates have findings");
    (wall, cpu)
}

fn summary(mut runs: Vec<Duration>) -> String {
    runs.sort();
    let n = runs.len();
    format!(
        "median {:.2?} (min {:.2?}, max {:.2?}, {n} runs)",
        runs[n / 2],
        runs[0],
        runs[n - 1]
    )
}

fn main() {
    let templates = seed_templates();
    if std::env::var_os(COLD_RUN).is_some() {
        let (wall, cpu) = first_use(&templates);
        println!("{wall} {}", cpu.map_or("-".to_string(), |c| c.to_string()));
        return;
    }
    let resources: usize = templates
        .iter()
        .map(|t| t["Resources"].as_object().map_or(0, |r| r.len()))
        .sum();
    println!("{} templates, {resources} resources", templates.len());
    let exe = std::env::current_exe().expect("own path");
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        let out = Command::new(&exe)
            .env(COLD_RUN, "1")
            .output()
            .expect("run again");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut fields = text.split_whitespace();
        let nanos = |f: Option<&str>| f.and_then(|f| f.parse().ok()).map(Duration::from_nanos);
        wall.push(nanos(fields.next()).expect("wall nanoseconds"));
        cpu.extend(nanos(fields.next()));
    }
    let goal = Duration::from_millis(5);
    let mut sorted = wall.clone();
    sorted.sort();
    let verdict = if sorted[10] <= goal { "within" } else { "OVER" };
    println!(
        "first use in a process, wall clock: {} - median {verdict} the {goal:?} goal",
        summary(wall)
    );
    if !cpu.is_empty() {
        println!("first use in a process, on-CPU time: {}", summary(cpu));
    }
    check_all(&templates);
    let warm: Vec<Duration> = (0..101)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(check_all(&templates));
            start.elapsed()
        })
        .collect();
    println!("later uses, wall clock: {}", summary(warm));
}
