//! `cutover`'s output: a line per step as it ends, what keeps the source busy while the quiet
//! gate waits, then the cutover point and what to switch (or why it stopped) — as text, or the
//! same outcome as JSON.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::cutover::{activity_lines, Activity, Observer, Outcome, StepReport, StepResult};
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
            eprintln!("{text}");
        } else {
            println!("{text}");
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
        report.step.label(),
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

    fn starting(&mut self, step: CutoverStep) {
        let what = match step {
            CutoverStep::Quiet => "waiting until nothing writes to or consumes from the source…",
            CutoverStep::Drained => "replicating to the source's end, then syncing group offsets…",
            CutoverStep::Verified => {
                "verifying (the source must stay quiet for cutover.quiet_period)…"
            }
            CutoverStep::Preflight => "checking…",
        };
        self.line(&format!("[{}/5] {}: {what}", number(step), step.label()));
    }

    fn waiting(&mut self, activity: &Activity) {
        let who = activity.who();
        let again = match &self.shown {
            Some((shown, at)) => *shown != who || at.elapsed() >= REPEAT,
            None => true,
        };
        if again {
            self.line(&format!(
                "      the source is still in use (quiet for {:.0}s):",
                activity.quiet_for_ms as f64 / 1000.0
            ));
            for l in activity_lines(activity) {
                self.line(&format!("      • {l}"));
            }
            self.shown = Some((who, Instant::now()));
        }
    }
}

/// The end of a cutover as text: the point and what to switch, or why it stopped.
pub fn cutover_text(outcome: &Outcome, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(report) = &outcome.report {
        out.push_str(&super::verify_text(report, paint));
    }
    let (Some(point), Some(switch)) = (&outcome.point, &outcome.switch) else {
        let _ = writeln!(
            out,
            "{}",
            paint.blocker(&format!(
                "NOT CUT OVER: migration \"{}\" stopped at a gate; run cutover again once it can pass (done steps are kept)",
                outcome.migration
            ))
        );
        return out;
    };
    let _ = writeln!(
        out,
        "[5/5] cutover point: {} — {} partition(s) recorded",
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
            "CUT OVER: migration \"{}\"; the target is now the system of record.",
            outcome.migration
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
            "  group \"{group}\" resumes on the target at {}",
            offsets.join(" ")
        );
    }
    out
}

/// The outcome as pretty JSON.
pub fn cutover_json(outcome: &Outcome) -> String {
    serde_json::to_string_pretty(outcome).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
