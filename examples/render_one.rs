//! Renders one stack file for one environment to stdout (a development aid;
//! `stackctl render` is the real command).
use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::render::{to_yaml, Renderer, TemplateSet};
use stackctl::source::SourceFile;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: render_one STACK_FILE ENV");
    let env = args.next().unwrap_or_else(|| "dev".into());
    let text = std::fs::read_to_string(&path).expect("readable stack file");
    let source = StackSource::parse(SourceFile { name: path.clone(), text }).map_err(|(_, d)| d).expect("parses");
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates compile");
    match render_environment(&source, &env, &renderer, &Default::default()).expect("renders") {
        Outcome::Rendered { template, .. } => print!("{}", to_yaml(&template)),
        Outcome::Invalid(d) => d.iter().for_each(|d| eprint!("{}", d.render(&source.file))),
    }
}
