//! The plan: [`make`] turns a migration and what the survey found of both clusters
//! ([`Surveyed`]: inventories, recorded progress, the groups' exact translations, the target's
//! validate-only answers) into a [`Plan`] of typed actions, blockers, warnings and exact group
//! offsets, through the `diff` of the two inventories; the plan file with its fingerprints;
//! the IAM policies that stand for ACLs on MSK. Pure: takes values and returns a value; never
//! async, never reads a cluster or the recorded state (`crate::survey` does).

mod configs;
mod destroy;
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
pub mod units;
mod validate;

pub use configs::left_out;
pub use configs::DEFAULT_EXCLUDED;
pub use destroy::{destroy_plan, DestroyPlan, Removal};
pub use diff::{diff, migrated_acls, warn_group_states};
pub use file::{read_plan_file, write_plan_file, PlanFileError};
pub use groups::{
    group_states, mark_cut_over, set_translated, GroupState, GroupStatus, Translated,
};
pub use limits::{record_limits, RecordLimits};
pub use make::{complete, make, Surveyed};
pub use model::*;
pub use validate::{changes_something, take_refusal, Refused, TargetAnswers};

/// The JSON Schema of the plan format (`plan --json`, plan files), pretty-printed.
pub fn plan_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Plan)).unwrap_or_default() + "\n"
}

#[cfg(test)]
pub(crate) mod tests;
