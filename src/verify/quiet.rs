//! Whether a cluster stood still: no partition's end offset (high watermark) moved during
//! `cutover.quiet_period` — producers are stopped. Observations carry over between runs of
//! `verify --watch`, so the period is counted from the last movement seen. The quiet gate of
//! `cutover` and `rollback` watches with the same [`QuietWatch`], asking it which partitions
//! moved within the period. Reads no cluster: it is given the end offsets seen.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::cluster::inventory::Inventory;

use super::{Check, CheckStatus, Fact, Finding, Level};

pub const NAME: &str = "source quiet";

/// End offsets by topic and partition.
pub type Ends = BTreeMap<(String, i32), i64>;

/// A partition whose end offset moved, from `before` to `after`.
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
    /// Per partition: when its end offset last moved, and its end before it began moving
    /// (forgotten once it has stood still for a period, see [`QuietWatch::moving`]).
    moving: BTreeMap<(String, i32), (Instant, i64)>,
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
        for m in &self.moved {
            let key = (m.topic.clone(), m.partition);
            let from = self.moving.get(&key).map_or(m.before, |(_, from)| *from);
            self.moving.insert(key, (now, from));
        }
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

    /// The partitions whose end offset moved within `period` before `now`, each from its end
    /// before it began moving to its end now. Asked after each observation: a partition that
    /// stood still for `period` is forgotten, and named from where it stood if it moves again.
    pub fn moving(&mut self, period: Duration, now: Instant) -> Vec<Moved> {
        self.moving
            .retain(|_, (at, _)| now.saturating_duration_since(*at) < period);
        self.moving
            .iter()
            .map(|((topic, partition), (_, from))| Moved {
                topic: topic.clone(),
                partition: *partition,
                before: *from,
                after: self
                    .ends
                    .get(&(topic.clone(), *partition))
                    .copied()
                    .unwrap_or(*from),
            })
            .collect()
    }

    /// How long no end offset has moved, as of `now`.
    pub fn quiet_for(&self, now: Instant) -> Duration {
        self.since
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }

    /// How much longer the source must stay still to have been quiet for `period`.
    pub fn remaining(&self, period: Duration, now: Instant) -> Duration {
        period.saturating_sub(self.quiet_for(now))
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
        let quiet_for = self.quiet_for(now);
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
