//! What a running `apply` shows of its [`Live`] state: per topic the records and bytes
//! replicated, the lag and the rate — indicatif bars on a terminal, periodic log lines
//! otherwise — and its notes, printed without disturbing the bars.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::apply::{Live, Note, Observer, Outcome, Totals};
use crate::plan::Action;

/// How often log lines are written when standard output is not a terminal.
const LINE_INTERVAL: Duration = Duration::from_secs(10);
/// Topics shown as bars; the rest are summed in the total bar.
const MAX_BARS: usize = 30;

/// Records per second of each topic between two renderings.
#[derive(Default)]
struct Rates {
    last: BTreeMap<String, (u64, Instant)>,
}

impl Rates {
    fn rate(&mut self, topic: &str, records: u64, now: Instant) -> f64 {
        let rate = match self.last.get(topic) {
            Some((before, at)) if now > *at => {
                records.saturating_sub(*before) as f64 / (now - *at).as_secs_f64()
            }
            _ => 0.0,
        };
        self.last.insert(topic.to_string(), (records, now));
        rate
    }
}

impl Observer for Display {
    fn interval(&self) -> Duration {
        Display::interval(self)
    }

    fn show(&mut self, live: &Live) {
        self.render(live);
    }

    fn note(&mut self, note: Note) {
        self.println(&note_line(&note));
    }

    fn finish(&mut self) {
        Display::finish(self);
    }
}

/// The line a note of a running apply is shown as.
pub fn note_line(note: &Note) -> String {
    match note {
        Note::Applied { action, outcome } => format!("✓ {}", describe(action, outcome)),
        Note::Replicating { now, was } => {
            format!("  now replicating {now} partition(s) (was {was})")
        }
        Note::Blocked { blockers } => format!(
            "  ! new topics or partitions on the source, but the plan has {blockers} blocker(s): run `kafka-migrate plan`"
        ),
        Note::Retrying {
            error,
            attempt,
            wait,
        } => format!(
            "  ! {error}; starting again from committed progress in {}s (attempt {attempt})",
            wait.as_secs()
        ),
        Note::Stopping { failure } => format!("  ! {failure}: stopping"),
        Note::TakingOver { from } => format!(
            "  taking the migration over from the run that held it ({from}): a run still going stops"
        ),
        Note::ServingMetrics { addr } => format!("Serving metrics at http://{addr}/metrics"),
        Note::Connect { step, url } => super::connect_step(step, url, super::Paint::for_stdout()),
    }
}

/// One line for an action of the plan and what became of it.
pub fn describe(action: &Action, outcome: &Outcome) -> String {
    let outcome = match outcome {
        Outcome::Done => "done",
        Outcome::AlreadyDone => "already there",
    };
    match action {
        Action::CreateTopic {
            topic, partitions, ..
        } => format!("create topic \"{topic}\" ({partitions} partitions): {outcome}"),
        Action::CreatePartitions { topic, after, .. } => {
            format!("grow topic \"{topic}\" to {after} partitions: {outcome}")
        }
        Action::UpdateTopicConfig { topic, changes } => format!(
            "update {} config(s) of topic \"{topic}\": {outcome}",
            changes.len()
        ),
        Action::CreateAcl { binding, .. } => format!("create acl {binding}: {outcome}"),
        Action::SetClientQuotas { entity, changes } => format!(
            "set {} client quota(s) of {entity}: {outcome}",
            changes.len()
        ),
    }
}

/// Where progress goes: bars on a terminal, log lines otherwise.
pub struct Display {
    bars: Option<Bars>,
    rates: Rates,
}

struct Bars {
    multi: MultiProgress,
    topics: BTreeMap<String, ProgressBar>,
    total: ProgressBar,
}

impl Display {
    pub fn new(terminal: bool) -> Display {
        let bars = terminal.then(|| {
            let multi = MultiProgress::new();
            let total = multi.add(ProgressBar::new(0).with_style(style()));
            total.set_prefix("all topics");
            Bars {
                multi,
                topics: BTreeMap::new(),
                total,
            }
        });
        Display {
            bars,
            rates: Rates::default(),
        }
    }

    /// How often [`Display::render`] is worth calling.
    pub fn interval(&self) -> Duration {
        if self.bars.is_some() {
            Duration::from_millis(500)
        } else {
            LINE_INTERVAL
        }
    }

    /// Shows the current state.
    pub fn render(&mut self, live: &Live) {
        let now = Instant::now();
        let all = live.totals();
        let rate = self.rates.rate("", all.records, now);
        let Some(bars) = &mut self.bars else {
            tracing::info!(
                records = all.records,
                bytes = all.bytes,
                lag = all.lag,
                records_per_second = rate as u64,
                "Replicating."
            );
            println!("  {}", summary(&all, rate));
            return;
        };
        for (topic, t) in live.topics().into_iter().take(MAX_BARS) {
            let bar = bars.topics.entry(topic.to_string()).or_insert_with(|| {
                let bar = bars.multi.add(ProgressBar::new(0).with_style(style()));
                bar.set_prefix(topic.to_string());
                bar
            });
            show(bar, &t, self.rates.rate(topic, t.records, now));
        }
        show(&bars.total, &all, rate);
    }

    /// Prints a line without disturbing the bars.
    pub fn println(&self, line: &str) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.multi.println(super::stdout_text(line));
            }
            None => println!("{}", super::stdout_text(line)),
        }
    }

    /// Leaves the bars as they are and stops drawing them.
    pub fn finish(&self) {
        if let Some(bars) = &self.bars {
            for bar in bars.topics.values() {
                bar.abandon();
            }
            bars.total.abandon();
        }
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:30.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn show(bar: &ProgressBar, t: &Totals, rate: f64) {
    bar.set_length(t.records + t.lag.unwrap_or(0).max(0) as u64);
    bar.set_position(t.records);
    bar.set_message(format!(
        "{:.1} MiB, lag {}, {:.0} records/s",
        t.bytes as f64 / 1_048_576.0,
        t.lag.map_or("…".to_string(), |l| l.to_string()),
        rate
    ));
}

/// One line about `t`: records, MiB, lag, rate.
pub fn summary(t: &Totals, rate: f64) -> String {
    format!(
        "{} records ({:.1} MiB) replicated, lag {}, {:.0} records/s",
        t.records,
        t.bytes as f64 / 1_048_576.0,
        t.lag.map_or("unknown".to_string(), |l| l.to_string()),
        rate
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::Totals;

    #[test]
    fn the_summary_line_names_records_size_lag_and_rate() {
        let t = Totals {
            partitions: 3,
            records: 2048,
            bytes: 3 * 1_048_576,
            lag: Some(7),
        };
        assert_eq!(
            summary(&t, 512.4),
            "2048 records (3.0 MiB) replicated, lag 7, 512 records/s"
        );
    }
}
