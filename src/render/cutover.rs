//! `cutover`'s output: a line per step as it ends, what keeps the source busy while the quiet
//! gate waits, then the cutover point and what to switch (or why it stopped) — as text, or the
//! same outcome as JSON.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::cutover::{
    activity_lines, Activity, Direction, Observer, Outcome, StepReport, StepResult,
};
use crate::state::cutover::utc;
use crate::state::CutoverStep;

use super::Paint;

/// How often an unchanged activity is shown again while the quiet gate waits.
const REPEAT: Duration = Duration::from_secs(15);

/// Draws a running cutover: to standard output, or to standard error when standard output
/// carries JSON.
pub struct CutoverDisplay {
    paint: Paint,
    to_stderr: bool,
    shown: Option<(Vec<String>, Instant)>,
}

impl CutoverDisplay {
    pub fn new(paint: Paint, to_stderr: bool) -> CutoverDisplay {
        CutoverDisplay {
            paint,
            to_stderr,
            shown: None,
        }
    }

    fn line(&self, text: &str) {
        if self.to_stderr {
            eprintln!("{}", super::stderr_text(text));
        } else {
            println!("{}", super::stdout_text(text));
        }
    }
}

fn number(step: CutoverStep) -> usize {
    CutoverStep::ALL
        .iter()
        .position(|s| *s == step)
        .unwrap_or(0)
        + 1
}

/// One step's line: `[2/5] source quiet: done — …`.
pub fn step_line(report: &StepReport, paint: Paint) -> String {
    let result = match report.result {
        StepResult::Done => paint.create("done"),
        StepResult::DoneEarlier => paint.dim("done earlier"),
        StepResult::NotPassed => paint.blocker("NOT PASSED"),
    };
    let mut out = format!(
        "[{}/5] {}: {result} — {}",
        number(report.step),
        report.label,
        report.detail
    );
    for e in &report.evidence {
        let _ = write!(out, "\n      • {e}");
    }
    out
}

impl Observer for CutoverDisplay {
    fn step(&mut self, report: &StepReport) {
        self.line(&step_line(report, self.paint));
    }

    fn starting(&mut self, direction: Direction, step: CutoverStep) {
        let (from, to) = match direction {
            Direction::Cutover => ("source", "target"),
            Direction::Rollback => ("target", "source"),
        };
        let what = match step {
            CutoverStep::Quiet => {
                format!("waiting until nothing writes to or consumes from the {from}…")
            }
            CutoverStep::Drained => {
                format!("replicating to the {from}'s end, then syncing group offsets on the {to}…")
            }
            CutoverStep::Verified => "verifying…".to_string(),
            CutoverStep::Preflight => "checking…".to_string(),
        };
        let (n, label) = (number(step), direction.label(step));
        self.line(&format!("[{n}/5] {label}: {what}"));
    }

    fn waiting(&mut self, activity: &Activity) {
        let who = activity.who();
        let again = match &self.shown {
            Some((shown, at)) => *shown != who || at.elapsed() >= REPEAT,
            None => true,
        };
        if again {
            self.line(&waiting_line(activity));
            for l in activity_lines(activity) {
                self.line(&format!("      • {l}"));
            }
            self.shown = Some((who, Instant::now()));
        }
    }
}

/// Why the watched cluster is not quiet yet: written within the quiet period (the writes
/// listed below it may be from before the time without a write it counts), or read.
pub(super) fn waiting_line(activity: &Activity) -> String {
    let seconds = |ms: u64| format!("{:.0}s", ms as f64 / 1000.0);
    let cluster = activity.cluster;
    if activity.writing.is_empty() {
        format!("      the {cluster} is not quiet yet: consumer groups still have members there:")
    } else {
        format!(
            "      the {cluster} is not quiet yet: {} without a write of the {} required; written within the last {}:",
            seconds(activity.quiet_for_ms),
            seconds(activity.quiet_period_ms),
            seconds(activity.quiet_period_ms),
        )
    }
}

/// The end of a cutover as text: the point and what to switch, or why it stopped.
pub fn cutover_text(outcome: &Outcome, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(report) = &outcome.report {
        out.push_str(&super::verify_text(report, paint));
    }
    if outcome.dry_run {
        return dry_run_text(outcome, paint, out);
    }
    let (Some(point), Some(switch)) = (&outcome.point, &outcome.switch) else {
        let _ = writeln!(
            out,
            "{}",
            paint.blocker(&format!(
                "NOT {}: migration \"{}\" stopped at a gate; run {} again once it can pass (done steps are kept)",
                done_word(outcome.direction),
                outcome.migration,
                command(outcome.direction)
            ))
        );
        return out;
    };
    let _ = writeln!(
        out,
        "[5/5] {} point: {} — {} partition(s) recorded",
        command(outcome.direction),
        utc(point.at_ms),
        point.partitions.len()
    );
    for p in &point.partitions {
        let _ = writeln!(
            out,
            "      {} partition {}: source end {}, target end {}",
            p.topic, p.partition, p.source_end, p.target_end
        );
    }
    let _ = writeln!(
        out,
        "{}",
        paint.create(&format!(
            "{}: migration \"{}\"; the {} is now the system of record.",
            done_word(outcome.direction),
            outcome.migration,
            match outcome.direction {
                Direction::Cutover => "target",
                Direction::Rollback => "source",
            }
        ))
    );
    let _ = writeln!(
        out,
        "Switch producers and consumers to bootstrap.servers={}",
        switch.bootstrap_servers.join(",")
    );
    for (group, topics) in &switch.groups {
        let offsets: Vec<String> = topics
            .iter()
            .flat_map(|(topic, parts)| parts.iter().map(move |(p, o)| format!("{topic}/{p}={o}")))
            .collect();
        let _ = writeln!(
            out,
            "  group \"{}\" resumes on the {} at {}",
            crate::quote::terminal(group),
            match outcome.direction {
                Direction::Cutover => "target",
                Direction::Rollback => "source",
            },
            offsets.join(" ")
        );
    }
    out
}

/// The end of `cutover --dry-run`: whether every gate passed, that nothing was recorded, and
/// what clients would switch to.
fn dry_run_text(outcome: &Outcome, paint: Paint, mut out: String) -> String {
    if !outcome.passed() {
        let _ = writeln!(
            out,
            "{}",
            paint.blocker(&format!(
                "DRY RUN: migration \"{}\" would stop at a gate; nothing was recorded.",
                outcome.migration
            ))
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        paint.create(&format!(
            "DRY RUN: every gate of migration \"{}\" passed; nothing was recorded. `kafka-migrate cutover` would drain, verify again and record the cutover point.",
            outcome.migration
        ))
    );
    if let Some(switch) = &outcome.switch {
        let _ = writeln!(
            out,
            "Producers and consumers would switch to bootstrap.servers={}",
            switch.bootstrap_servers.join(",")
        );
    }
    out
}

fn done_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Cutover => "CUT OVER",
        Direction::Rollback => "ROLLED BACK",
    }
}

fn command(direction: Direction) -> &'static str {
    match direction {
        Direction::Cutover => "cutover",
        Direction::Rollback => "rollback",
    }
}

/// The outcome as pretty JSON, with `format_version` (a verify report in it has every
/// evidence line worded).
pub fn cutover_json(outcome: &Outcome) -> String {
    let mut outcome = outcome.clone();
    outcome.report = outcome.report.as_ref().map(super::verify::worded);
    super::json::versioned(super::json::CUTOVER_FORMAT_VERSION, &outcome)
}
