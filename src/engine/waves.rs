//! Several stacks in one deploy: wave after wave of stacks whose
//! dependencies came before, several at a time within a wave. A stack whose
//! dependency did not deploy is not attempted, and says which one; the
//! others go on, so one failure does not hold back unrelated stacks.

use super::artifacts::ArtifactStore;
use super::deploy::{deploy_stack, DeployOutcome, DeployRequest, Observer};
use super::stacks::Stacks;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How one stack of a multi-stack deploy ended.
#[derive(Debug)]
pub enum StackRun {
    Finished(anyhow::Result<DeployOutcome>),
    /// Not attempted, because these stacks it depends on did not deploy.
    Blocked {
        by: Vec<String>,
    },
}

impl StackRun {
    pub fn is_success(&self) -> bool {
        matches!(self, StackRun::Finished(Ok(outcome)) if outcome.is_success())
    }
}

/// Results so far, by index into the requests; shared so an interrupt can
/// see which stacks are settled.
pub type Runs = Mutex<BTreeMap<usize, StackRun>>;

/// What to deploy, in which order, how many at once.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub requests: &'a [DeployRequest],
    /// Each stack's dependencies, by index into `requests`.
    pub depends_on: &'a [Vec<usize>],
    /// Indices into `requests`; a wave depends only on earlier waves.
    pub waves: &'a [Vec<usize>],
    pub concurrency: usize,
}

/// Deploys the plan wave by wave, recording each stack's result in `runs`
/// as it ends.
pub async fn deploy_waves<C: Stacks + Sync, S: ArtifactStore + Sync>(
    cfn: &C,
    store: &S,
    plan: Plan<'_>,
    observer: &dyn Observer,
    runs: &Runs,
) {
    use futures_util::stream::{self, StreamExt};
    for wave in plan.waves {
        stream::iter(wave.iter().copied())
            .map(|i| async move {
                let by = blocked_by(i, plan, runs);
                let run = if by.is_empty() {
                    StackRun::Finished(deploy_stack(cfn, store, &plan.requests[i], observer).await)
                } else {
                    StackRun::Blocked { by }
                };
                runs.lock().expect("runs").insert(i, run);
            })
            .buffer_unordered(plan.concurrency.max(1))
            .collect::<Vec<()>>()
            .await;
    }
}

/// The dependencies of stack `i` that did not deploy (failed, refused, or
/// blocked in turn), by stack name.
fn blocked_by(i: usize, plan: Plan<'_>, runs: &Runs) -> Vec<String> {
    let runs = runs.lock().expect("runs");
    plan.depends_on[i]
        .iter()
        .filter(|d| !runs.get(d).is_some_and(StackRun::is_success))
        .map(|&d| plan.requests[d].stack.clone())
        .collect()
}

/// The outputs of every stack that is deployed as asked (changed or
/// already up to date), sorted, by stack name: what `--outputs-file` holds.
pub fn completed_outputs(
    requests: &[DeployRequest],
    runs: &BTreeMap<usize, StackRun>,
) -> BTreeMap<String, Vec<(String, String)>> {
    runs.iter()
        .filter_map(|(&i, run)| match run {
            StackRun::Finished(Ok(
                DeployOutcome::NoChanges { outputs } | DeployOutcome::Deployed { outputs, .. },
            )) => {
                let mut sorted = outputs.clone();
                sorted.sort();
                Some((requests[i].stack.clone(), sorted))
            }
            _ => None,
        })
        .collect()
}
