//! `status`: where a migration stands — the lag per partition from whichever engine
//! replicates it, each consumer group's state on the target when groups are synced, and the
//! cutover — once, or again every few seconds until cancelled.

use std::time::Duration;

use crate::apply::MigrationStatus;
use crate::config::Migration;
use crate::plan;
use crate::replicate::Status;

use super::{engines, CancellationToken};

/// How often `status --watch` reads the status again.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// The replication status, the groups' states and the cutover, if any.
pub async fn status(migration: &Migration) -> miette::Result<MigrationStatus> {
    if migration.consumer_groups.sync {
        // One survey of both clusters gives the lag (from either engine's progress) and the
        // groups' translated offsets.
        let survey =
            crate::survey::survey(migration, plan::Engine::Native, &Default::default()).await?;
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
    // The first engine that has replicated the migration says where it stands; when none
    // has, the last that knows the migration at all (MirrorMaker 2 once its connectors have
    // left their mark on the target), else the built-in engine (every partition still to
    // replicate).
    let mut found = None;
    for engine in engines::replicating(migration) {
        if let Some(status) = engine.status().await? {
            if status.started() {
                return Ok(MigrationStatus::lag_only(status));
            }
            found = Some(status);
        }
    }
    Ok(MigrationStatus::lag_only(found.unwrap_or_else(|| Status {
        migration: migration.name.clone(),
        partitions: Vec::new(),
        running: None,
        last_progress_at_ms: None,
    })))
}

/// [`status`] now and every [`WATCH_INTERVAL`] until `cancel`, each told to `show` (a failed
/// read too: it is tried again).
pub async fn watch(
    migration: &Migration,
    cancel: CancellationToken,
    show: &mut dyn FnMut(miette::Result<MigrationStatus>),
) {
    loop {
        tokio::select! {
            status = status(migration) => show(status),
            () = cancel.cancelled() => return,
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
    }
}
