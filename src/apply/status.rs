//! Where a migration stands, for `status`: the lag per partition from whichever engine
//! replicates, and — when groups are synced — each group's state on the target.

use crate::cluster::ClusterError;
use crate::config::Migration;
use crate::plan::{self, GroupStatus};
use crate::replicate::{self, Status};

/// The replication status and the groups' states (none when groups are not synced).
pub async fn status(migration: &Migration) -> Result<(Status, Vec<GroupStatus>), ClusterError> {
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
        return Ok((status, groups));
    }
    let status = replicate::status(migration).await?;
    if status.partitions.iter().all(|p| p.replicated_to.is_none()) {
        // Not the built-in engine's: perhaps MirrorMaker 2 replicates (the Connect engine).
        if let Some(mirrored) = crate::connect::mirrored_status(migration).await? {
            return Ok((mirrored, Vec::new()));
        }
    }
    Ok((status, Vec::new()))
}
