//! Snapshots of every seed template in every environment, and proof that
//! rendering is deterministic (same input, byte-identical output).

mod support;

use support::{render_seed, ENVIRONMENTS, SEED_STACKS};

#[test]
fn seed_templates_match_their_snapshots() {
    for stack in SEED_STACKS {
        for env in ENVIRONMENTS {
            insta::assert_snapshot!(format!("{stack}-{env}"), render_seed(stack, env));
        }
    }
}

#[test]
fn rendering_is_byte_identical_across_runs() {
    for stack in SEED_STACKS {
        assert_eq!(render_seed(stack, "prod"), render_seed(stack, "prod"), "{stack} rendered differently twice");
    }
}
