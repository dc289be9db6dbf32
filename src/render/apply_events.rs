//! `apply --json`: what a running `apply` tells, as one JSON object per line on standard
//! output, for schedulers and scripts — the same observer calls the text view draws. Each
//! line has `format_version` and `event`; `schemas/apply-events.schema.json` describes them.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::apply::{ApplyReport, Live, Note, Outcome, Ran, Start, Synced};
use crate::ops::apply::{Applied, Observer};
use crate::plan::{Action, Plan};

use super::{describe, note_line};

/// The version of the event format; a new major version breaks readers.
pub const FORMAT_VERSION: &str = "1.0";

/// How often a `progress` event is written while the built-in engine runs.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// One line of `apply --json`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ApplyEvent {
    /// The event format's version.
    pub format_version: String,
    /// Milliseconds since the Unix epoch when the event was written.
    pub at_ms: i64,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A recorded cutover was abandoned (`--abandon-cutover`).
    CutoverAbandoned { cutover_at_ms: i64 },
    /// The fresh plan that apply carries out.
    Planned {
        actions: usize,
        blockers: usize,
        warnings: usize,
    },
    /// An action of the plan was carried out on the target.
    Applied {
        /// The action's type, as in the plan's JSON (`create_topic`, …).
        #[serde(rename = "type")]
        action: String,
        /// The action in words.
        description: String,
        /// Done now, or found already done.
        already_done: bool,
    },
    /// Every action of the plan was carried out.
    Metadata { done: usize, already_done: usize },
    /// The engine started.
    Started {
        /// `replicate` (the built-in engine), `connect` (MirrorMaker 2) or `failback`.
        engine: String,
        until_synced: bool,
        /// Partitions replicated (known for the built-in engine).
        #[serde(skip_serializing_if = "Option::is_none")]
        partitions: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tasks: Option<usize>,
    },
    /// The built-in engine's totals so far.
    Progress {
        partitions: usize,
        records: u64,
        bytes: u64,
        /// Records the target is behind the source; absent while unknown.
        #[serde(skip_serializing_if = "Option::is_none")]
        lag: Option<i64>,
    },
    /// Something the running apply did or met, in words.
    Note { message: String },
    /// The engine stopped.
    Stopped {
        /// Stopped because the target caught up (`--until-synced`), not on a signal.
        caught_up: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        records: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        elapsed_seconds: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        partitions: Option<usize>,
    },
    /// A consumer group's offsets after the run: committed on the target (or, after a
    /// failback, on the source), or left alone because the group cut over.
    GroupSync {
        group: Option<String>,
        committed: Option<usize>,
        pending: Option<usize>,
        cut_over: Option<String>,
        /// The sync in words.
        message: String,
    },
    /// Apply ended without running an engine: `not_confirmed`, `nothing_selected` or
    /// `interrupted` (a signal came while the plan's actions were carried out).
    Ended { reason: String },
}

/// Writes each event of a running `apply` as a JSON line.
#[derive(Default)]
pub struct ApplyEvents;

impl ApplyEvents {
    pub fn new() -> ApplyEvents {
        ApplyEvents
    }

    fn emit(&self, event: Event) {
        println!("{}", event_line(event));
    }

    /// The last line of an `apply` that did not run an engine.
    pub fn ended(&self, applied: &Applied) {
        let reason = match applied {
            Applied::NotConfirmed => "not_confirmed",
            Applied::NothingSelected => "nothing_selected",
            Applied::Interrupted => "interrupted",
            Applied::Ran { .. } => return,
        };
        self.emit(Event::Ended {
            reason: reason.into(),
        });
    }
}

/// `event` as one line of JSON.
pub fn event_line(event: Event) -> String {
    let event = ApplyEvent {
        format_version: FORMAT_VERSION.into(),
        at_ms: crate::state::cutover::now_ms(),
        event,
    };
    crate::quote::json_line(&event).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The JSON Schema of `apply --json`'s lines, pretty-printed.
pub fn apply_events_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(ApplyEvent)).unwrap_or_default() + "\n"
}

impl crate::apply::Observer for ApplyEvents {
    fn interval(&self) -> Duration {
        PROGRESS_INTERVAL
    }

    /// Called every [`PROGRESS_INTERVAL`] while the built-in engine runs.
    fn show(&mut self, live: &Live) {
        let totals = live.totals();
        self.emit(Event::Progress {
            partitions: totals.partitions,
            records: totals.records,
            bytes: totals.bytes,
            lag: totals.lag,
        });
    }

    fn note(&mut self, note: Note) {
        let event = match &note {
            Note::Applied { action, outcome } => applied(action, outcome),
            _ => Event::Note {
                message: note_line(&note).trim().to_string(),
            },
        };
        self.emit(event);
    }

    fn finish(&mut self) {}
}

fn applied(action: &Action, outcome: &Outcome) -> Event {
    Event::Applied {
        action: serde_json::to_value(action)
            .ok()
            .and_then(|v| v.get("type").and_then(|a| a.as_str()).map(String::from))
            .unwrap_or_default(),
        description: describe(action, outcome),
        already_done: *outcome == Outcome::AlreadyDone,
    }
}

#[async_trait::async_trait(?Send)]
impl Observer for ApplyEvents {
    fn abandoned(&mut self, at_ms: i64) {
        self.emit(Event::CutoverAbandoned {
            cutover_at_ms: at_ms,
        });
    }

    fn stale(&mut self, reasons: &[String]) {
        super::apply::stale_reasons(reasons);
    }

    fn planned(&mut self, plan: &Plan) {
        self.emit(Event::Planned {
            actions: plan.actions.len(),
            blockers: plan.blockers.len(),
            warnings: plan.warnings.len(),
        });
    }

    async fn confirm(&mut self, _plan: &Plan) -> miette::Result<bool> {
        Err(miette::miette!(
            help = "pass --auto-approve, or apply a saved plan file",
            "apply --json does not ask for confirmation"
        ))
    }

    fn applied(&mut self, action: &Action, outcome: &Outcome) {
        self.emit(applied(action, outcome));
    }

    fn metadata(&mut self, report: &ApplyReport) {
        self.emit(Event::Metadata {
            done: report.done.len(),
            already_done: report.already_done.len(),
        });
    }

    fn started(&mut self, start: &Start) {
        self.emit(match start {
            Start::Replicating {
                partitions,
                tasks,
                until_synced,
            } => Event::Started {
                engine: "replicate".into(),
                until_synced: *until_synced,
                partitions: Some(*partitions),
                tasks: Some(*tasks),
            },
            Start::FailingBack { until_synced, .. } => Event::Started {
                engine: "failback".into(),
                until_synced: *until_synced,
                partitions: None,
                tasks: None,
            },
        });
    }

    fn ran(&mut self, ran: &Ran) {
        self.emit(match ran {
            Ran::Replicated(f) => Event::Stopped {
                caught_up: f.caught_up,
                records: Some(f.records),
                bytes: Some(f.bytes),
                elapsed_seconds: Some(f.elapsed.as_secs_f64()),
                partitions: Some(f.summary.partitions),
            },
            Ran::Deployed { until_synced } => Event::Stopped {
                caught_up: *until_synced,
                records: None,
                bytes: None,
                elapsed_seconds: None,
                partitions: None,
            },
            Ran::FailedBack {
                partitions,
                records,
                bytes,
                caught_up,
            } => Event::Stopped {
                caught_up: *caught_up,
                records: Some(*records),
                bytes: Some(*bytes),
                elapsed_seconds: None,
                partitions: Some(*partitions),
            },
        });
    }

    fn synced(&mut self, synced: &Synced) {
        match synced {
            Synced::Forward(groups) => {
                for g in groups {
                    self.emit(Event::GroupSync {
                        group: Some(g.group.clone()),
                        committed: Some(g.committed),
                        pending: Some(g.pending),
                        cut_over: g.cut_over.clone(),
                        message: super::group_synced_line(g, super::Paint::plain()),
                    });
                }
            }
            Synced::Back(lines) => {
                for line in lines {
                    self.emit(Event::GroupSync {
                        group: None,
                        committed: None,
                        pending: None,
                        cut_over: None,
                        message: line.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_line_with_its_version_and_kind() {
        let line = event_line(Event::Metadata {
            done: 2,
            already_done: 1,
        });
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["format_version"], FORMAT_VERSION);
        assert_eq!(value["event"], "metadata");
        assert_eq!(value["done"], 2);
        assert_eq!(value["already_done"], 1);
        assert!(value["at_ms"].as_i64().is_some_and(|ms| ms > 0));
    }

    #[test]
    fn an_action_carried_out_names_its_type_and_says_it_in_words() {
        let action = Action::CreateTopic {
            topic: "orders".into(),
            partitions: 3,
            replication_factor: 1,
            configs: Default::default(),
        };
        let Event::Applied {
            action: kind,
            description,
            already_done,
        } = applied(&action, &Outcome::AlreadyDone)
        else {
            panic!("not an applied event");
        };
        assert_eq!(kind, "create_topic");
        assert_eq!(
            description,
            "create topic \"orders\" (3 partitions): already there"
        );
        assert!(already_done);
    }
}
