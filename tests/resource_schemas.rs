//! CloudFormation's resource schemas: the pinned copies are fresh, cover
//! every type the templates emit, every seed and example template passes
//! them, and the validator catches each kind of defect at a stack-file place.

mod support;

use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::render::{builtin_templates, Renderer, TemplateSet};
use stackctl::source::SourceFile;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::{all_stacks, ensure, repo_root, CFN_LINT, ENVIRONMENTS};

/// Regenerates the schemas from the pinned source (cfn-lint's package) into a
/// fresh folder and compares every file byte for byte.
#[test]
#[cfg_attr(
    not(feature = "tier-lint"),
    ignore = "needs cfn-lint: the lint tier (`--features tier-lint`, on in scripts/test) runs it"
)]
fn pinned_schemas_equal_a_fresh_extraction_from_the_pinned_source() {
    let cfn_lint = ensure(&CFN_LINT);
    let python = cfn_lint.parent().expect("venv bin").join("python");
    let pinned = repo_root().join("crates/core/schema/resources");
    let fresh = tempfile::tempdir().expect("temp dir");
    let types: Vec<String> = stackctl::resource_schema::known_types()
        .map(str::to_string)
        .collect();
    let output = Command::new(&python)
        .arg(repo_root().join("scripts/resource-schemas.py"))
        .arg(fresh.path())
        .args(&types)
        .output()
        .expect("run the generator");
    assert!(
        output.status.success(),
        "the generator failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listing = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        listing(&pinned),
        listing(fresh.path()),
        "crates/core/schema/resources holds other files than the generator writes"
    );
    for name in listing(fresh.path()) {
        let (a, b) = (
            std::fs::read(pinned.join(&name)).expect("pinned"),
            std::fs::read(fresh.path().join(&name)).expect("fresh"),
        );
        assert!(a == b, "crates/core/schema/resources/{name} is stale: run `{} scripts/resource-schemas.py crates/core/schema/resources`", python.display());
    }
}

/// Every `Type: AWS::…` a built-in template can emit has a pinned schema, and
/// every pinned schema is of a type some template emits.
#[test]
fn the_pinned_schemas_are_exactly_the_types_the_templates_emit() {
    let mut emitted = BTreeSet::new();
    for entry in std::fs::read_dir(repo_root().join("crates/core/templates")).expect("templates") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("template text");
        for line in text.lines() {
            let resource_type = line
                .trim()
                .strip_prefix("Type: ")
                .map(|t| t.trim_matches('"'))
                .filter(|t| t.starts_with("AWS::"));
            emitted.extend(resource_type.map(str::to_string));
        }
    }
    let pinned: BTreeSet<String> = stackctl::resource_schema::known_types()
        .map(str::to_string)
        .collect();
    let missing: Vec<&String> = emitted.difference(&pinned).collect();
    assert!(missing.is_empty(), "templates emit types without a pinned schema: {missing:?}; add them with scripts/resource-schemas.py crates/core/schema/resources TYPE…");
    let unused: Vec<&String> = pinned.difference(&emitted).collect();
    assert!(
        unused.is_empty(),
        "schemas of types no template emits: {unused:?}"
    );
}

#[test]
fn every_seed_and_example_template_passes_the_schemas_in_every_environment() {
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates compile");
    let mut resources = 0;
    for (dir, name) in all_stacks() {
        let source = parse(
            &format!("{dir}/{name}.yaml"),
            &std::fs::read_to_string(repo_root().join(dir).join(format!("{name}.yaml")))
                .expect("stack"),
        );
        for env in ENVIRONMENTS {
            let template = rendered(&source, env, &renderer);
            let findings = stackctl::check::check_resources(&template);
            assert!(findings.is_empty(), "{name} ({env}): {findings:#?}");
            resources += template["Resources"].as_object().expect("resources").len();
        }
    }
    assert!(resources > 500, "only {resources} resources checked");
}

const STACK: &str = "\
name: shop
functions:
  api:
    crate: shop-api
    description: not a valid function name
tables:
  orders:
    partition_key: {name: id, type: S}
";

/// A `--templates` override with one defect of each kind the schemas catch;
/// each error is reported, and located at the stack-file place that
/// produced the value (the function's `description`, which the broken
/// template uses as its name) or, where no stack-file value is involved,
/// at the entry the resource comes from.
#[test]
fn each_kind_of_defect_is_caught_and_located_in_the_stack_file() {
    let builtin = |name: &str| {
        builtin_templates()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .expect("built-in template")
    };
    let function = builtin("lambda_function");
    let broken_function = function
        .replace(
            "    MemorySize: {{json memory}}",
            "    MemorySize: \"a lot\"",
        )
        .replace(
            "    FunctionName: {{json function_name}}",
            "    FunctionName: {{json description}}\n    Retries: 2",
        );
    assert_ne!(
        broken_function, function,
        "the override must change the template"
    );
    let table = builtin("dynamodb_table");
    let broken_table = table.replace(
        "    BillingMode: {{json billing_mode}}",
        "    BillingMode: ON_DEMAND\n    TableClass: null",
    );
    assert_ne!(broken_table, table);
    let overrides = [
        ("lambda_function".to_string(), broken_function),
        ("dynamodb_table".to_string(), broken_table),
    ]
    .into_iter()
    .collect();
    let set = TemplateSet::builtin()
        .with_overrides(overrides)
        .expect("overrides apply");
    let renderer = Renderer::new(&set).expect("templates compile");
    let source = parse("stacks/shop.yaml", STACK);
    let Outcome::Invalid(found) =
        render_environment(&source, "dev", &renderer, &Default::default()).expect("renders")
    else {
        panic!("the broken templates passed");
    };
    let located = |needle: &str| -> (u32, u32) {
        let d = found
            .iter()
            .find(|d| d.message.contains(needle))
            .unwrap_or_else(|| panic!("no error mentions {needle}: {found:#?}"));
        assert!(d.is_error() && d.hint.is_some(), "{d:#?}");
        let loc = d.loc().unwrap_or_else(|| panic!("not located: {d:#?}"));
        (loc.line, loc.col)
    };
    // A wrong type: no stack-file value, so the function's entry.
    assert_eq!(
        located("`Properties.MemorySize` must be a whole number, found a string"),
        (3, 3)
    );
    // A pattern miss on a value the stack file wrote: that value.
    assert_eq!(located("`Properties.FunctionName` is \"not a valid function name\", which does not match the pattern"), (5, 18));
    // An unknown property.
    assert_eq!(
        located("`Properties.Retries` is not a property CloudFormation knows here"),
        (3, 3)
    );
    // An enum miss and a null, in the table's entry.
    assert_eq!(
        located("`Properties.BillingMode` is \"ON_DEMAND\", which is not one of"),
        (7, 3)
    );
    assert_eq!(
        located("`Resources.OrdersTable.Properties.TableClass` is null"),
        (7, 3)
    );
}

fn parse(name: &str, text: &str) -> StackSource {
    StackSource::parse(SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    })
    .unwrap_or_else(|(_, d)| panic!("{name} does not parse: {d:?}"))
}

fn rendered(source: &StackSource, env: &str, renderer: &Renderer) -> serde_json::Value {
    match render_environment(source, env, renderer, &Default::default()).expect("renders") {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{} ({env}) is invalid: {d:#?}", source.file.name),
    }
}
