//! Hostile stack files through the whole pipeline: the seed stacks, the
//! examples and the invalid corpus, mutated line by line (lines deleted,
//! repeated, swapped, values replaced by tokens chosen to break
//! assumptions), are parsed, resolved, validated, planned, rendered and
//! checked in every environment without a panic, and a definition that
//! validates always renders.

mod support;

use proptest::prelude::*;
use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::plan::CodeLocations;
use stackctl::render::{Renderer, TemplateSet};
use stackctl::source::SourceFile;
use stackctl::validate::AvailableCode;
use std::sync::OnceLock;
use support::repo_root;

/// Every stack file the repository has, valid or not.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut texts = Vec::new();
        for folder in ["stacks", "examples", "tests/invalid"] {
            let mut paths: Vec<_> = std::fs::read_dir(repo_root().join(folder))
                .expect("corpus folder")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
                .collect();
            paths.sort();
            texts.extend(
                paths
                    .iter()
                    .map(|p| std::fs::read_to_string(p).expect("text")),
            );
        }
        texts
    })
}

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(&TemplateSet::builtin()).expect("templates compile"))
}

/// Values that break assumptions: empty, null, wrong types, extremes,
/// references to nothing, placeholders, YAML syntax, long and odd text.
const TOKENS: [&str; 30] = [
    "",
    "~",
    "null",
    "0",
    "-1",
    "4294967296",
    "99999999999999999999999",
    "1.5",
    "true",
    "[]",
    "{}",
    "[a, b]",
    "{a: 1}",
    "\"${tables.nope.arn}\"",
    "\"${functions..name}\"",
    "\"${user_pool.clients.x.id}\"",
    "\"$${\"",
    "\"{stack}{stack}{stack}{stack}{stack}{stack}{stack}\"",
    "\"{nope}\"",
    "\"GET /a/{b+}/c\"",
    "\"ANY /\"",
    "!Ref X",
    "*alias",
    "\"\\u0000\\n\\u2028\"",
    "\"ü🎸\"",
    "prod",
    "cognito",
    "lambda",
    "guitar-user",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    RepeatLine(usize),
    SwapLines(usize, usize),
    /// The value after the line's first `: `, or the line's item after `- `.
    ReplaceValue(usize, usize),
    /// A token as a new key under the line's mapping.
    AddKey(usize, usize),
}

/// Mostly value changes, which keep the file a mapping and reach the later
/// stages; structural ones less often.
fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::RepeatLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        6 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(l, t)| Mutation::ReplaceValue(l, t)),
        2 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(l, t)| Mutation::AddKey(l, t)),
    ]
}

/// The stacks and examples (the first seven files) more often than the
/// invalid corpus, whose files are already one mistake away from valid.
fn corpus_file() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 0..7usize, 1 => 0..1000usize]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *m {
            Mutation::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Mutation::RepeatLine(i) => lines.insert(i % n, lines[i % n].clone()),
            Mutation::SwapLines(a, b) => lines.swap(a % n, b % n),
            Mutation::ReplaceValue(i, t) => {
                let line = &mut lines[i % n];
                if let Some(at) = line.find(": ").or_else(|| line.find("- ")) {
                    line.replace_range(at + 2.., TOKENS[t]);
                }
            }
            Mutation::AddKey(i, t) => {
                let indent: String = lines[i % n].chars().take_while(|c| *c == ' ').collect();
                let key = TOKENS[t].trim_matches('"');
                lines.insert(
                    i % n,
                    format!("{indent}{key}: {}", TOKENS[(t + 7) % TOKENS.len()]),
                );
            }
        }
    }
    lines.join("\n")
}

/// The code a hostile stack may name: every crate the corpus names (so
/// definitions can validate and render), no prebuilt package.
fn code() -> &'static CodeLocations {
    static CODE: OnceLock<CodeLocations> = OnceLock::new();
    CODE.get_or_init(|| {
        let crates = corpus()
            .iter()
            .flat_map(|text| text.split("crate: ").skip(1))
            .filter_map(|rest| rest.split(|c: char| c.is_whitespace() || c == '}').next())
            .map(str::to_string)
            .collect();
        CodeLocations {
            available: AvailableCode {
                crates: Some(crates),
                zips: Some(Default::default()),
            },
            ..CodeLocations::default()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn hostile_stack_files_never_panic_and_valid_ones_render(
        file in corpus_file(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let corpus = corpus();
        let text = mutate(&corpus[file % corpus.len()], &mutations);
        let file = SourceFile { name: "hostile.yaml".into(), text: text.clone() };
        let Ok(source) = StackSource::parse(file) else {
            return Ok(());
        };
        let envs: Vec<String> = source.environments().map(str::to_string).collect();
        for env in envs.iter().map(String::as_str).chain(["nowhere"]) {
            let outcome = render_environment(&source, env, renderer(), code());
            let outcome = outcome.map_err(|e| TestCaseError::fail(format!("{e}\n--- stack ---\n{text}")))?;
            if let Outcome::Rendered { template, .. } = outcome {
                stackctl::render::to_yaml(&template);
            }
        }
    }
}
