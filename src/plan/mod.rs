//! The plan: a pure `diff` of (Migration, source inventory, target inventory) into a [`Plan`]
//! of typed actions, blockers and warnings; the plan file with its fingerprints. No I/O but
//! reading and writing the plan file.

mod configs;
mod diff;
mod file;
mod limits;
mod model;
pub mod msk;

pub use configs::left_out;
pub use configs::DEFAULT_EXCLUDED;
pub use diff::{diff, migrated_acls, warn_group_states};
pub use file::{read_plan_file, write_plan_file, PlanFileError};
pub use limits::{record_limits, RecordLimits};
pub use model::*;

/// The JSON Schema of the plan format (`plan --json`, plan files), pretty-printed.
pub fn plan_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Plan)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests;
