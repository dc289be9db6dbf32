//! Rollback: the cutover's gates in reverse, back to the source after failback. In order —
//!
//! 1. preflight: the migration is cut over and failback is enabled;
//! 2. target quiet: nothing writes to or consumes the migrated topics on the target for
//!    `cutover.quiet_period`, naming what still does;
//! 3. drain to the source: replicate back to the target's end, then translate every group's
//!    target offsets exactly back onto the source;
//! 4. verify in reverse: every partition replicated back to the target's end, the same records
//!    after the cutover point on both (count and digest), every group's source offsets the
//!    exact translation of its target offsets;
//! 5. the rollback point recorded (per partition the target's end, the source's end, the
//!    time); the forward progress is aligned at it and the cutover marked rolled back, so a
//!    later forward `apply` goes on from there without copying a record twice.
//!
//! Each step is recorded (a rollback record in the progress topic) and a rerun resumes: the
//! gate runner is the cutover's (`gates`), given the rollback's own gates here.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::failback::{self, translate_back};
use super::gates::{self, Gates, Passed, Runner, Scope, Stopped, Verdict};
use super::{CutoverError, Direction, Observer, Outcome};

use crate::apply::Engine;
use crate::cluster::native::IsolationLevel;
use crate::cluster::{factory, Role};
use crate::config::Migration;
use crate::state::progress::alignment_records;
use crate::state::{CutoverPoint, CutoverRecord, CutoverStep, Position, Store};
use crate::survey::Snapshot;
use crate::verify::{digest_partitions, DigestRange};

/// Runs the rollback of `migration` over the clusters of `snapshot`, draining back with
/// `engine` (failback, given when the migration is cut over), giving the quiet gate until
/// `timeout` from now.
pub async fn rollback(
    migration: &Migration,
    snapshot: &Snapshot,
    engine: Option<&mut dyn Engine>,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> Result<Outcome, CutoverError> {
    let deadline = Instant::now() + timeout;
    let progress = snapshot.engine_progress().cloned().unwrap_or_default();
    let record = gates::resumed(Direction::Rollback, &progress, &migration.name);
    let runner = Runner::new(migration, Direction::Rollback, record, observer);
    if let Some(point) = runner.recorded_point() {
        return runner.switched_earlier(point).await;
    }

    // Whatever an earlier run recorded, only a migration cut over with failback rolls back.
    let cutover = super::cut_over(Some(&progress)).and_then(|c| c.point.clone());
    let (Some(cutover), Some(engine)) = (cutover.filter(|_| migration.failback.enabled), engine)
    else {
        let why = if migration.failback.enabled {
            "the migration is not cut over: there is nothing to roll back"
        } else {
            "failback is not enabled (`failback { enabled = true }`): the source does not hold what the target received since the cutover"
        };
        return Ok(runner.stopped(CutoverStep::Preflight, Stopped::because(why, Vec::new())));
    };
    // With what the target gained since the cutover: those partitions roll back too.
    let cutover = failback::extent(migration, snapshot, &cutover);
    let partitions: Vec<(String, i32)> = cutover
        .partitions
        .iter()
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    let mut gates = Back {
        cutover: &cutover,
        forward: progress.cutover.clone(),
        groups: progress
            .cut_over
            .keys()
            .chain(progress.synced.keys())
            .cloned()
            .collect(),
        engine,
    };
    runner
        .run(&mut gates, snapshot, &partitions, deadline)
        .await
}

/// The rollback's own gates: failback's replication and group translation back to the
/// source, verified in reverse; the forward progress aligned at the rollback point.
struct Back<'a> {
    /// The cutover point rolled back.
    cutover: &'a CutoverPoint,
    /// The cutover's record, marked rolled back at the point.
    forward: Option<CutoverRecord>,
    /// Failback, which drains back to the source.
    engine: &'a mut dyn Engine,
    /// Groups the forward sync recorded (cut over, or what it committed): back on the source,
    /// the next forward sync starts afresh with them.
    groups: std::collections::BTreeSet<String>,
}

impl Gates for Back<'_> {
    /// Cut over, with failback (checked before the runner starts).
    async fn preflight(&mut self, _: &Scope<'_>) -> Result<Verdict, CutoverError> {
        let detail = format!(
            "cut over at {}, failback enabled",
            crate::state::cutover::utc(self.cutover.at_ms)
        );
        Ok(Ok(Passed::with(detail, Vec::new())))
    }

    /// Replicate back to the target's end, then the groups.
    async fn drain(&mut self, on: &Scope<'_>) -> Result<Passed, CutoverError> {
        // Failback's own errors come back as they were raised.
        let failed = |e: miette::Report| {
            e.downcast::<CutoverError>()
                .unwrap_or_else(|e| CutoverError::Failback(e.to_string()))
        };
        self.engine.prepare(on.snapshot).await.map_err(failed)?;
        self.engine.drain().await.map_err(failed)?;
        // Every group is translated back, whether or not the migration syncs groups forward.
        let synced = failback::sync_groups_back(on.migration, self.cutover).await?;
        let detail = "replicated back to the target's end; group offsets committed on the source";
        Ok(Passed::with(detail, synced))
    }

    /// Verify in reverse.
    async fn verify(&mut self, on: &Scope<'_>) -> Result<Verdict, CutoverError> {
        let problems = verify_back(on.migration, self.cutover).await?;
        if !problems.is_empty() {
            return Ok(Err(Stopped::because("NOT READY", problems)));
        }
        let detail = "every partition replicated back with the same records; every group's source offsets exact";
        Ok(Ok(Passed::with(detail, Vec::new())))
    }

    /// The forward progress aligned at the rollback point; the cutover rolled back.
    async fn at_point(&mut self, on: &Scope<'_>, point: &CutoverPoint) -> Result<(), CutoverError> {
        let groups = std::mem::take(&mut self.groups);
        realign(
            on.migration,
            self.cutover,
            point,
            self.forward.take(),
            &groups,
        )
        .await
    }
}

/// What keeps the rollback from being verified: partitions not replicated back to the
/// target's end, groups whose source offsets are not the exact translation.
async fn verify_back(
    migration: &Migration,
    cutover: &CutoverPoint,
) -> Result<Vec<String>, CutoverError> {
    let snapshot = crate::survey::snapshot(migration).await?;
    let reverse = failback::progress(migration).await?;
    let partitions: Vec<(String, i32)> = cutover
        .partitions
        .iter()
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    let stable = snapshot
        .target
        .end_offsets(partitions.clone(), IsolationLevel::ReadCommitted)
        .await?;
    let source_stable = snapshot
        .source
        .end_offsets(partitions, IsolationLevel::ReadCommitted)
        .await?;
    let mut problems = same_records_since(migration, cutover, &source_stable, &stable).await?;
    for ((topic, partition), end) in stable {
        let back = reverse
            .get(&topic, partition)
            .and_then(|p| p.position)
            .map_or(0, |p| p.next_source);
        if back < end {
            problems.push(format!(
                "{topic} partition {partition}: replicated back to target offset {back} of {end}"
            ));
        }
    }
    let (groups, _) = translate_back(migration, &snapshot, cutover).await?;
    for g in groups {
        for p in &g.partitions {
            if p.to_commit().is_some() || p.target == crate::plan::OffsetTarget::PendingReplication
            {
                problems.push(format!(
                    "group \"{}\" {} partition {}: target offset {} is not translated onto the source ({:?} there)",
                    g.group, p.topic, p.partition, p.source_offset, p.target_current
                ));
            }
        }
    }
    Ok(problems)
}

/// Per partition, whether the source holds after its cutover end exactly the records the
/// target holds after its own (count and order-sensitive digest of keys, values, headers and
/// timestamps, read_committed up to each side's last stable offset): a line per difference.
async fn same_records_since(
    migration: &Migration,
    cutover: &CutoverPoint,
    source_stable: &BTreeMap<(String, i32), i64>,
    target_stable: &BTreeMap<(String, i32), i64>,
) -> Result<Vec<String>, CutoverError> {
    // Each side read under its own names (the target's may be renamed).
    let range = |p: &crate::state::PointPartition,
                 from: i64,
                 ends: &BTreeMap<_, i64>,
                 rename: &crate::config::Rename| DigestRange {
        topic: rename.target(&p.topic).into_owned(),
        partition: p.partition,
        from,
        to: ends
            .get(&(p.topic.clone(), p.partition))
            .copied()
            .unwrap_or(from),
        limit: None,
        timestamps: true,
    };
    let source: Vec<DigestRange> = cutover
        .partitions
        .iter()
        .map(|p| range(p, p.source_end, source_stable, &Default::default()))
        .collect();
    let target: Vec<DigestRange> = cutover
        .partitions
        .iter()
        .map(|p| range(p, p.target_end, target_stable, &migration.topics.rename))
        .collect();
    let props = |role| factory::properties(migration, role);
    let (from, to) = (props(Role::Source), props(Role::Target));
    let name = migration.name.clone();
    let (on_source, on_target) = tokio::task::spawn_blocking(move || {
        let on_source = digest_partitions(&from, &name, "source", &source)?;
        let on_target = digest_partitions(&to, &name, "target", &target)?;
        Ok::<_, crate::verify::ParityError>((on_source, on_target))
    })
    .await
    .map_err(|e| CutoverError::Failback(e.to_string()))?
    .map_err(|e| CutoverError::Failback(e.to_string()))?;
    Ok(cutover
        .partitions
        .iter()
        .zip(on_source.iter().zip(&on_target))
        .filter(|(_, (s, t))| s.records != t.records || s.digest != t.digest)
        .map(|(p, (s, t))| {
            format!(
                "{} partition {}: the source holds {} record(s) after the cutover point, the target {}{}",
                p.topic,
                p.partition,
                s.records,
                t.records,
                if s.records == t.records { " (their contents differ)" } else { "" }
            )
        })
        .collect())
}

/// Aligns the forward progress at the cutover point (`cutover`, with the partitions the
/// target gained since: translation walks from there) and at the rollback point (both logs
/// hold the same records up to it), forgets what the forward sync recorded of `groups` (cut
/// over, committed: they are back on the source) and marks the cutover rolled back: a later
/// forward `apply` goes on from there.
async fn realign(
    migration: &Migration,
    cutover_point: &CutoverPoint,
    point: &CutoverPoint,
    cutover: Option<CutoverRecord>,
    groups: &std::collections::BTreeSet<String>,
) -> Result<(), CutoverError> {
    let mut records = Vec::new();
    for group in groups {
        records.extend(crate::state::forget_group(group));
    }
    for p in &cutover_point.partitions {
        let at = Position {
            next_source: p.source_end,
            next_target: p.target_end,
        };
        records.push(crate::state::progress::index_record(
            &p.topic,
            p.partition,
            at,
        ));
    }
    for p in &point.partitions {
        let at = Position {
            next_source: p.source_end,
            next_target: p.target_end,
        };
        records.extend(alignment_records(&p.topic, p.partition, at));
    }
    if let Some(mut cutover) = cutover {
        cutover.abandoned_at_ms = Some(point.at_ms);
        records.push(cutover.encode());
    }
    super::write(&Store::of(migration), records).await
}
