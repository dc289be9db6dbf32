//! Where a migration stands, for `status`: the lag per partition from whichever engine
//! replicates, and — when groups are synced — each group's state on the target.

use crate::cluster::ClusterError;
use crate::config::Migration;
use crate::plan::{self, GroupStatus};
use crate::replicate::{self, Status};

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

/// The replication status, the groups' states and the cutover, if any.
pub async fn status(migration: &Migration) -> Result<MigrationStatus, ClusterError> {
    if migration.consumer_groups.sync {
        // One survey of both clusters gives the lag (from either engine's progress) and the
        // groups' translated offsets.
        let survey = plan::survey(migration, plan::Engine::Native, &Default::default()).await?;
        let snapshot = &survey.snapshot;
        let status = Status::from_inventory(
            &migration.name,
            &snapshot.source_inventory,
            snapshot
                .progress
                .as_ref()
                .unwrap_or(&crate::state::Progress::default()),
        );
        let groups = plan::group_states(
            &survey.plan.group_offsets,
            &snapshot.source_inventory,
            &snapshot.target_inventory,
        );
        let cut_over_at_ms = snapshot
            .engine_progress()
            .and_then(|p| p.cut_over())
            .and_then(|c| c.point.as_ref())
            .map(|p| p.at_ms);
        return Ok(MigrationStatus {
            status,
            groups,
            cut_over_at_ms,
        });
    }
    let status = replicate::status(migration).await?;
    if status.partitions.iter().all(|p| p.replicated_to.is_none()) {
        // Not the built-in engine's: perhaps MirrorMaker 2 replicates (the Connect engine).
        if let Some(mirrored) = crate::connect::mirrored_status(migration).await? {
            return Ok(MigrationStatus {
                status: mirrored,
                groups: Vec::new(),
                cut_over_at_ms: None,
            });
        }
    }
    Ok(MigrationStatus {
        status,
        groups: Vec::new(),
        cut_over_at_ms: None,
    })
}
