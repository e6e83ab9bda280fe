//! Times each pipeline stage for one stack: `cargo bench --bench stages -- stacks/NAME.yaml`.
use stackctl::load::StackSource;
use stackctl::plan::plan;
use stackctl::render::{to_yaml, Renderer, TemplateSet};
use stackctl::source::SourceFile;
use std::time::Instant;

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| a.ends_with(".yaml"))
        .unwrap_or_else(|| "stacks/ebay-sniper.yaml".into());
    let text = std::fs::read_to_string(&path).unwrap();
    let n = 100;
    let t = Instant::now();
    for _ in 0..n {
        Renderer::new(&TemplateSet::builtin()).unwrap();
    }
    println!("compile templates: {:?}", t.elapsed() / n);
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        StackSource::parse(SourceFile {
            name: path.clone(),
            text: text.clone(),
        })
        .map_err(|_| ())
        .unwrap();
    }
    println!("parse: {:?}", t.elapsed() / n);
    let source = StackSource::parse(SourceFile {
        name: path.clone(),
        text: text.clone(),
    })
    .map_err(|_| ())
    .unwrap();
    let t = Instant::now();
    for _ in 0..n {
        source.resolve("prod");
    }
    println!("resolve+validate: {:?}", t.elapsed() / n);
    let resolved = source.resolve("prod");
    let def = resolved.valid_def().expect("a valid seed stack");
    let t = Instant::now();
    for _ in 0..n {
        plan(def, &Default::default());
    }
    println!("plan: {:?}", t.elapsed() / n);
    let p = plan(def, &Default::default());
    let t = Instant::now();
    for _ in 0..n {
        renderer.render(&p).unwrap();
    }
    println!("render: {:?}", t.elapsed() / n);
    let tpl = renderer.render(&p).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        stackctl::check::check(&tpl);
    }
    println!("check: {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        to_yaml(&tpl);
    }
    println!("to_yaml: {:?}", t.elapsed() / n);
}
