//! Making the plan from what the survey found: the diff of both inventories for the engine,
//! the exact target offsets of the selected groups, the groups that cut over, and the
//! target's word on every creation and config change. Pure: the survey (`crate::survey`)
//! reads the clusters; this is the only place a plan is built, and nothing edits one after.

use crate::cluster::Inventory;
use crate::config::Migration;
use crate::state::Progress;

use super::groups::{mark_cut_over, set_translated, Translated};
use super::validate::{take_answers, TargetAnswers};
use super::{diff, warn_group_states, Engine, Plan};

/// Both clusters as the survey found them: what a plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct Surveyed<'a> {
    pub source: &'a Inventory,
    pub target: &'a Inventory,
    /// The built-in engine's progress, when it replicated the migration: the groups it
    /// recorded cut over and the offsets the sync committed.
    pub engine_progress: Option<&'a Progress>,
    /// Exact target offsets of the groups' committed source offsets.
    pub translated: &'a Translated,
    /// The target's validate-only refusals of the diff's creations and config changes.
    pub answers: &'a TargetAnswers,
}

/// Plans the migration for `engine` from what the survey found.
pub fn make(migration: &Migration, surveyed: &Surveyed<'_>, engine: Engine) -> Plan {
    let draft = diff(migration, surveyed.source, surveyed.target, engine);
    complete(migration, draft, surveyed)
}

/// Completes `draft`, the [`diff`] of `surveyed`'s inventories, into the plan (see [`make`]).
pub fn complete(migration: &Migration, mut draft: Plan, surveyed: &Surveyed<'_>) -> Plan {
    set_translated(&mut draft.group_offsets, surveyed.translated);
    let (none, nothing) = (Default::default(), Default::default());
    mark_cut_over(
        &mut draft.group_offsets,
        surveyed.engine_progress.map_or(&none, |p| &p.cut_over),
        surveyed.engine_progress.map_or(&nothing, |p| &p.synced),
    );
    warn_group_states(&mut draft);
    take_answers(migration, &mut draft, surveyed.answers);
    draft
}

#[cfg(test)]
mod tests;
