//! Where a migration stands, for `status`: the lag per partition from whichever engine
//! replicates, and — when groups are synced — each group's state on the target.

use crate::plan::GroupStatus;
use crate::replicate::Status;

/// Where a migration stands.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct MigrationStatus {
    /// The lag per partition.
    #[serde(flatten)]
    pub status: Status,
    /// Each selected group's state on the target (none when groups are not synced).
    pub groups: Vec<GroupStatus>,
    /// When the migration was cut over, if it was (known when groups are synced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_over_at_ms: Option<i64>,
}

impl MigrationStatus {
    /// The lag alone: no groups, no cutover known.
    pub fn lag_only(status: Status) -> MigrationStatus {
        MigrationStatus {
            status,
            groups: Vec::new(),
            cut_over_at_ms: None,
        }
    }
}
