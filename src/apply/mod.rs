//! Carrying out a plan: its metadata actions on the target, in order and idempotently, after
//! refusing a stale plan; its group offsets; and the supervisor that replicates, follows the
//! source, syncs groups and keeps metrics while `apply` runs. Draws nothing: the supervisor
//! tells an [`Observer`].

mod groups;
mod live;
mod metadata;
pub mod metrics;
mod stale;
mod status;
mod supervisor;

pub use groups::{sync_groups, GroupSync, GroupSynced};
pub use live::{Live, PartitionLive, Totals};
pub use metadata::{execute, Outcome};
pub use stale::{check as check_stale, Staleness};
pub use status::{status, MigrationStatus};
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
    // Consecutive topic creations go together, a group per request.
    let mut rest = others.as_slice();
    while let Some(&first) = rest.first() {
        let creations = leading_creations(rest);
        if creations == 0 {
            let outcome = execute(target, first).await?;
            record(first, outcome);
            rest = &rest[1..];
            continue;
        }
        let (group, after) = rest.split_at(creations);
        let outcomes = metadata::execute_topics(target, group).await?;
        for (action, outcome) in group.iter().zip(outcomes) {
            record(action, outcome);
        }
        rest = after;
    }
    if !quotas.is_empty() {
        let outcomes = metadata::execute_quotas(target, &quotas).await?;
        for (action, outcome) in quotas.into_iter().zip(outcomes) {
            record(action, outcome);
        }
    }
    Ok(report)
}

/// How many of the actions `rest` starts with are topic creations to make together: the
/// leading run of them, at most [`metadata::TOPICS_PER_CREATE`].
fn leading_creations(rest: &[&Action]) -> usize {
    rest.iter()
        .take(metadata::TOPICS_PER_CREATE)
        .take_while(|a| matches!(a, Action::CreateTopic { .. }))
        .count()
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

    /// 250 creations go in requests of 100, 100 and 50; another action ends a group.
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
        let mut rest = refs.as_slice();
        let mut groups = Vec::new();
        while !rest.is_empty() {
            let n = leading_creations(rest).max(1);
            groups.push(leading_creations(rest));
            rest = &rest[n..];
        }
        assert_eq!(groups, vec![100, 20, 0, 100, 30]);
    }
}
