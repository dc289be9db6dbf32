//! The plan: a pure `diff` of (Migration, source inventory, target inventory) into a [`Plan`]
//! of typed actions, blockers and warnings; the plan file with its fingerprints. No I/O but
//! reading and writing the plan file.

mod configs;
mod diff;
mod file;
mod model;

pub use configs::DEFAULT_EXCLUDED;
pub use diff::diff;
pub use file::{read_plan_file, write_plan_file, PlanFileError};
pub use model::*;

#[cfg(test)]
mod tests;
