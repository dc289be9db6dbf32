//! What `apply` shows as it goes: the plan it applies, each action carried out, the engine's
//! first line, its live progress (through [`Display`]), how it ended and the group sync.

use std::io::IsTerminal;
use std::time::Duration;

use crate::apply::{ApplyReport, Live, Note, Outcome, Ran, Start, Synced};
use crate::groups::GroupSynced;
use crate::ops::apply::{Applied, Observer};
use crate::plan::{Action, Plan};
use crate::state::cutover::utc;

use super::{describe, note_line, plan_text, stdout_text, Display, Paint};

/// Draws a running `apply` on standard output; asks `confirm` whether to apply a fresh plan.
pub struct ApplyView {
    paint: Paint,
    /// The live progress of the built-in engine, from its start.
    display: Option<Display>,
    confirm: fn() -> miette::Result<bool>,
}

impl ApplyView {
    pub fn new(confirm: fn() -> miette::Result<bool>) -> ApplyView {
        ApplyView {
            paint: Paint::for_stdout(),
            display: None,
            confirm,
        }
    }

    fn println(&self, line: &str) {
        match &self.display {
            Some(display) => display.println(line),
            None => println!("{}", stdout_text(line)),
        }
    }
}

impl crate::apply::Observer for ApplyView {
    fn interval(&self) -> Duration {
        self.display
            .as_ref()
            .map_or(Duration::from_secs(10), Display::interval)
    }

    fn show(&mut self, live: &Live) {
        if let Some(display) = &mut self.display {
            display.render(live);
        }
    }

    fn note(&mut self, note: Note) {
        self.println(&note_line(&note));
    }

    fn finish(&mut self) {
        if let Some(display) = &self.display {
            display.finish();
        }
    }
}

#[async_trait::async_trait(?Send)]
impl Observer for ApplyView {
    fn abandoning(&mut self, at_ms: i64) {
        println!(
            "The cutover of {} will be abandoned: the source becomes the system of record again, and forward replication goes on from the cutover point.",
            utc(at_ms)
        );
    }

    fn abandoned(&mut self, at_ms: i64) {
        println!(
            "Cutover of {} abandoned: the source is the system of record again.",
            utc(at_ms)
        );
    }

    fn stale(&mut self, reasons: &[String]) {
        stale_reasons(reasons);
    }

    fn planned(&mut self, plan: &Plan) {
        print!("{}", stdout_text(&plan_text(plan, self.paint)));
    }

    /// Asks on a thread of its own, so that a signal is heard while the terminal waits (and
    /// nothing waits for the answer once the command has ended).
    async fn confirm(&mut self, _plan: &Plan) -> miette::Result<bool> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let confirm = self.confirm;
        std::thread::spawn(move || answer.send(confirm()));
        answered
            .await
            .unwrap_or_else(|_| Err(miette::miette!("the answer could not be read")))
    }

    fn applied(&mut self, action: &Action, outcome: &Outcome) {
        println!(
            "{} {}",
            self.paint.create("✓"),
            stdout_text(&describe(action, outcome))
        );
    }

    fn metadata(&mut self, report: &ApplyReport) {
        println!("{}", metadata_line(report));
    }

    fn started(&mut self, start: &Start) {
        println!("{}", stdout_text(&start_line(start)));
        if matches!(start, Start::Replicating { .. }) {
            self.display = Some(Display::new(std::io::stdout().is_terminal()));
        }
    }

    fn ran(&mut self, ran: &Ran) {
        if let Some(line) = ran_line(ran) {
            println!("{}", stdout_text(&line));
        }
    }

    fn synced(&mut self, synced: &Synced) {
        match synced {
            Synced::Forward(groups) => {
                for g in groups {
                    println!("{}", stdout_text(&group_synced_line(g, self.paint)));
                }
            }
            Synced::Back(lines) => {
                for line in lines {
                    println!("  {}", stdout_text(line));
                }
            }
        }
    }
}

/// How the plan's metadata actions went, in a line.
pub(super) fn metadata_line(report: &ApplyReport) -> String {
    if report.done.is_empty() && report.already_done.is_empty() {
        "Metadata: the target already has every topic, config and ACL the plan needs; nothing changed.".to_string()
    } else if report.already_done.is_empty() {
        format!("Metadata: {} change(s) made.", report.done.len())
    } else {
        format!(
            "Metadata: {} change(s) made, {} found already in place.",
            report.done.len(),
            report.already_done.len()
        )
    }
}

/// Why a saved plan is stale, a line each on standard error (an error follows).
pub(super) fn stale_reasons(reasons: &[String]) {
    for reason in reasons {
        eprintln!("  - {}", super::stderr_text(reason));
    }
}

/// The last line of an `apply` that did not run an engine.
pub fn applied_line(applied: &Applied) -> Option<&'static str> {
    match applied {
        Applied::NotConfirmed => Some("Apply cancelled."),
        Applied::Interrupted => {
            Some("Stopped on a signal before replicating; run apply again to go on.")
        }
        Applied::NothingSelected => Some("No topics selected: nothing to replicate."),
        Applied::Ran { .. } => None,
    }
}

/// The first line of an engine's run.
fn start_line(start: &Start) -> String {
    match start {
        Start::Replicating {
            partitions,
            tasks,
            until_synced,
        } => format!(
            "Replicating {partitions} partition(s) with {tasks} task(s){}…",
            if *until_synced {
                " until the target has caught up"
            } else {
                "; press Ctrl-C to stop"
            }
        ),
        Start::FailingBack {
            migration,
            at_ms,
            until_synced,
        } => format!(
            "Migration \"{migration}\" was cut over at {}: failback replicates what producers write to the target back to the source{}…",
            utc(*at_ms),
            if *until_synced {
                " until the source has caught up"
            } else {
                "; press Ctrl-C to stop"
            }
        ),
    }
}

/// How an engine's run ended, in a line (none when MirrorMaker 2 caught up: the group sync
/// says the rest).
fn ran_line(ran: &Ran) -> Option<String> {
    match ran {
        Ran::Replicated(finished) => Some(format!(
            "Replication {}: {} records ({:.1} MiB) in {:.1}s over {} partition(s) and {} task(s).",
            if finished.caught_up {
                "caught up"
            } else {
                "stopped"
            },
            finished.records,
            mib(finished.bytes),
            finished.elapsed.as_secs_f64(),
            finished.summary.partitions,
            finished.summary.tasks
        )),
        Ran::Deployed { until_synced: true } => None,
        Ran::Deployed {
            until_synced: false,
        } => Some(
            "MirrorMaker 2 replicates on the Connect cluster; follow it with `kafka-migrate verify`."
                .to_string(),
        ),
        Ran::FailedBack {
            partitions,
            records,
            bytes,
            ..
        } => Some(format!(
            "Failback: {records} record(s) ({:.1} MiB) replicated back to the source over {partitions} partition(s).",
            mib(*bytes)
        )),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// A group's sync: what was committed on the target, or why it was left alone.
pub fn group_synced_line(g: &GroupSynced, paint: Paint) -> String {
    match &g.cut_over {
        Some(why) => format!(
            "- group \"{}\": cut over ({why}); not synced",
            crate::quote::terminal(&g.group)
        ),
        None => format!(
            "{} group \"{}\": {} offset(s) committed on the target{}",
            paint.create("✓"),
            crate::quote::terminal(&g.group),
            g.committed,
            if g.pending > 0 {
                format!(", {} pending replication", g.pending)
            } else {
                String::new()
            }
        ),
    }
}
