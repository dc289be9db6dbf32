//! Failback: after the cutover point, the migrated topics replicated back from the target to
//! the source (`failback { enabled = true }`), so that `rollback` can return to the source
//! exactly. The built-in engine runs with the clusters swapped, under its own name
//! (`config::names::failback`): the records producers wrote to the target after the cutover
//! point are appended to the same source partitions, exactly once, with the progress in the
//! same transactions in its own progress topic on the source and its own transactional ids
//! there (fenced like the forward engine's). The reverse progress starts at the cutover point:
//! per partition, target end ↔ source end.
//!
//! Groups consuming on the target are translated back exactly by [`crate::groups`], from the
//! reverse progress read here: an offset at or past the cutover point through the reverse
//! progress, one before it through the forward progress read the other way. The source group
//! is committed only while it has no members there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cluster::native::IsolationLevel;
use crate::config::{names, Migration};
use crate::plan::{Action, GroupOffsets};
use crate::replicate::{self, Settings};
use crate::state::progress::alignment_records;
use crate::state::{writers_record, CutoverPoint, Position, Progress, Store};
use crate::survey::Snapshot;

use super::CutoverError;

fn failed(e: impl std::fmt::Display) -> CutoverError {
    CutoverError::Failback(e.to_string())
}

/// The failback's progress topic on the source.
pub fn store(migration: &Migration) -> Store {
    Store::new(
        &names::failback(&migration.name),
        crate::auth::client_properties(migration.source()),
    )
}

/// Engine settings with the clusters swapped: read the target, write the source.
pub fn settings(migration: &Migration, until_synced: bool) -> Settings {
    let mut settings = Settings::from_migration(migration, until_synced);
    std::mem::swap(&mut settings.source, &mut settings.target);
    settings.store = store(migration);
    settings.migration = settings.store.migration.clone();
    settings
}

/// Reads the failback's progress (empty before the first failback).
pub async fn progress(migration: &Migration) -> Result<Progress, CutoverError> {
    let store = store(migration);
    tokio::task::spawn_blocking(move || store.read())
        .await
        .map_err(failed)?
        .map_err(failed)
}

/// Makes the source ready for failback: its progress topic, and for each partition not yet
/// failed back since this cutover, a position at the cutover point — refused when the source was written after
/// the cutover (those records would sit between the two logs' alignment). The partitions.
pub async fn prepare(
    migration: &Migration,
    snapshot: &Snapshot,
    point: &CutoverPoint,
) -> Result<Vec<(String, i32)>, CutoverError> {
    let store = store(migration);
    crate::apply::execute(
        &snapshot.source,
        &Action::CreateTopic {
            topic: store.topic.clone(),
            partitions: 1,
            replication_factor: snapshot.source_inventory.brokers.clamp(1, 3) as i32,
            configs: [("cleanup.policy".to_string(), "compact".to_string())].into(),
        },
    )
    .await?;
    let reverse = progress(migration).await?;
    let partitions: Vec<(String, i32)> = point
        .partitions
        .iter()
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    let fresh: Vec<_> = point
        .partitions
        .iter()
        // Not failed back yet since this cutover: no position, or one short of its point
        // (left by a failback before an earlier rollback).
        .filter(|p| {
            reverse
                .get(&p.topic, p.partition)
                .and_then(|r| r.position)
                .is_none_or(|at| at.next_source < p.target_end)
        })
        .collect();
    if fresh.is_empty() {
        return Ok(partitions);
    }
    let ends = snapshot
        .source
        .end_offsets(
            fresh.iter().map(|p| (p.topic.clone(), p.partition)),
            IsolationLevel::ReadUncommitted,
        )
        .await?;
    let mut records = vec![writers_record(
        &store.migration,
        migration.replication.tasks,
    )];
    for p in fresh {
        let now = ends
            .get(&(p.topic.clone(), p.partition))
            .copied()
            .unwrap_or(0);
        if now != p.source_end {
            return Err(CutoverError::WrittenAfterCutover {
                topic: p.topic.clone(),
                partition: p.partition,
                at_cutover: p.source_end,
                now,
            });
        }
        let at = Position {
            next_source: p.target_end,
            next_target: p.source_end,
        };
        records.extend(alignment_records(&p.topic, p.partition, at));
    }
    tokio::task::spawn_blocking(move || store.write(&records))
        .await
        .map_err(failed)?
        .map_err(failed)?;
    Ok(partitions)
}

/// Replicates `partitions` back from the target to the source until `stop` (or, with
/// `until_synced`, until the source has caught up): records and bytes copied.
pub async fn replicate_back(
    migration: &Migration,
    partitions: Vec<(String, i32)>,
    until_synced: bool,
    stop: Arc<AtomicBool>,
) -> Result<(u64, u64), CutoverError> {
    let settings = Arc::new(settings(migration, until_synced));
    let (events, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let engine = tokio::spawn(replicate::replicate(settings, partitions, stop, events));
    let (mut records, mut bytes) = (0, 0);
    while let Some(event) = seen.recv().await {
        if let replicate::Event::Replicated {
            records: r,
            bytes: b,
            ..
        } = event
        {
            records += r;
            bytes += b;
        }
    }
    engine.await.map_err(failed)?.map_err(failed)?;
    Ok((records, bytes))
}

/// What a failback `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedBack {
    pub partitions: usize,
    pub records: u64,
    pub bytes: u64,
    /// A line per group translated back.
    pub groups: Vec<String>,
}

/// `apply` after the cutover with failback: prepares the source, replicates back until Ctrl-C
/// (or, with `until_synced`, until the source caught up) translating the groups back every
/// `consumer_groups.sync_interval`, then translates them back once more.
pub async fn run(
    migration: &Migration,
    snapshot: &Snapshot,
    point: &CutoverPoint,
    until_synced: bool,
) -> Result<FailedBack, CutoverError> {
    let partitions = prepare(migration, snapshot, point).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let count = partitions.len();
    // While it runs, groups are translated back every sync interval (and once at the end).
    let periodic = migration.consumer_groups.sync.then(|| {
        let (migration, point, stop) = (migration.clone(), point.clone(), stop.clone());
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(migration.consumer_groups.sync_interval.0);
            ticks.tick().await;
            while !stop.load(Ordering::Relaxed) {
                ticks.tick().await;
                if let Err(e) = sync_groups_back(&migration, &point).await {
                    tracing::warn!(error = %e, "Translating groups back failed; trying again at the next interval.");
                }
            }
        })
    });
    let replicated = replicate_back(migration, partitions, until_synced, stop).await;
    signals.abort();
    if let Some(task) = periodic {
        task.abort();
    }
    let (records, bytes) = replicated?;
    let groups = if migration.consumer_groups.sync {
        sync_groups_back(migration, point).await?
    } else {
        Vec::new()
    };
    Ok(FailedBack {
        partitions: count,
        records,
        bytes,
        groups,
    })
}

/// Stops `stop` at the first Ctrl-C or SIGTERM.
async fn stop_on_signal(stop: Arc<AtomicBool>) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    stop.store(true, Ordering::Relaxed);
}

/// Commits on the source, for every selected group without members there, the exact
/// translation of the offsets it committed on the target: a line per group (see
/// [`crate::groups::sync_back`]).
pub async fn sync_groups_back(
    migration: &Migration,
    point: &CutoverPoint,
) -> Result<Vec<String>, CutoverError> {
    let snapshot = crate::survey::snapshot(migration).await?;
    let reverse = progress(migration).await?;
    Ok(crate::groups::sync_back(migration, &sides(&snapshot), point, reverse).await?)
}

/// The exact source offsets of what every selected group without members on the source
/// committed on the target (groups with members there are named in the lines; see
/// [`crate::groups::translate_back`]).
pub async fn translate_back(
    migration: &Migration,
    snapshot: &Snapshot,
    point: &CutoverPoint,
) -> Result<(Vec<GroupOffsets>, Vec<String>), CutoverError> {
    let reverse = progress(migration).await?;
    Ok(crate::groups::translate_back(migration, &sides(snapshot), point, reverse).await?)
}

/// The clusters of `snapshot` as the groups are translated back from them.
fn sides(snapshot: &Snapshot) -> crate::groups::Sides<'_> {
    crate::groups::Sides {
        source: &snapshot.source,
        source_inventory: &snapshot.source_inventory,
        target_inventory: &snapshot.target_inventory,
        forward: snapshot.engine_progress(),
    }
}
