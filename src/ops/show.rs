//! `show`: a plan saved by `plan --out`, read back (offline: the file alone, checked as
//! `apply` checks it before contacting a cluster).

use std::path::Path;

use crate::plan::Plan;

/// The plan saved in `path`.
pub fn show(path: &Path) -> miette::Result<Plan> {
    Ok(crate::plan::read_plan_file(path)?)
}
