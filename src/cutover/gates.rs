//! The gate runner of `cutover` and `rollback`: the gates in order — preflight, quiet, drain,
//! verify ([`CutoverStep::ALL`]) — then the point. Each gate is first checked against the
//! [`CutoverRecord`]: done by an earlier run, and the cluster switched from stands where it
//! stood then, it is told as done earlier; otherwise it runs, and once it passes it is
//! recorded, then told to the [`Observer`]. The first gate that does not pass ends the run.
//!
//! The quiet gate is the same both ways ([`quiet::wait`] on the cluster switched from); what
//! differs — what preflight checks, what drain and verify mean, what is written with the
//! point — is a direction's [`Gates`]. The [`Outcome`] is built here and nowhere else. Builds
//! no client (the snapshot's are used) and draws nothing.

use std::time::Instant;

use super::quiet::{self, Activity};
use super::{activity_lines, save, switch, CutoverError, Direction, Observer, Outcome};
use super::{StepReport, StepResult};

use crate::cluster::{ClusterClient, Role};
use crate::config::Migration;
use crate::state::{CutoverPoint, CutoverRecord, CutoverStep, PartitionEnd, Progress, Store};
use crate::survey::Snapshot;
use crate::verify::Report;

/// A gate that passed: what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Passed {
    pub detail: String,
    pub evidence: Vec<String>,
}

impl Passed {
    pub fn with(detail: impl Into<String>, evidence: Vec<String>) -> Passed {
        Passed {
            detail: detail.into(),
            evidence,
        }
    }
}

/// A gate that did not pass: why, with the verify report or the activity that kept it shut.
#[derive(Debug, Clone)]
pub(super) struct Stopped {
    detail: String,
    evidence: Vec<String>,
    report: Option<Report>,
    activity: Option<Activity>,
}

impl Stopped {
    pub fn because(detail: impl Into<String>, evidence: Vec<String>) -> Stopped {
        Stopped {
            detail: detail.into(),
            evidence,
            report: None,
            activity: None,
        }
    }

    /// Verify checks that did not pass: the outcome carries their report.
    pub fn by(report: Report) -> Stopped {
        Stopped {
            report: Some(report),
            ..Stopped::because("a check failed (see the report)", Vec::new())
        }
    }
}

/// What a gate found.
pub(super) type Verdict = Result<Passed, Stopped>;

/// What every gate of a run is run on.
pub(super) struct Scope<'a> {
    pub migration: &'a Migration,
    pub snapshot: &'a Snapshot,
}

/// What differs between `cutover` and `rollback`: the gates each direction runs its own way.
/// The runner asks them in order, only when the record does not hold them already.
pub(super) trait Gates {
    /// Whether the switch may begin.
    async fn preflight(&mut self, on: &Scope<'_>) -> Result<Verdict, CutoverError>;

    /// Everything the cluster switched from holds, onto the other one, then the groups.
    async fn drain(&mut self, on: &Scope<'_>) -> Result<Passed, CutoverError>;

    /// What the drain would do, for a dry run (which does not drain).
    async fn drain_preview(&mut self, on: &Scope<'_>) -> Result<Passed, CutoverError> {
        let _ = on;
        Ok(Passed::with("not run (dry run)", Vec::new()))
    }

    /// Whether both clusters agree, after the drain.
    async fn verify(&mut self, on: &Scope<'_>) -> Result<Verdict, CutoverError>;

    /// What is written with `point`, before it is recorded.
    async fn at_point(&mut self, on: &Scope<'_>, point: &CutoverPoint) -> Result<(), CutoverError> {
        let _ = (on, point);
        Ok(())
    }
}

/// The record a run of `direction` starts from: the one under way or done (see each arm), or
/// a fresh one.
pub(super) fn resumed(direction: Direction, progress: &Progress, name: &str) -> CutoverRecord {
    // The point of the latest cutover, rolled back or not.
    let latest = progress
        .cutover
        .as_ref()
        .and_then(|c| c.point.as_ref())
        .map(|p| p.at_ms);
    let recorded = match direction {
        // Abandoned (or rolled back): the next cutover starts afresh.
        Direction::Cutover => progress
            .cutover
            .clone()
            .filter(|r| r.abandoned_at_ms.is_none()),
        // The rollback of the latest cutover: resumed while under way, said again once done.
        // A rollback of an earlier cutover (done, or left half-done before that cutover was
        // abandoned) is not this one's.
        Direction::Rollback => progress.rollback.clone().filter(|r| match r.cutover_at_ms {
            Some(at) => Some(at) == latest,
            None => r.point.is_none() || progress.cut_over().is_none(),
        }),
    };
    recorded.unwrap_or_else(|| CutoverRecord {
        migration: name.to_string(),
        cutover_at_ms: latest.filter(|_| direction == Direction::Rollback),
        ..CutoverRecord::default()
    })
}

/// Per partition that moved from `then` to `now`: `topic partition P: end A → B`.
fn moved(then: &[PartitionEnd], now: &[PartitionEnd]) -> Vec<String> {
    now.iter()
        .filter_map(|e| {
            let before = then
                .iter()
                .find(|t| t.topic == e.topic && t.partition == e.partition)
                .map_or(-1, |t| t.end);
            (before != e.end).then(|| {
                format!(
                    "{} partition {}: end offset {} → {}",
                    e.topic,
                    e.partition,
                    if before < 0 {
                        "none".to_string()
                    } else {
                        before.to_string()
                    },
                    e.end
                )
            })
        })
        .collect()
}

impl Direction {
    /// The command that runs this direction.
    pub(super) fn command(self) -> &'static str {
        match self {
            Direction::Cutover => "cutover",
            Direction::Rollback => "rollback",
        }
    }

    /// The cluster switched from: it must go quiet, and its ends date each step.
    pub(super) fn switched_from(self) -> Role {
        match self {
            Direction::Cutover => Role::Source,
            Direction::Rollback => Role::Target,
        }
    }

    /// The cluster switched to: clients go there.
    pub(super) fn switched_to(self) -> Role {
        match self {
            Direction::Cutover => Role::Target,
            Direction::Rollback => Role::Source,
        }
    }
}

/// The gates as they go: the record, each step recorded once passed and told to the observer,
/// and the outcome.
pub(super) struct Runner<'a> {
    migration: &'a Migration,
    direction: Direction,
    store: Store,
    record: CutoverRecord,
    outcome: Outcome,
    observer: &'a mut dyn Observer,
    /// Check every gate afresh, drain nothing, record nothing.
    dry_run: bool,
}

impl<'a> Runner<'a> {
    pub fn new(
        migration: &'a Migration,
        direction: Direction,
        record: CutoverRecord,
        observer: &'a mut dyn Observer,
    ) -> Runner<'a> {
        Runner {
            migration,
            direction,
            store: Store::of(migration),
            record,
            outcome: Outcome::new(migration, direction),
            observer,
            dry_run: false,
        }
    }

    /// The runner of a dry run: every gate is checked afresh (none is taken as done by an
    /// earlier run), the drain is told instead of run, and nothing is recorded.
    pub fn dry_run(mut self) -> Runner<'a> {
        self.dry_run = true;
        self.outcome.dry_run = true;
        self
    }

    /// The point an earlier run took: then the switch is complete.
    pub fn recorded_point(&self) -> Option<CutoverPoint> {
        self.record.point.clone()
    }

    /// Switched by an earlier run at `point`: every step told as done earlier, then the point
    /// and what to switch, again.
    pub async fn switched_earlier(mut self, point: CutoverPoint) -> Result<Outcome, CutoverError> {
        for step in CutoverStep::ALL {
            self.already(step, &[]);
        }
        self.complete(point).await
    }

    /// Runs the gates on `partitions` in order from the first the record does not hold, then
    /// takes the point and records it. `deadline` bounds the quiet gate.
    pub async fn run(
        mut self,
        gates: &mut impl Gates,
        snapshot: &Snapshot,
        partitions: &[(String, i32)],
        deadline: Instant,
    ) -> Result<Outcome, CutoverError> {
        let on = Scope {
            migration: self.migration,
            snapshot,
        };
        let client = match self.direction.switched_from() {
            Role::Source => &snapshot.source,
            Role::Target => &snapshot.target,
        };
        for step in CutoverStep::ALL {
            // The ends of the cluster switched from, now: a step holds if it was recorded at
            // them. Once quiet, the cluster must stand at the ends it went quiet at through
            // the drain, verify and the point; a step is recorded at those ends.
            let at = if step == CutoverStep::Preflight {
                Vec::new()
            } else {
                quiet::source_ends(client, partitions).await?
            };
            let trusted = match step {
                // Verify is never taken from an earlier run: the other cluster may have
                // changed since.
                CutoverStep::Verified => false,
                // Nor the quiet gate once a selected group consumes there again.
                CutoverStep::Quiet if self.record.holds(step, &at) => client
                    .group_members(|g| self.migration.consumer_groups.selects(g))
                    .await?
                    .is_empty(),
                _ => true,
            };
            if !self.dry_run && trusted && self.already(step, &at) {
                continue;
            }
            if step > CutoverStep::Quiet {
                if let Some(stopped) = self.moved_since_quiet(&at) {
                    return Ok(self.stopped(step, stopped));
                }
            }
            if step != CutoverStep::Preflight {
                self.observer.starting(self.direction, step);
            }
            let verdict = match step {
                CutoverStep::Preflight => gates.preflight(&on).await?.map(|p| (at, p)),
                CutoverStep::Quiet => self.quiet(client, partitions, deadline).await?,
                CutoverStep::Drained if self.dry_run => Ok((at, gates.drain_preview(&on).await?)),
                CutoverStep::Drained => {
                    let passed = gates.drain(&on).await?;
                    // Written while it drained: the quiet gate no longer holds.
                    let after = quiet::source_ends(client, partitions).await?;
                    match self.moved_since_quiet(&after) {
                        Some(stopped) => Err(stopped),
                        None => Ok((after, passed)),
                    }
                }
                CutoverStep::Verified => gates.verify(&on).await?.map(|p| (at, p)),
            };
            match verdict {
                Ok((at, passed)) => self.passed(step, &at, passed).await?,
                Err(stopped) => return Ok(self.stopped(step, stopped)),
            }
        }
        if self.dry_run {
            // What clients would switch to; no point taken.
            let mut outcome = self.outcome;
            outcome.switch = Some(switch(self.migration, self.direction.switched_to()).await?);
            return Ok(outcome);
        }
        // The point is taken at the ends everything was drained and verified at: a write
        // since then is refused, not taken in unreplicated.
        let now = quiet::source_ends(client, partitions).await?;
        if let Some(stopped) = self.moved_since_quiet(&now) {
            return Ok(self.stopped(CutoverStep::Verified, stopped));
        }
        let point = super::point(snapshot, partitions).await?;
        let moved = point.partitions.iter().find(|p| {
            let end = match self.direction.switched_from() {
                Role::Source => p.source_end,
                Role::Target => p.target_end,
            };
            now.iter()
                .any(|e| e.topic == p.topic && e.partition == p.partition && e.end != end)
        });
        if let Some(p) = moved {
            let why = format!(
                "{} partition {} was written while the point was taken: run {} again",
                p.topic,
                p.partition,
                self.direction.command()
            );
            return Ok(self.stopped(CutoverStep::Verified, Stopped::because(why, Vec::new())));
        }
        gates.at_point(&on, &point).await?;
        self.record.point = Some(point.clone());
        save(&self.store, self.direction, &self.record).await?;
        self.complete(point).await
    }

    /// Whether the cluster switched from moved since it went quiet (`now`: its ends now): the
    /// partitions that moved, and that the gates must run again from the quiet one.
    fn moved_since_quiet(&self, now: &[PartitionEnd]) -> Option<Stopped> {
        let lines = moved(&self.record.source_ends, now);
        if lines.is_empty() {
            return None;
        }
        let why = format!(
            "the {} was written after it went quiet: run {} again (it waits for quiet again)",
            self.direction.switched_from().name(),
            self.direction.command()
        );
        Some(Stopped::because(why, lines))
    }

    /// The quiet gate on the cluster switched from (`client`), waited for until `deadline`:
    /// the ends it stood still at, or what was still active.
    async fn quiet(
        &mut self,
        client: &ClusterClient,
        partitions: &[(String, i32)],
        deadline: Instant,
    ) -> Result<Result<(Vec<PartitionEnd>, Passed), Stopped>, CutoverError> {
        let role = self.direction.switched_from();
        let observer = &mut *self.observer;
        let waited = quiet::wait(
            self.migration,
            role,
            client,
            partitions,
            deadline,
            &mut |a| observer.waiting(a),
        )
        .await?;
        Ok(match waited {
            Ok(stood) => {
                let detail = format!(
                    "no end offset of {} partition(s) moved for {} and no selected group consumes on the {}",
                    stood.len(),
                    self.migration.cutover.quiet_period,
                    role.name()
                );
                Ok((stood, Passed::with(detail, Vec::new())))
            }
            Err(activity) => {
                let detail = format!("the {} is still in use", role.name());
                let lines = activity_lines(&activity);
                Err(Stopped {
                    activity: Some(activity),
                    ..Stopped::because(detail, lines)
                })
            }
        })
    }

    fn tell(
        &mut self,
        step: CutoverStep,
        result: StepResult,
        detail: String,
        evidence: Vec<String>,
    ) {
        let report = StepReport {
            step,
            label: self.direction.label(step),
            result,
            detail,
            evidence,
        };
        self.observer.step(&report);
        self.outcome.steps.push(report);
    }

    /// Whether `step` was done by an earlier run and the cluster switched from stands where it
    /// did then (`ends`): then it is told as done earlier.
    fn already(&mut self, step: CutoverStep, ends: &[PartitionEnd]) -> bool {
        let held = self.record.holds(step, ends);
        if held {
            let detail = "done by an earlier run; the source has not moved since".into();
            self.tell(step, StepResult::DoneEarlier, detail, Vec::new());
        }
        held
    }

    /// `step` passed at `ends`: recorded, then told.
    async fn passed(
        &mut self,
        step: CutoverStep,
        ends: &[PartitionEnd],
        passed: Passed,
    ) -> Result<(), CutoverError> {
        // A dry run keeps the record in memory only: the later gates are judged against it.
        self.record = self.record.with_step(step, ends);
        if !self.dry_run {
            save(&self.store, self.direction, &self.record).await?;
        }
        self.tell(step, StepResult::Done, passed.detail, passed.evidence);
        Ok(())
    }

    /// `step`'s gate did not pass: told, and the outcome so far.
    pub fn stopped(mut self, step: CutoverStep, stopped: Stopped) -> Outcome {
        self.tell(
            step,
            StepResult::NotPassed,
            stopped.detail,
            stopped.evidence,
        );
        let mut outcome = self.outcome;
        outcome.report = stopped.report;
        outcome.activity = stopped.activity;
        outcome
    }

    /// The switch is complete at `point`: the outcome with what to switch to.
    async fn complete(self, point: CutoverPoint) -> Result<Outcome, CutoverError> {
        let mut outcome = self.outcome;
        outcome.switch = Some(switch(self.migration, self.direction.switched_to()).await?);
        outcome.point = Some(point);
        outcome.complete = true;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutover::Activity;
    use crate::state::PointPartition;

    /// Keeps what it was told.
    #[derive(Default)]
    struct Told {
        steps: Vec<StepReport>,
    }

    impl Observer for Told {
        fn step(&mut self, report: &StepReport) {
            self.steps.push(report.clone());
        }
        fn waiting(&mut self, _: &Activity) {}
        fn starting(&mut self, _: Direction, _: CutoverStep) {}
    }

    fn ends(end: i64) -> Vec<PartitionEnd> {
        vec![PartitionEnd {
            topic: "orders".into(),
            partition: 0,
            end,
        }]
    }

    fn point(at_ms: i64) -> CutoverPoint {
        CutoverPoint {
            at_ms,
            partitions: vec![PointPartition {
                topic: "orders".into(),
                partition: 0,
                source_end: 10,
                target_end: 12,
                at_ms,
            }],
        }
    }

    /// Preflight, quiet and drain done at the ends `10`.
    fn drained() -> CutoverRecord {
        CutoverRecord {
            migration: "m".into(),
            ..CutoverRecord::default()
        }
        .with_step(CutoverStep::Preflight, &[])
        .with_step(CutoverStep::Quiet, &ends(10))
        .with_step(CutoverStep::Drained, &ends(10))
    }

    #[test]
    fn gates_done_earlier_hold_while_the_cluster_stands_where_they_were_done() {
        let migration = crate::testing::migration("");
        let mut told = Told::default();
        let mut runner = Runner::new(&migration, Direction::Cutover, drained(), &mut told);
        assert!(runner.already(CutoverStep::Preflight, &[]));
        assert!(runner.already(CutoverStep::Quiet, &ends(10)));
        assert!(runner.already(CutoverStep::Drained, &ends(10)));
        assert!(!runner.already(CutoverStep::Verified, &ends(10)));
        // The source moved since: the gate runs again (preflight does not depend on it).
        assert!(!runner.already(CutoverStep::Quiet, &ends(11)));
        assert!(runner.already(CutoverStep::Preflight, &[]));
        let outcome = runner.stopped(
            CutoverStep::Verified,
            Stopped::because("NOT READY", vec!["orders partition 0".into()]),
        );
        let results: Vec<(&str, StepResult)> = told
            .steps
            .iter()
            .map(|s| (s.label, s.result.clone()))
            .collect();
        assert_eq!(
            results,
            [
                ("preflight", StepResult::DoneEarlier),
                ("source quiet", StepResult::DoneEarlier),
                ("drain", StepResult::DoneEarlier),
                ("preflight", StepResult::DoneEarlier),
                ("verify", StepResult::NotPassed),
            ]
        );
        assert_eq!(
            told.steps[0].detail,
            "done by an earlier run; the source has not moved since"
        );
        assert_eq!(outcome.steps, told.steps);
        assert_eq!(outcome.steps[4].evidence, ["orders partition 0"]);
        assert!(!outcome.complete && outcome.point.is_none() && outcome.report.is_none());
    }

    #[test]
    fn an_abandoned_cutover_gate_holds_nothing_and_rollback_labels_its_steps() {
        let migration = crate::testing::migration("");
        let mut abandoned = drained();
        abandoned.abandoned_at_ms = Some(1);
        let mut told = Told::default();
        let mut runner = Runner::new(&migration, Direction::Rollback, abandoned, &mut told);
        for step in CutoverStep::ALL {
            assert!(!runner.already(step, &ends(10)), "{step:?}");
        }
        let outcome = runner.stopped(CutoverStep::Quiet, Stopped::because("busy", Vec::new()));
        assert_eq!(outcome.direction, Direction::Rollback);
        assert_eq!(outcome.steps[0].label, "target quiet");
        assert_eq!(outcome.steps[0].result, StepResult::NotPassed);
    }

    #[test]
    fn a_verify_report_that_stops_a_gate_goes_with_the_outcome() {
        let migration = crate::testing::migration("");
        let mut told = Told::default();
        let runner = Runner::new(&migration, Direction::Cutover, drained(), &mut told);
        let report = Report {
            migration: "m".into(),
            ready: false,
            verdict: "NOT READY",
            checks: Vec::new(),
            cut_over_at_ms: None,
        };
        let outcome = runner.stopped(CutoverStep::Preflight, Stopped::by(report));
        assert_eq!(outcome.steps[0].detail, "a check failed (see the report)");
        assert!(outcome.report.is_some() && outcome.activity.is_none());
    }

    #[test]
    fn a_cutover_resumes_its_record_unless_abandoned() {
        let mut progress = Progress::default();
        let fresh = resumed(Direction::Cutover, &progress, "m");
        assert_eq!(fresh.migration, "m");
        assert!(fresh.steps.is_empty());
        progress.cutover = Some(drained());
        assert_eq!(resumed(Direction::Cutover, &progress, "m"), drained());
        progress.cutover.as_mut().unwrap().abandoned_at_ms = Some(5);
        assert!(resumed(Direction::Cutover, &progress, "m").steps.is_empty());
    }

    #[test]
    fn a_rollback_left_half_done_belongs_to_its_cutover_only() {
        let cut_over_at = |at: i64| CutoverRecord {
            point: Some(point(at)),
            ..drained()
        };
        let mut progress = Progress {
            cutover: Some(cut_over_at(7)),
            ..Progress::default()
        };
        // A fresh rollback records the cutover it rolls back.
        let first = resumed(Direction::Rollback, &progress, "m");
        assert_eq!(first.cutover_at_ms, Some(7));
        // Left half-done, then the cutover abandoned and cut over again at 9: the half-done
        // rollback of 7 is not resumed for 9.
        progress.rollback = Some(first.with_step(CutoverStep::Quiet, &ends(10)));
        assert_eq!(
            resumed(Direction::Rollback, &progress, "m").steps,
            [CutoverStep::Quiet]
        );
        progress.cutover = Some(cut_over_at(9));
        let second = resumed(Direction::Rollback, &progress, "m");
        assert!(second.steps.is_empty() && second.point.is_none());
        assert_eq!(second.cutover_at_ms, Some(9));
    }

    #[test]
    fn a_rollback_resumes_while_under_way_and_restarts_after_a_new_cutover() {
        // Under way: resumed.
        let mut progress = Progress {
            rollback: Some(drained()),
            ..Progress::default()
        };
        assert_eq!(resumed(Direction::Rollback, &progress, "m"), drained());
        // Done, and not cut over since: said again.
        let mut done = drained();
        done.point = Some(point(7));
        progress.rollback = Some(done.clone());
        assert_eq!(resumed(Direction::Rollback, &progress, "m"), done);
        // Cut over again since: a new rollback.
        progress.cutover = Some(CutoverRecord {
            point: Some(point(9)),
            ..drained()
        });
        let fresh = resumed(Direction::Rollback, &progress, "m");
        assert!(fresh.steps.is_empty() && fresh.point.is_none());
    }
}
