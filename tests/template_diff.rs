//! The template diff on real stacks: a change in the stack file shows up as
//! exactly the properties it changes, and data-loss and security guards see
//! the changes that matter.

use serde_json::Value;
use stackctl::diff::guard::{broadening, data_loss};
use stackctl::diff::{diff_templates, Action, Replacement};
use stackctl::load::StackSource;
use stackctl::pipeline::{render_environment, Outcome};
use stackctl::render::{Renderer, TemplateSet};
use stackctl::source::SourceFile;

fn render(text: &str, env: &str) -> Value {
    let source = StackSource::parse(SourceFile {
        name: "guitar-collection.yaml".into(),
        text: text.into(),
    })
    .map_err(|(_, d)| d)
    .unwrap();
    match render_environment(
        &source,
        env,
        &Renderer::new(&TemplateSet::builtin()).unwrap(),
        &Default::default(),
    )
    .unwrap()
    {
        Outcome::Rendered { template, .. } => template,
        Outcome::Invalid(d) => panic!("{d:?}"),
    }
}

fn seed() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/stacks/guitar-collection.yaml"
    ))
    .unwrap()
}

#[test]
fn a_memory_and_a_stream_change_are_exactly_two_property_changes() {
    let before = seed();
    let after = before
        .replace(
            "  guitars:\n    crate: guitar-guitars\n",
            "  guitars:\n    crate: guitar-guitars\n    memory: 1024\n",
        )
        .replace(
            "    sort_key: {name: guitarId, type: S}\n",
            "    sort_key: {name: guitarId, type: S}\n    stream: new_and_old_images\n",
        );
    let changes = diff_templates(&render(&before, "prod"), &render(&after, "prod"));
    let summary: Vec<(String, Vec<String>, Option<Replacement>)> = changes
        .iter()
        .map(|c| {
            (
                c.logical_id.clone(),
                c.properties.iter().map(|p| p.path.clone()).collect(),
                c.replacement,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "GuitarsFunction".to_string(),
                vec!["MemorySize".to_string()],
                Some(Replacement::False)
            ),
            (
                "GuitarsTable".to_string(),
                vec!["StreamSpecification".to_string()],
                Some(Replacement::False)
            ),
        ]
    );
    assert!(
        data_loss(&changes, &[]).is_empty(),
        "neither change loses data"
    );
}

#[test]
fn renaming_a_table_is_refused_and_new_access_is_broadening() {
    let before = seed();
    let after = before
        .replace(
            "table_name: \"{app}-guitars-{env}\"",
            "table_name: \"{app}-guitar-items-{env}\"",
        )
        .replace(
            "      tables: {users: read_write}\n",
            "      tables: {users: read_write, guitars: read}\n",
        );
    let (old, new) = (render(&before, "prod"), render(&after, "prod"));
    let changes = diff_templates(&old, &new);
    let refused = data_loss(&changes, &[]);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].logical_id, "GuitarsTable");
    assert!(
        refused[0].reason.contains("TableName"),
        "{}",
        refused[0].reason
    );
    assert!(changes
        .iter()
        .any(|c| c.logical_id == "UserFunctionRole" && c.action == Action::Modify));
    let widened = broadening(&old, &new);
    assert!(
        widened.iter().all(|(id, _)| id == "UserFunctionRole"),
        "{widened:?}"
    );
    assert!(
        widened.iter().any(|(_, g)| g.contains("dynamodb:GetItem")),
        "{widened:?}"
    );
}

#[test]
fn rendering_the_same_stack_again_changes_nothing() {
    let t = render(&seed(), "prod");
    assert!(diff_templates(&t, &t).is_empty());
    assert!(broadening(&t, &t).is_empty());
}
