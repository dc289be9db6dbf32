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

use tokio_util::sync::CancellationToken;

use crate::apply::{Engine, Observer, Ran, Start, Synced};
use crate::cluster::native::IsolationLevel;
use crate::config::{names, Migration};
use crate::plan::RecordLimits;
use crate::plan::{Action, GroupOffsets};
use crate::replicate::{self, Settings, Status};
use crate::state::progress::alignment_records;
use crate::state::{writers_record, CutoverPoint, PointPartition, Position, Progress, Store};
use crate::survey::Snapshot;

use super::CutoverError;

fn failed(e: impl std::fmt::Display) -> CutoverError {
    CutoverError::Failback(e.to_string())
}

/// The failback's progress topic on the source.
pub fn store(migration: &Migration) -> Store {
    Store::new(
        &names::failback(&migration.name),
        crate::cluster::factory::properties(migration, crate::cluster::Role::Source),
    )
}

/// Engine settings with the clusters swapped: read the target, write the source — its
/// clients sized for the largest records the selected topics take (`limits`, read with the
/// clusters swapped too).
pub fn settings(migration: &Migration, until_synced: bool, limits: &RecordLimits) -> Settings {
    let mut settings = Settings::from_migration(migration, until_synced);
    std::mem::swap(&mut settings.source, &mut settings.target);
    std::mem::swap(&mut settings.source_names, &mut settings.target_names);
    settings.store = store(migration);
    settings.migration = settings.store.migration.clone();
    settings.with_record_limits(limits)
}

/// The record size limits of failback: the target's selected topics read, the source's written.
pub fn limits(migration: &Migration, snapshot: &Snapshot) -> RecordLimits {
    crate::plan::record_limits(
        migration,
        &snapshot.target_inventory,
        &snapshot.source_inventory,
    )
}

/// The cutover `point` with every selected partition the target has now and did not have at
/// the cutover — a topic created there, partitions added — at the target's log start and the
/// source's end then (none: failback creates them), so that failback copies them back and
/// rollback verifies them like the others.
pub fn extent(migration: &Migration, snapshot: &Snapshot, point: &CutoverPoint) -> CutoverPoint {
    let mut extended = point.clone();
    for topic in snapshot
        .target_inventory
        .topics
        .values()
        // Selected, or carried with an application that moves (`plan::units`).
        .filter(|t| {
            migration.topics.selects(&t.name)
                || snapshot.source_inventory.topics.contains_key(&t.name)
        })
    {
        for (partition, p) in &topic.partitions {
            if point.get(&topic.name, *partition).is_none() {
                extended.partitions.push(PointPartition {
                    topic: topic.name.clone(),
                    partition: *partition,
                    source_end: 0,
                    target_end: p.log_start.max(0),
                    at_ms: point.at_ms,
                });
            }
        }
    }
    extended
}

/// Creates on the source what `extended` holds beyond `point`: topics created on the target
/// since the cutover (with its partition count and topic-level configs) and partitions added
/// there. Refuses a source topic that already has the partition (written after the cutover).
async fn create_since(
    snapshot: &Snapshot,
    point: &CutoverPoint,
    extended: &CutoverPoint,
) -> Result<(), CutoverError> {
    let mut added: std::collections::BTreeMap<&str, i32> = std::collections::BTreeMap::new();
    for p in &extended.partitions {
        if point.get(&p.topic, p.partition).is_none() {
            let count = added.entry(p.topic.as_str()).or_default();
            *count = (*count).max(p.partition + 1);
        }
    }
    for (topic, wanted) in added {
        let Some(on_target) = snapshot.target_inventory.topics.get(topic) else {
            continue;
        };
        let action = match snapshot.source_inventory.topics.get(topic) {
            None => Action::CreateTopic {
                topic: topic.to_string(),
                partitions: on_target.partition_count(),
                replication_factor: on_target
                    .replication_factor
                    .min(snapshot.source_inventory.brokers.max(1) as i32),
                configs: on_target
                    .dynamic_configs()
                    .filter_map(|(k, c)| c.value.clone().map(|v| (k.clone(), v)))
                    .collect(),
            },
            Some(on_source) if on_source.partition_count() < wanted => Action::CreatePartitions {
                topic: topic.to_string(),
                before: on_source.partition_count(),
                after: on_target.partition_count(),
            },
            Some(_) => continue,
        };
        crate::apply::execute(&snapshot.source, &action).await?;
    }
    // Created partitions take a moment to have leaders everywhere.
    let created: Vec<(String, i32)> = extended
        .partitions
        .iter()
        .filter(|p| point.get(&p.topic, p.partition).is_none())
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    if !created.is_empty() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let topics: std::collections::BTreeSet<&str> =
            created.iter().map(|(t, _)| t.as_str()).collect();
        while let Err(e) = snapshot
            .source
            .end_offsets(created.clone(), IsolationLevel::ReadUncommitted)
            .await
        {
            if std::time::Instant::now() >= deadline {
                return Err(e.into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            for topic in &topics {
                snapshot.source.refresh_metadata(topic).await?;
            }
        }
    }
    Ok(())
}

/// Reads the failback's progress (empty before the first failback).
pub async fn progress(migration: &Migration) -> Result<Progress, CutoverError> {
    let store = store(migration);
    tokio::task::spawn_blocking(move || store.read())
        .await
        .map_err(failed)?
        .map_err(failed)
}

/// Makes the source ready for failback: its progress topic, the topics and partitions the
/// target gained since the cutover (`extended` beyond `point`, see [`extent`]), and for each
/// partition not yet failed back since this cutover, a position at the cutover point —
/// refused when the source was written after the cutover (those records would sit between
/// the two logs' alignment). The partitions.
pub async fn prepare(
    migration: &Migration,
    snapshot: &Snapshot,
    point: &CutoverPoint,
    extended: &CutoverPoint,
) -> Result<Vec<(String, i32)>, CutoverError> {
    let store = store(migration);
    create_since(snapshot, point, extended).await?;
    let point = extended;
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
    if let Some((p, now)) = super::written_since(fresh.iter().copied(), &ends, |p| p.source_end) {
        return Err(CutoverError::WrittenAfterCutover {
            topic: p.topic.clone(),
            partition: p.partition,
            at_cutover: p.source_end,
            now,
        });
    }
    for p in fresh {
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
    limits: &RecordLimits,
    partitions: Vec<(String, i32)>,
    until_synced: bool,
    stop: Arc<AtomicBool>,
) -> Result<(u64, u64), CutoverError> {
    let settings = Arc::new(settings(migration, until_synced, limits));
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

/// Failback as an engine: `apply` after the cutover with failback enabled. Prepares the
/// source, replicates back until cancelled (or, with `until_synced`, until the source caught
/// up) translating the groups back every `consumer_groups.sync_interval`, then translates them
/// back once more; `rollback` drains it.
pub struct Failback {
    migration: Migration,
    /// The cutover point.
    point: CutoverPoint,
    /// The point with what the target gained since (see [`extent`]), once prepared.
    extended: CutoverPoint,
    /// The partitions failed back, known once prepared.
    partitions: Vec<(String, i32)>,
    /// Record sizes of the topics copied back, known once prepared.
    limits: RecordLimits,
}

impl Failback {
    /// Failback of `migration`, cut over at `point`.
    pub fn new(migration: &Migration, point: CutoverPoint) -> Failback {
        let partitions = point
            .partitions
            .iter()
            .map(|p| (p.topic.clone(), p.partition))
            .collect();
        Failback {
            migration: migration.clone(),
            extended: point.clone(),
            point,
            partitions,
            limits: RecordLimits::default(),
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Engine for Failback {
    fn start(&self, until_synced: bool) -> Option<Start> {
        Some(Start::FailingBack {
            migration: self.migration.name.clone(),
            at_ms: self.point.at_ms,
            until_synced,
        })
    }

    async fn prepare(&mut self, snapshot: &Snapshot) -> miette::Result<()> {
        self.extended = extent(&self.migration, snapshot, &self.point);
        self.limits = limits(&self.migration, snapshot);
        self.partitions = prepare(&self.migration, snapshot, &self.point, &self.extended).await?;
        Ok(())
    }

    async fn run(
        &mut self,
        until_synced: bool,
        cancel: CancellationToken,
        _observer: &mut dyn Observer,
    ) -> miette::Result<Ran> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = {
            let (cancel, stop) = (cancel.clone(), stop.clone());
            tokio::spawn(async move {
                cancel.cancelled().await;
                stop.store(true, Ordering::Relaxed);
            })
        };
        // While it runs, groups are translated back every sync interval (and once at the end).
        let periodic = self.migration.consumer_groups.sync.then(|| {
            let (migration, point, stop) =
                (self.migration.clone(), self.extended.clone(), stop.clone());
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
        let replicated = replicate_back(
            &self.migration,
            &self.limits,
            self.partitions.clone(),
            until_synced,
            stop,
        )
        .await;
        stopping.abort();
        if let Some(task) = periodic {
            task.abort();
        }
        let (records, bytes) = replicated?;
        Ok(Ran::FailedBack {
            partitions: self.partitions.len(),
            records,
            bytes,
            caught_up: until_synced && !cancel.is_cancelled(),
        })
    }

    async fn sync_groups(&mut self, _until_synced: bool) -> miette::Result<Option<Synced>> {
        if !self.migration.consumer_groups.sync {
            return Ok(None);
        }
        let lines = sync_groups_back(&self.migration, &self.extended).await?;
        Ok(Some(Synced::Back(lines)))
    }

    async fn status(&self) -> miette::Result<Option<Status>> {
        Ok(None)
    }

    async fn drain(&mut self) -> miette::Result<()> {
        let stop = Arc::new(AtomicBool::new(false));
        replicate_back(
            &self.migration,
            &self.limits,
            self.partitions.clone(),
            true,
            stop,
        )
        .await?;
        Ok(())
    }
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
