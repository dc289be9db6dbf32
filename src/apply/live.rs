//! Where a running `apply` stands, partition by partition: records and bytes replicated, the
//! source's end and the lag. Fed by the engine's events (committed positions) and by the
//! source's end offsets, read now and then; the supervisor keeps it, metrics and the display
//! read it.

use std::collections::BTreeMap;

use crate::replicate::{Event, Status};

/// One partition as the running apply knows it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLive {
    /// Next source offset committed on the target; unknown until the partition's first commit.
    pub next_source: Option<i64>,
    pub records: u64,
    pub bytes: u64,
    /// The source's last stable offset, as last read.
    pub end: Option<i64>,
}

impl PartitionLive {
    /// Records on the source not yet committed on the target; unknown until both are known.
    pub fn lag(&self) -> Option<i64> {
        Some((self.end? - self.next_source?).max(0))
    }
}

/// A topic (or all topics) summed over its partitions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub partitions: usize,
    pub records: u64,
    pub bytes: u64,
    /// Unknown while any partition's lag is.
    pub lag: Option<i64>,
}

impl Totals {
    fn add(&mut self, p: &PartitionLive) {
        self.partitions += 1;
        self.records += p.records;
        self.bytes += p.bytes;
        self.lag = match (self.partitions, self.lag, p.lag()) {
            (1, _, lag) => lag,
            (_, Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
}

/// Every partition being replicated.
#[derive(Debug, Default)]
pub struct Live {
    partitions: BTreeMap<(String, i32), PartitionLive>,
}

impl Live {
    /// Starts from committed progress and the source's ends.
    pub fn from_status(status: &Status) -> Live {
        let partitions = status
            .partitions
            .iter()
            .map(|p| {
                let live = PartitionLive {
                    next_source: p.replicated_to,
                    records: p.records,
                    bytes: p.bytes,
                    end: Some(p.source_end),
                };
                ((p.topic.clone(), p.partition), live)
            })
            .collect();
        Live { partitions }
    }

    /// Takes in an engine event. For a commit, returns the topic and the records and bytes it
    /// added since the partition's previous commit.
    pub fn observe(&mut self, event: &Event) -> Option<(String, u64, u64)> {
        let Event::Committed {
            topic,
            partition,
            position,
            records,
            bytes,
        } = event
        else {
            return None;
        };
        let p = self
            .partitions
            .entry((topic.clone(), *partition))
            .or_default();
        let added = (
            topic.clone(),
            records.saturating_sub(p.records),
            bytes.saturating_sub(p.bytes),
        );
        p.next_source = Some(position.next_source);
        p.records = *records;
        p.bytes = *bytes;
        Some(added)
    }

    /// Records the source's last stable offsets (by topic and partition).
    pub fn set_ends(&mut self, ends: impl IntoIterator<Item = ((String, i32), i64)>) {
        for (key, end) in ends {
            self.partitions.entry(key).or_default().end = Some(end);
        }
    }

    pub fn partitions(&self) -> impl Iterator<Item = (&(String, i32), &PartitionLive)> {
        self.partitions.iter()
    }

    pub fn topics(&self) -> BTreeMap<&str, Totals> {
        let mut out: BTreeMap<&str, Totals> = BTreeMap::new();
        for ((topic, _), p) in &self.partitions {
            out.entry(topic).or_default().add(p);
        }
        out
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for p in self.partitions.values() {
            t.add(p);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Position;

    fn committed(topic: &str, partition: i32, next_source: i64, records: u64) -> Event {
        Event::Committed {
            topic: topic.into(),
            partition,
            position: Position {
                next_source,
                next_target: next_source,
            },
            records,
            bytes: records * 10,
        }
    }

    #[test]
    fn commits_report_what_they_added_and_move_the_lag() {
        let mut live = Live::default();
        live.set_ends([(("a".to_string(), 0), 100), (("a".to_string(), 1), 50)]);
        assert_eq!(live.totals().lag, None, "positions not known yet");
        assert_eq!(
            live.observe(&committed("a", 0, 40, 40)),
            Some(("a".into(), 40, 400))
        );
        assert_eq!(
            live.observe(&committed("a", 0, 70, 70)),
            Some(("a".into(), 30, 300))
        );
        live.observe(&committed("a", 1, 50, 50));
        let a = live.topics()["a"];
        assert_eq!((a.partitions, a.records, a.lag), (2, 120, Some(30)));
        assert_eq!(
            live.observe(&Event::Synced { task: 0 }),
            None,
            "only commits count"
        );
    }

    #[test]
    fn a_new_partition_has_unknown_lag_until_its_first_commit() {
        let mut live = Live::default();
        live.observe(&committed("a", 0, 10, 10));
        live.set_ends([(("a".to_string(), 0), 10), (("b".to_string(), 0), 5)]);
        assert_eq!(live.topics()["a"].lag, Some(0));
        assert_eq!(live.topics()["b"].lag, None);
        assert_eq!(live.totals().lag, None);
        live.observe(&committed("b", 0, 5, 5));
        assert_eq!(live.totals().lag, Some(0));
    }
}
