//! The plan: [`make`] turns a migration and a [`crate::state::Snapshot`] of both clusters
//! into a [`Plan`] of typed actions, blockers, warnings and exact group offsets — through the
//! pure `diff` of the two inventories, the groups' translations and the target's validate-only
//! answers; the plan file with its fingerprints; the IAM policies that stand for ACLs on MSK.
//! Changes nothing on either cluster.

mod configs;
mod diff;
mod file;
mod groups;
pub mod iam_policy;
mod limits;
mod make;
mod model;
pub mod msk;
mod quotas;
pub mod scram_secrets;
mod validate;

pub use configs::left_out;
pub use configs::DEFAULT_EXCLUDED;
pub use diff::{diff, migrated_acls, warn_group_states};
pub use file::{read_plan_file, write_plan_file, PlanFileError};
pub use groups::{group_states, mark_cut_over, translate_groups, GroupState, GroupStatus, Known};
pub use limits::{record_limits, RecordLimits};
pub use make::{make, survey, translate_between, Survey};
pub use model::*;
pub use validate::{validate_on_target, ADMIN_TIMEOUT};

/// The JSON Schema of the plan format (`plan --json`, plan files), pretty-printed.
pub fn plan_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Plan)).unwrap_or_default() + "\n"
}

#[cfg(test)]
pub(crate) mod tests;
