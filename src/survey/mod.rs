//! The survey: everything a plan is made from, read from both clusters — their inventories
//! and the migration's recorded state ([`Snapshot`]), the exact target offsets of the groups
//! the plan syncs, and the target's validate-only answers about each topic creation and
//! config change ([`Found`]). [`survey`] reads it all and has `plan` make the plan from it.
//! Both cluster ids are checked against what the migration recorded ([`identity`]): a
//! cluster that is not the migration's is refused.
//!
//! Reads only (validate-only requests change nothing) and decides nothing: what changes is
//! `plan`'s, which it asks for the draft it needs to know what to read.

pub mod identity;
mod leftovers;
mod snapshot;
mod target;

pub use snapshot::{take as snapshot, ReplicatedBy, Snapshot};

use crate::cluster::ClusterError;
use crate::config::Migration;
use crate::groups::{GroupSync, GroupSynced, Known};
use crate::plan::{self, Engine, Plan, Surveyed, TargetAnswers, Translated};

/// What the plan needs beyond the snapshot, read from the clusters for a draft plan.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Exact target offsets of the draft's group offsets (none before replication started).
    pub translated: Translated,
    /// The target's refusals of the draft's creations and config changes.
    pub answers: TargetAnswers,
}

/// Both clusters as they are, what was found for the plan, and the plan made from them.
pub struct Survey {
    pub snapshot: Snapshot,
    pub found: Found,
    pub plan: Plan,
}

/// Reads both clusters and plans the migration for `engine`, taking group offset
/// translations from `known` and adding those it finds.
pub async fn survey(
    migration: &Migration,
    engine: Engine,
    known: &Known,
) -> Result<Survey, ClusterError> {
    let snapshot = snapshot::take(migration).await?;
    let draft = plan::diff(
        migration,
        &snapshot.source_inventory,
        &snapshot.target_inventory,
        engine,
    );
    let found = find(migration, &snapshot, &draft, known).await?;
    let plan = plan::complete(migration, draft, &surveyed(&snapshot, &found));
    tracing::info!(
        actions = plan.actions.len(),
        group_offsets = plan.group_offsets.len(),
        warnings = plan.warnings.len(),
        blockers = plan.blockers.len(),
        "Planned the migration."
    );
    Ok(Survey {
        snapshot,
        found,
        plan,
    })
}

/// Reads what `draft` (the diff of `snapshot`'s inventories) needs: its group offsets
/// translated exactly from the recorded progress (with `known`), then the target's answers
/// about its creations and config changes.
pub async fn find(
    migration: &Migration,
    snapshot: &Snapshot,
    draft: &Plan,
    known: &Known,
) -> Result<Found, ClusterError> {
    let mut translated = Translated::new();
    if let Some(progress) = snapshot
        .progress
        .as_ref()
        .filter(|_| !draft.group_offsets.is_empty())
    {
        translated = crate::groups::translate_forward(
            migration,
            &draft.group_offsets,
            progress,
            &snapshot.target,
            known.clone(),
        )
        .await?;
    }
    let answers = target::ask(migration, &snapshot.target, &draft.actions).await?;
    Ok(Found {
        translated,
        answers,
    })
}

/// What `plan` makes the plan from: `snapshot` and what was `found` for it.
pub fn surveyed<'a>(snapshot: &'a Snapshot, found: &'a Found) -> Surveyed<'a> {
    Surveyed {
        source: &snapshot.source_inventory,
        target: &snapshot.target_inventory,
        engine_progress: snapshot.engine_progress(),
        translated: &found.translated,
        answers: &found.answers,
    }
}

impl GroupSync {
    /// One round from scratch: surveys both clusters as they are now, plans the migration
    /// again and commits the exact translations of the groups that have not cut over (see
    /// [`GroupSync::round`]).
    pub async fn survey_round(
        &mut self,
        migration: &Migration,
    ) -> Result<Vec<GroupSynced>, ClusterError> {
        let survey = survey(migration, Engine::Native, self.known()).await?;
        let snapshot = &survey.snapshot;
        self.round(
            &snapshot.target,
            &survey.plan.group_offsets,
            &snapshot.source_inventory,
            &snapshot.target_inventory,
            snapshot.engine_progress(),
        )
        .await
    }
}
