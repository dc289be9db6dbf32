//! Cutover: the gated switch from the source to the target. In order —
//!
//! 1. preflight: the verify checks that do not need the source quiet;
//! 2. source quiet: no selected partition written and no selected group consumed on the source
//!    for `cutover.quiet_period`, naming what still is ([`quiet`]);
//! 3. drain: replicate to the source's end, then the final exact group sync;
//! 4. verify: READY;
//! 5. the cutover point recorded (per partition the source's end, the target's end, the time),
//!    with the offset map ([`offset_map`]) before it, and what to switch: the target's
//!    bootstrap servers and each group's target offsets.
//!
//! Each step is recorded in the migration's progress topic as it is done, with the source's
//! ends then, so that a rerun resumes after the last step whose source has not moved since.
//! The gate runner (`gates`) does that for both directions; this module gives it the cutover's
//! own gates.
//! Once cut over, a forward `apply` is refused unless the operator abandons the cutover
//! ([`refuse_forward`], [`abandon`]); with failback enabled it replicates back instead
//! ([`failback`]), and [`rollback`] runs the gates in reverse. The quiet gate is [`quiet`]'s.
//! Draws nothing: it tells an [`Observer`].

pub mod failback;
mod gates;
pub mod offset_map;
pub mod quiet;
pub mod rollback;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::apply::{Engine, Synced};
use crate::cluster::native::IsolationLevel;
use crate::cluster::{ClusterError, Role};
use crate::config::Migration;
use crate::quote;
use crate::state::cutover::now_ms;
use crate::state::progress::ProgressKey;
use crate::state::{CutoverPoint, CutoverRecord, CutoverStep, PointPartition, Progress, Store};
use crate::survey::Snapshot;
use crate::verify::{self, QuietWatch, Report};

use gates::{Gates, Passed, Runner, Scope, Stopped, Verdict};

pub use quiet::{Activity, Consuming, Writing};

/// Why `cutover` could not go on (as opposed to a gate not passing).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CutoverError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("migration \"{0}\" has not replicated with the built-in engine: there is nothing to cut over")]
    #[diagnostic(help("run `kafka-migrate apply` first (cutover needs the built-in engine's progress on the target)"))]
    NotStarted(String),
    #[error("draining the source failed: {0}")]
    #[diagnostic(help("what was replicated is committed; run cutover again to resume"))]
    Drain(String),
    #[error("recording the cutover in {topic}: {cause}")]
    Record { topic: String, cause: String },
    #[error("target cluster: reading {topic}: {cause}")]
    Read { topic: String, cause: String },
    #[error("failback: {0}")]
    Failback(String),
    #[error("{topic} partition {partition} on the source was written after the cutover (its end was {at_cutover}, it is {now}): failback cannot append the target's records after them")]
    #[diagnostic(help("failback appends what producers wrote to the target after the cutover point; stop whatever still writes to the source, and decide what to do with the records it wrote there"))]
    WrittenAfterCutover {
        topic: String,
        partition: i32,
        at_cutover: i64,
        now: i64,
    },
    #[error("{topic} partition {partition} on the target was written after the cutover (its end was {at_cutover}, it is {now}): the cutover cannot be abandoned")]
    #[diagnostic(help("abandoning a cutover makes the source the system of record again and forward replication would write over what producers wrote to the target since; to go back to the source with those records, enable failback and run `kafka-migrate rollback`"))]
    WrittenSinceCutover {
        topic: String,
        partition: i32,
        at_cutover: i64,
        now: i64,
    },
    #[error("migration \"{migration}\" was cut over at {at}: the target is the system of record, and a forward apply would write the source's records over what producers now write to the target")]
    #[diagnostic(help("to go back to the source, run `kafka-migrate rollback`; if the cutover is to be undone and the source is still the system of record, run `kafka-migrate apply --abandon-cutover`"))]
    CutOver { migration: String, at: String },
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Done,
    /// Done by an earlier run, and the source has not moved since.
    DoneEarlier,
    /// The gate did not pass: the cutover stops here.
    NotPassed,
}

/// Which way a gated sequence switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `cutover`: from the source to the target.
    Cutover,
    /// `rollback`: back from the target to the source.
    Rollback,
}

impl Direction {
    pub fn label(self, step: CutoverStep) -> &'static str {
        match self {
            Direction::Cutover => step.label(),
            Direction::Rollback => step.rollback_label(),
        }
    }

    fn key(self) -> ProgressKey {
        match self {
            Direction::Cutover => ProgressKey::Cutover,
            Direction::Rollback => ProgressKey::Rollback,
        }
    }
}

/// One step's outcome, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StepReport {
    pub step: CutoverStep,
    /// The step's name in this direction.
    pub label: &'static str,
    pub result: StepResult,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

/// What clients switch to: the target's brokers and each group's offsets there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Switch {
    pub bootstrap_servers: Vec<String>,
    /// Group → topic → partition → committed offset on the target.
    pub groups: BTreeMap<String, BTreeMap<String, BTreeMap<i32, i64>>>,
}

/// How a cutover ended.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    pub migration: String,
    pub direction: Direction,
    /// Whether the switch is complete: cut over (or rolled back) now.
    pub complete: bool,
    pub steps: Vec<StepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<CutoverPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub switch: Option<Switch>,
    /// What was still active when the quiet gate gave up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// The verify report, when a verify gate did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// A dry run: every gate checked (the drain told, not run), nothing recorded, no point
    /// taken; `switch` is what clients would switch to.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

impl Outcome {
    /// Whether every gate run passed (or was done earlier).
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.result != StepResult::NotPassed)
    }

    fn new(migration: &Migration, direction: Direction) -> Outcome {
        Outcome {
            migration: migration.name.clone(),
            direction,
            complete: false,
            steps: Vec::new(),
            point: None,
            switch: None,
            activity: None,
            report: None,
            dry_run: false,
        }
    }
}

/// What a running cutover tells whoever shows it.
pub trait Observer {
    /// A step ended.
    fn step(&mut self, report: &StepReport);
    /// The source is still in use (the quiet gate waits).
    fn waiting(&mut self, activity: &Activity);
    /// A step starts that may take a while.
    fn starting(&mut self, direction: Direction, step: CutoverStep);
}

/// Runs the cutover of `migration` over the clusters of `snapshot`, draining with `engine`,
/// giving the quiet gate until `timeout` from now. A `dry_run` checks every gate afresh,
/// tells what the drain would replicate instead of draining, and records nothing.
pub async fn cutover(
    migration: &Migration,
    snapshot: &Snapshot,
    engine: &mut dyn Engine,
    timeout: Duration,
    dry_run: bool,
    observer: &mut dyn Observer,
) -> Result<Outcome, CutoverError> {
    let deadline = Instant::now() + timeout;
    let Some(progress) = snapshot.engine_progress() else {
        return Err(CutoverError::NotStarted(migration.name.clone()));
    };
    let record = gates::resumed(Direction::Cutover, progress, &migration.name);
    let mut runner = Runner::new(migration, Direction::Cutover, record, observer);
    if let Some(point) = runner.recorded_point() {
        if dry_run {
            return Err(CutoverError::CutOver {
                migration: migration.name.clone(),
                at: crate::state::cutover::utc(point.at_ms),
            });
        }
        return runner.switched_earlier(point).await;
    }
    if dry_run {
        runner = runner.dry_run();
    }
    let partitions = snapshot.source_inventory.partitions();
    runner
        .run(&mut Forward { engine }, snapshot, &partitions, deadline)
        .await
}

/// The cutover's own gates: the verify checks before and after, the engine's drain.
struct Forward<'e> {
    engine: &'e mut dyn Engine,
}

impl Gates for Forward<'_> {
    /// The verify checks that do not need the source quiet.
    async fn preflight(&mut self, on: &Scope<'_>) -> Result<Verdict, CutoverError> {
        let report = verify::preflight(on.migration).await;
        if !report.ready {
            return Ok(Err(Stopped::by(report)));
        }
        let passed: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
        let detail = format!("passed: {}", passed.join(", "));
        Ok(Ok(Passed::with(detail, Vec::new())))
    }

    /// Replicate to the end, then the final exact group sync: a line per group. The drain
    /// takes the migration over: a run still replicating it stops.
    async fn drain(&mut self, on: &Scope<'_>) -> Result<Passed, CutoverError> {
        let failed = |e: miette::Report| CutoverError::Drain(e.to_string());
        let held_by = on
            .snapshot
            .engine_progress()
            .and_then(|p| p.unreleased_before(i64::MAX))
            .map(|(_, w)| w.describe());
        self.engine.drain().await.map_err(failed)?;
        let synced = self.engine.sync_groups(true).await.map_err(failed)?;
        let detail = "replicated to the source's end; group offsets committed on the target";
        let mut evidence: Vec<String> = held_by
            .map(|by| format!("took the migration over from the run that held it ({by}): a run still replicating stops"))
            .into_iter()
            .collect();
        evidence.extend(synced_lines(synced));
        Ok(Passed::with(detail, evidence))
    }

    /// What the drain would replicate: the lag from the snapshot's recorded progress.
    async fn drain_preview(&mut self, on: &Scope<'_>) -> Result<Passed, CutoverError> {
        let status = crate::replicate::Status::from_inventory(
            &on.migration.name,
            &on.snapshot.source_inventory,
            on.snapshot
                .engine_progress()
                .unwrap_or(&Progress::default()),
        );
        let behind: Vec<String> = status
            .partitions
            .iter()
            .filter(|p| p.lag > 0)
            .map(|p| format!("{} partition {}: {} record(s)", p.topic, p.partition, p.lag))
            .collect();
        let detail = format!(
            "not run (dry run): it would replicate {} record(s) to the source's end, then commit the groups' offsets on the target",
            status.total_lag()
        );
        Ok(Passed::with(detail, behind))
    }

    /// Verify READY.
    async fn verify(&mut self, on: &Scope<'_>) -> Result<Verdict, CutoverError> {
        let report = verify::verify(on.migration, &mut QuietWatch::new()).await;
        if !report.ready {
            return Ok(Err(Stopped::by(report)));
        }
        Ok(Ok(Passed::with(report.verdict, Vec::new())))
    }

    /// The offset map of the point's partitions, recorded before the point: source offsets
    /// kept outside Kafka still translate once the source is gone.
    async fn at_point(&mut self, on: &Scope<'_>, point: &CutoverPoint) -> Result<(), CutoverError> {
        let partitions: Vec<(String, i32)> = point
            .partitions
            .iter()
            .map(|p| (p.topic.clone(), p.partition))
            .collect();
        offset_map::take(on.migration, &on.snapshot.target, &partitions).await?;
        Ok(())
    }
}

/// A drain's group sync, a line per group.
fn synced_lines(synced: Option<Synced>) -> Vec<String> {
    match synced {
        None => Vec::new(),
        Some(Synced::Back(lines)) => lines,
        Some(Synced::Forward(groups)) => groups
            .into_iter()
            .map(|g| match g.cut_over {
                Some(why) => format!(
                    "group \"{}\": cut over earlier ({why})",
                    quote::terminal(&g.group)
                ),
                None => format!(
                    "group \"{}\": {} offset(s) committed on the target",
                    quote::terminal(&g.group),
                    g.committed
                ),
            })
            .collect(),
    }
}

/// What keeps the source busy, one line each: partitions written (with their producers) and
/// groups consuming (with their members).
pub fn activity_lines(activity: &Activity) -> Vec<String> {
    let mut lines = Vec::new();
    for w in &activity.writing {
        let producers: Vec<String> = w
            .producers
            .iter()
            .map(|p| {
                format!(
                    "producer id {} (epoch {}) last wrote at {}{}",
                    p.producer_id,
                    p.producer_epoch,
                    if p.last_timestamp_ms >= 0 {
                        crate::state::cutover::utc(p.last_timestamp_ms)
                    } else {
                        "an unknown time".into()
                    },
                    p.open_transaction_from
                        .map(|o| format!(", transaction open from offset {o}"))
                        .unwrap_or_default()
                )
            })
            .collect();
        lines.push(format!(
            "written: {} partition {}: end offset {} → {}{}",
            w.topic,
            w.partition,
            w.from,
            w.to,
            if producers.is_empty() {
                String::new()
            } else {
                format!("; {}", producers.join("; "))
            }
        ));
    }
    if let (Some(why), false) = (&activity.producers_unknown, activity.writing.is_empty()) {
        lines.push(format!("producers not named: {why}"));
    }
    for c in &activity.consuming {
        let members: Vec<String> = c
            .members
            .iter()
            .map(|m| {
                format!(
                    "client id \"{}\" on {}",
                    quote::terminal(&m.client_id),
                    quote::terminal(&m.host)
                )
            })
            .collect();
        lines.push(format!(
            "consumed: group \"{}\" has {} member(s) on the {}: {}",
            quote::terminal(&c.group),
            c.members.len(),
            activity.cluster,
            members.join(", ")
        ));
    }
    lines
}

async fn save(
    store: &Store,
    direction: Direction,
    record: &CutoverRecord,
) -> Result<(), CutoverError> {
    write(store, vec![record.encode_as(&direction.key())]).await
}

/// Writes `records` (keys and values) to the progress topic of `store`.
async fn write(store: &Store, records: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), CutoverError> {
    let store = store.clone();
    let topic = store.topic.clone();
    tokio::task::spawn_blocking(move || store.write(&records))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map(|_| ())
        .map_err(|cause| CutoverError::Record { topic, cause })
}

/// Both clusters' ends of every selected partition, now: the cutover (or rollback) point.
async fn point(
    snapshot: &Snapshot,
    partitions: &[(String, i32)],
) -> Result<CutoverPoint, CutoverError> {
    let source = snapshot
        .source
        .end_offsets(partitions.to_vec(), IsolationLevel::ReadUncommitted)
        .await?;
    let target = snapshot
        .target
        .end_offsets(partitions.to_vec(), IsolationLevel::ReadUncommitted)
        .await?;
    let at_ms = now_ms();
    Ok(CutoverPoint {
        at_ms,
        partitions: source
            .into_iter()
            .map(|((topic, partition), source_end)| PointPartition {
                target_end: target
                    .get(&(topic.clone(), partition))
                    .copied()
                    .unwrap_or(0),
                topic,
                partition,
                source_end,
                at_ms,
            })
            .collect(),
    })
}

/// What to switch to: the brokers of the cluster of `role` and every selected group's offsets
/// there.
async fn switch(migration: &Migration, role: Role) -> Result<Switch, CutoverError> {
    let snapshot = crate::survey::snapshot(migration).await?;
    let (cluster, inventory) = match role {
        Role::Source => (migration.source(), snapshot.source_inventory),
        Role::Target => (migration.target(), snapshot.target_inventory),
    };
    Ok(Switch {
        bootstrap_servers: cluster.bootstrap_servers.clone(),
        groups: inventory
            .groups
            .into_iter()
            .filter(|(_, g)| !g.offsets.is_empty())
            .map(|(id, g)| (id, g.offsets))
            .collect(),
    })
}

/// The cutover, when `progress` records the migration as cut over.
pub fn cut_over(progress: Option<&Progress>) -> Option<&CutoverRecord> {
    progress.and_then(Progress::cut_over)
}

/// Refuses a forward apply of a migration that was cut over.
pub fn refuse_forward(
    migration: &Migration,
    progress: Option<&Progress>,
) -> Result<(), CutoverError> {
    match cut_over(progress).and_then(|c| c.point.as_ref()) {
        Some(point) => Err(CutoverError::CutOver {
            migration: migration.name.clone(),
            at: crate::state::cutover::utc(point.at_ms),
        }),
        None => Ok(()),
    }
}

/// Refuses to abandon the cutover of `migration` (recorded in `progress`) when the target was
/// written since its point — in a partition it had then, or one it gained since: forward
/// replication would append the source's records after those, and the two logs would part.
pub async fn abandonable(
    migration: &Migration,
    snapshot: &Snapshot,
    progress: Option<&Progress>,
) -> Result<(), CutoverError> {
    let Some(point) = cut_over(progress).and_then(|c| c.point.as_ref()) else {
        return Ok(());
    };
    let point = failback::extent(migration, snapshot, point);
    let ends = snapshot
        .target
        .end_offsets(
            point
                .partitions
                .iter()
                .map(|p| (p.topic.clone(), p.partition)),
            IsolationLevel::ReadUncommitted,
        )
        .await?;
    match written_since(&point.partitions, &ends, |p| p.target_end) {
        Some((p, now)) => Err(CutoverError::WrittenSinceCutover {
            topic: p.topic.clone(),
            partition: p.partition,
            at_cutover: p.target_end,
            now,
        }),
        None => Ok(()),
    }
}

/// The first of `partitions` whose end now (in `ends`; a partition missing there has not
/// moved) is not its end at the point (`at`), with its end now.
fn written_since<'a>(
    partitions: impl IntoIterator<Item = &'a PointPartition>,
    ends: &BTreeMap<(String, i32), i64>,
    at: impl Fn(&PointPartition) -> i64,
) -> Option<(&'a PointPartition, i64)> {
    partitions.into_iter().find_map(|p| {
        let now = ends
            .get(&(p.topic.clone(), p.partition))
            .copied()
            .unwrap_or_else(|| at(p));
        (now != at(p)).then_some((p, now))
    })
}

/// Records that the cutover of `migration` is abandoned: the source is the system of record
/// again and forward replication may go on. Returns the point abandoned, if there was one.
pub async fn abandon(
    migration: &Migration,
    progress: Option<&Progress>,
) -> Result<Option<CutoverPoint>, CutoverError> {
    let Some(record) = cut_over(progress) else {
        return Ok(None);
    };
    let mut record = record.clone();
    record.abandoned_at_ms = Some(now_ms());
    save(&Store::of(migration), Direction::Cutover, &record).await?;
    Ok(record.point)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::native::ActiveProducer;
    use crate::cluster::Member;

    #[test]
    fn activity_names_partitions_producers_and_consumers() {
        let activity = Activity {
            cluster: "source",
            quiet_for_ms: 0,
            quiet_period_ms: 30_000,
            writing: vec![Writing {
                topic: "orders".into(),
                partition: 1,
                from: 5,
                to: 9,
                producers: vec![ActiveProducer {
                    producer_id: 7,
                    producer_epoch: 0,
                    last_timestamp_ms: 1_700_000_000_000,
                    open_transaction_from: Some(8),
                }],
            }],
            producers_unknown: None,
            consuming: vec![Consuming {
                group: "billing".into(),
                members: vec![Member {
                    client_id: "billing-7".into(),
                    host: "/10.0.3.17".into(),
                }],
            }],
        };
        assert_eq!(
            activity_lines(&activity),
            [
                "written: orders partition 1: end offset 5 → 9; producer id 7 (epoch 0) last wrote at 2023-11-14 22:13:20Z, transaction open from offset 8",
                "consumed: group \"billing\" has 1 member(s) on the source: client id \"billing-7\" on /10.0.3.17",
            ]
        );
        assert!(!activity.is_quiet());
    }
}
