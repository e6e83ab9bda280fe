//! Names stackctl gives to what it creates in AWS for one run.

/// A change-set name no other run uses, even one started in the same
/// second: an interrupted run removes its change set by this name, and must
/// never remove another run's. `purpose` tells deploys from diffs
/// (`stackctl-diff-…`) in the console.
pub fn change_set_name(purpose: Option<&str>) -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let unique = uuid::Uuid::new_v4().simple().to_string();
    match purpose {
        // Letters, digits and hyphens, starting with a letter: CloudFormation's rule.
        Some(p) => format!("stackctl-{p}-{seconds}-{}", &unique[..12]),
        None => format!("stackctl-{seconds}-{}", &unique[..12]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_runs_in_the_same_second_get_different_change_sets() {
        let (a, b) = (change_set_name(None), change_set_name(None));
        assert_ne!(a, b);
        for name in [a, change_set_name(Some("diff"))] {
            assert!(name.starts_with("stackctl-") && name.len() <= 128, "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{name}"
            );
        }
    }
}
