//! Whether the source stood still: no partition's end offset (high watermark) moved during
//! `cutover.quiet_period` — producers are stopped. Observations carry over between runs of
//! `verify --watch`, so the period is counted from the last movement seen.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cluster::inventory::Inventory;

use super::{Check, CheckStatus, Fact, Finding, Level};

pub const NAME: &str = "source quiet";

/// End offsets by topic and partition.
pub type Ends = BTreeMap<(String, i32), i64>;

/// A partition whose end offset moved between two observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub topic: String,
    pub partition: i32,
    pub before: i64,
    pub after: i64,
}

/// The source's end offsets over time.
#[derive(Debug, Default)]
pub struct QuietWatch {
    ends: Ends,
    /// When the end offsets were first seen as they are now.
    since: Option<Instant>,
    /// Movements found by the latest observation.
    moved: Vec<Moved>,
    /// Length of the latest movement's observation window.
    window: Duration,
    last: Option<Instant>,
}

impl QuietWatch {
    pub fn new() -> QuietWatch {
        QuietWatch::default()
    }

    /// Records the end offsets seen at `now`.
    pub fn observe(&mut self, ends: &Ends, now: Instant) {
        self.moved = ends
            .iter()
            .filter_map(|((topic, partition), after)| {
                let before = *self.ends.get(&(topic.clone(), *partition))?;
                (before != *after).then(|| Moved {
                    topic: topic.clone(),
                    partition: *partition,
                    before,
                    after: *after,
                })
            })
            .collect();
        let appeared = self.since.is_some() && ends.keys().any(|k| !self.ends.contains_key(k));
        if self.since.is_none() || !self.moved.is_empty() || appeared {
            self.since = Some(now);
        }
        self.window = self
            .last
            .map_or(Duration::ZERO, |l| now.saturating_duration_since(l));
        self.last = Some(now);
        self.ends = ends.clone();
    }

    /// Whether the latest observation saw an end offset move.
    pub fn moved(&self) -> bool {
        !self.moved.is_empty()
    }

    /// How much longer the source must stay still to have been quiet for `period`.
    pub fn remaining(&self, period: Duration, now: Instant) -> Duration {
        match self.since {
            Some(since) => period.saturating_sub(now.saturating_duration_since(since)),
            None => period,
        }
    }

    /// The check: FAIL naming the partitions that moved (or how long the source has been
    /// quiet so far), PASS once it stood still for `period`.
    pub fn check(&self, period: Duration, now: Instant) -> Check {
        let partitions = self.ends.len();
        if self.moved() {
            let records: i64 = self.moved.iter().map(|m| (m.after - m.before).max(0)).sum();
            return Check {
                name: NAME,
                status: CheckStatus::Fail,
                summary: format!(
                    "the source is still being written: {records} record offset(s) appended in {:.1}s",
                    self.window.as_secs_f64()
                ),
                evidence: Vec::new(),
                findings: self
                    .moved
                    .iter()
                    .map(|m| Finding {
                        level: Level::Failure,
                        fact: Fact::EndMoved {
                            topic: m.topic.clone(),
                            partition: m.partition,
                            before: m.before,
                            after: m.after,
                        },
                    })
                    .collect(),
            };
        }
        let quiet_for = self
            .since
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        if quiet_for < period {
            return Check::of(
                NAME,
                CheckStatus::Fail,
                format!(
                    "the source has been quiet for {} of the required {}",
                    seconds(quiet_for),
                    seconds(period)
                ),
                Vec::new(),
            );
        }
        Check::of(
            NAME,
            CheckStatus::Pass,
            format!(
                "no end offset of {partitions} partition(s) moved for {} (cutover.quiet_period {})",
                seconds(quiet_for),
                seconds(period)
            ),
            Vec::new(),
        )
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.0}s", d.as_secs_f64())
}

/// The high watermarks an inventory saw.
pub fn ends(inventory: &Inventory) -> Ends {
    inventory
        .topics
        .values()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|(p, part)| ((t.name.clone(), *p), part.end))
        })
        .collect()
}
