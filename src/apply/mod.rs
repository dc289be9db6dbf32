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
        let creations = rest
            .iter()
            .take(metadata::TOPICS_PER_CREATE)
            .take_while(|a| matches!(a, Action::CreateTopic { .. }))
            .count();
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
