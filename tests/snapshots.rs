//! Snapshots of every seed template in every environment, and proof that
//! rendering is deterministic (same input, byte-identical output).

mod support;

use support::{all_stacks, render_stack, ENVIRONMENTS, SEED_STACKS};

#[test]
fn seed_templates_match_their_snapshots() {
    for (folder, stack) in all_stacks() {
        for env in ENVIRONMENTS {
            insta::assert_snapshot!(format!("{stack}-{env}"), render_stack(folder, stack, env));
        }
    }
}

#[test]
fn rendering_is_byte_identical_across_runs() {
    for stack in SEED_STACKS {
        assert_eq!(
            render_stack("stacks", stack, "prod"),
            render_stack("stacks", stack, "prod"),
            "{stack} rendered differently twice"
        );
    }
}
