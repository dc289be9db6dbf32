//! Carrying out a plan: its metadata actions on the target, in order and idempotently, after
//! refusing a stale plan; and the supervisor that replicates, follows the source, syncs groups
//! (through [`crate::groups`]) and keeps metrics while `apply` runs. Draws nothing: the
//! supervisor tells an [`Observer`].

pub mod engine;
mod live;
mod metadata;
pub mod metrics;
mod stale;
mod status;
mod supervisor;

pub use engine::{Engine, Ran, Start, Synced};
pub use live::{Live, PartitionLive, Totals};
pub use metadata::{execute, Outcome};
pub use stale::{check as check_stale, Staleness};
pub use status::MigrationStatus;
pub use supervisor::{supervise, Finished, Note, Observer, SupervisorError};

use crate::cluster::{ClusterClient, ClusterError};
use crate::plan::{Action, Plan};

/// What an apply did, action by action.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub done: Vec<Action>,
    pub already_done: Vec<Action>,
}

/// Carries out every action of `plan` on `target`, calling `progress` after each. Stops at the
/// first failure; what was done stays done, and running the same plan again finishes the rest.
pub async fn apply_metadata(
    target: &ClusterClient,
    plan: &Plan,
    mut progress: impl FnMut(&Action, &Outcome),
) -> Result<ApplyReport, ClusterError> {
    let mut report = ApplyReport::default();
    let mut record = |action: &Action, outcome: Outcome| {
        progress(action, &outcome);
        match outcome {
            Outcome::Done => report.done.push(action.clone()),
            Outcome::AlreadyDone => report.already_done.push(action.clone()),
        }
    };
    // Client quotas go together, over one connection, after the rest.
    let (quotas, others): (Vec<&Action>, Vec<&Action>) = plan
        .actions
        .iter()
        .partition(|a| matches!(a, Action::SetClientQuotas { .. }));
    for step in steps(&others) {
        let outcomes = match step {
            [one] if !is_creation(one) => vec![execute(target, one).await?],
            creations => metadata::execute_topics(target, creations).await?,
        };
        for (action, outcome) in step.iter().zip(outcomes) {
            record(action, outcome);
        }
    }
    if !quotas.is_empty() {
        let outcomes = metadata::execute_quotas(target, &quotas).await?;
        for (action, outcome) in quotas.into_iter().zip(outcomes) {
            record(action, outcome);
        }
    }
    Ok(report)
}

fn is_creation(action: &Action) -> bool {
    matches!(action, Action::CreateTopic { .. })
}

/// `actions` in the steps apply carries them out in, in plan order: consecutive topic
/// creations together, at most [`metadata::TOPICS_PER_CREATE`] to a step (one request), every
/// other action a step of its own.
fn steps<'a>(actions: &'a [&'a Action]) -> Vec<&'a [&'a Action]> {
    let mut out = Vec::new();
    let mut rest = actions;
    while !rest.is_empty() {
        let creations = rest
            .iter()
            .take(metadata::TOPICS_PER_CREATE)
            .take_while(|a| is_creation(a))
            .count();
        let (step, after) = rest.split_at(creations.max(1));
        out.push(step);
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(i: usize) -> Action {
        Action::CreateTopic {
            topic: format!("t{i}"),
            partitions: 1,
            replication_factor: 1,
            configs: Default::default(),
        }
    }

    /// 250 creations with another action after the 120th: steps of 100 and 20 creations, the
    /// other action alone, then 100 and 30 creations.
    #[test]
    fn topic_creations_go_a_hundred_to_a_request_in_plan_order() {
        let mut actions: Vec<Action> = (0..250).map(create).collect();
        actions.insert(
            120,
            Action::UpdateTopicConfig {
                topic: "t0".into(),
                changes: Vec::new(),
            },
        );
        let refs: Vec<&Action> = actions.iter().collect();
        let steps = steps(&refs);
        let sizes: Vec<usize> = steps.iter().map(|s| s.len()).collect();
        assert_eq!(sizes, vec![100, 20, 1, 100, 30]);
        assert!(!is_creation(steps[2][0]));
        let order: Vec<&Action> = steps.concat();
        assert!(order.iter().zip(&refs).all(|(a, b)| std::ptr::eq(*a, *b)));
    }
}
