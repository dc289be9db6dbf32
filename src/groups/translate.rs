//! Exact offset translation. For a group that committed offset S on a source partition, the
//! target offset is that of the first replicated record whose source offset is ≥ S — or the
//! replicated end when every record below S is replicated and none follows yet.
//!
//! The engine's progress holds alignments (source offset, target offset) at which both logs
//! agree. From the nearest alignment at or below S, both logs are walked read_committed: the
//! k source records in [anchor, S) are the k target records after the anchor's target offset,
//! whatever compaction, aborted transactions or control records put between them.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, ConsumerContext, DefaultConsumerContext};

use super::TranslateError;
use crate::state::{PartitionProgress, Position};
use crate::state::{Range, RangeReader};

/// Where a source offset lands on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    Exact(i64),
    /// Records below the source offset are not all replicated yet.
    Pending,
}

/// The config of the read_committed consumers a [`Translator`] walks the logs with.
pub fn translator_config(
    props: &std::collections::BTreeMap<String, String>,
    migration: &str,
) -> rdkafka::ClientConfig {
    let mut config = crate::cluster::factory::reader_config(props, migration, "translator");
    // Walks end at a partition's end more often than not: do not let the broker hold each of
    // those fetches for the default half second.
    config.set("fetch.wait.max.ms", "10");
    // Each partition has its own queue while walked, and the prefetch limit applies to each
    // queue: keep it small, so that walking thousands of partitions at once stays small too.
    config.set("queued.max.messages.kbytes", "2048");
    config
}

/// The offsets wanted for one partition, with the partition's progress.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub progress: &'a PartitionProgress,
    pub offsets: Vec<i64>,
}

/// Translations by topic, partition and source offset.
pub type Translations = BTreeMap<(String, i32, i64), Translation>;

/// Translates source offsets, walking both clusters with read_committed consumers (made with
/// [`translator_config`]). All partitions are walked at once.
pub struct Translator<C: ConsumerContext + 'static = DefaultConsumerContext> {
    source: RangeReader<C>,
    target: RangeReader<C>,
}

impl<C: ConsumerContext + 'static> Translator<C> {
    /// A walk of one cluster gives up when it reads nothing for `timeout`.
    pub fn new(source: BaseConsumer<C>, target: BaseConsumer<C>, timeout: Duration) -> Self {
        Translator {
            source: RangeReader::new("source", source, timeout),
            target: RangeReader::new("target", target, timeout),
        }
    }

    /// Translation between clusters that name the source's topics as `from` and `to` map
    /// them (wanted offsets are given with the source's names).
    pub fn renamed(self, from: &crate::config::Rename, to: &crate::config::Rename) -> Self {
        Translator {
            source: self.source.renamed(from),
            target: self.target.renamed(to),
        }
    }

    /// Translates every wanted offset of every partition.
    pub fn translate(&mut self, wanted: &[Wanted<'_>]) -> Result<Translations, TranslateError> {
        let mut out = Translations::new();
        // Per partition: what needs no walk, and the walks, one per alignment they start from.
        let mut walks = Vec::new();
        for w in wanted {
            let (known, partition_walks) = plan(w.progress, &w.offsets);
            for (s, t) in known {
                out.insert((w.topic.to_string(), w.partition, s), t);
            }
            if let Some(head) = w.progress.position {
                walks.push((w, head, partition_walks));
            }
        }
        // Wave n walks every partition's n-th stretch: each wave is one read per cluster.
        let waves = walks.iter().map(|(_, _, p)| p.len()).max().unwrap_or(0);
        for wave in 0..waves {
            let stretches: Vec<(&Wanted<'_>, Position, &Walk)> = walks
                .iter()
                .filter_map(|(w, head, p)| p.get(wave).map(|walk| (*w, *head, walk)))
                .collect();
            let source_ranges: Vec<Range> = stretches
                .iter()
                .map(|(w, _, walk)| Range {
                    topic: w.topic.to_string(),
                    partition: w.partition,
                    start: walk.anchor.next_source,
                    end: *walk.offsets.last().unwrap_or(&walk.anchor.next_source),
                    limit: usize::MAX,
                    // The engine read the source up to its head: its last stable offset is
                    // past every wanted offset, and what lies below one may be all aborted.
                    last_is_committed: false,
                })
                .collect();
            let source = self.source.offsets(&source_ranges)?;
            let target_ranges: Vec<Range> = stretches
                .iter()
                .zip(&source)
                .map(|((w, head, walk), source)| Range {
                    topic: w.topic.to_string(),
                    partition: w.partition,
                    start: walk.anchor.next_target,
                    end: head.next_target,
                    limit: records_needed(source, &walk.offsets) + 1,
                    // With the built-in engine the head is one past a record it delivered
                    // and committed (MirrorMaker 2's is the target's last stable offset).
                    last_is_committed: w.progress.position_follows_record,
                })
                .collect();
            let target = self.target.offsets(&target_ranges)?;
            for (((w, head, walk), source), target) in stretches.iter().zip(&source).zip(&target) {
                for (s, t) in pair(source, target, head.next_target, &walk.offsets) {
                    out.insert((w.topic.to_string(), w.partition, s), Translation::Exact(t));
                }
            }
        }
        Ok(out)
    }
}

/// A stretch of a partition to walk on both clusters: from an alignment up to the largest
/// of `offsets` (sorted), the source offsets translated from it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Walk {
    anchor: Position,
    offsets: Vec<i64>,
}

/// Splits `wanted` into offsets translated without reading (pending, at the head, at or
/// below the first alignment) and walks from the nearest alignment below the others.
fn plan(progress: &PartitionProgress, wanted: &[i64]) -> (BTreeMap<i64, Translation>, Vec<Walk>) {
    let mut known = BTreeMap::new();
    let Some(head) = progress.position else {
        for s in wanted {
            known.insert(*s, Translation::Pending);
        }
        return (known, Vec::new());
    };
    let mut walks: BTreeMap<Position, Vec<i64>> = BTreeMap::new();
    for &s in wanted {
        if s > head.next_source {
            known.insert(s, Translation::Pending);
        } else if s == head.next_source {
            known.insert(s, Translation::Exact(head.next_target));
        } else {
            let anchor = progress
                .anchor(s)
                .or_else(|| progress.index.first().copied())
                .unwrap_or(head);
            if s <= anchor.next_source {
                // At or below the first alignment: the first replicated record.
                known.insert(s, Translation::Exact(anchor.next_target));
            } else {
                walks.entry(anchor).or_default().push(s);
            }
        }
    }
    let walks = walks
        .into_iter()
        .map(|(anchor, mut offsets)| {
            offsets.sort_unstable();
            offsets.dedup();
            Walk { anchor, offsets }
        })
        .collect();
    (known, walks)
}

/// How many target records past the anchor the walk must see: as many as the source has
/// below the largest offset.
fn records_needed(source: &[i64], offsets: &[i64]) -> usize {
    offsets
        .last()
        .map_or(0, |last| source.partition_point(|o| o < last))
}

/// The k source records below S are the k target records after the anchor: S lands on the
/// k-th target record, or on the replicated end when the target has no more.
fn pair(source: &[i64], target: &[i64], end: i64, offsets: &[i64]) -> Vec<(i64, i64)> {
    offsets
        .iter()
        .map(|&s| {
            let k = source.partition_point(|o| *o < s);
            (s, target.get(k).copied().unwrap_or(end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn pos(next_source: i64, next_target: i64) -> Position {
        Position {
            next_source,
            next_target,
        }
    }

    fn progress(index: &[Position], head: Position) -> PartitionProgress {
        PartitionProgress {
            position: Some(head),
            index: index.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn offsets_at_the_head_past_it_or_below_the_first_alignment_need_no_walk() {
        let p = progress(&[pos(100, 7)], pos(500, 420));
        let (known, walks) = plan(&p, &[50, 100, 500, 501]);
        assert_eq!(
            known,
            BTreeMap::from([
                (50, Translation::Exact(7)),
                (100, Translation::Exact(7)),
                (500, Translation::Exact(420)),
                (501, Translation::Pending),
            ])
        );
        assert!(walks.is_empty());
        let (known, walks) = plan(&PartitionProgress::default(), &[0, 3]);
        assert!(known.values().all(|t| *t == Translation::Pending));
        assert!(walks.is_empty());
    }

    #[test]
    fn each_offset_is_walked_from_the_nearest_alignment_below_it() {
        let p = progress(&[pos(0, 0), pos(10_000, 9_990)], pos(15_000, 14_980));
        let (known, walks) = plan(&p, &[12_000, 5, 9_999, 5, 14_999]);
        assert!(known.is_empty());
        assert_eq!(
            walks,
            vec![
                Walk {
                    anchor: pos(0, 0),
                    offsets: vec![5, 9_999],
                },
                Walk {
                    anchor: pos(10_000, 9_990),
                    offsets: vec![12_000, 14_999],
                },
            ]
        );
    }

    #[test]
    fn the_kth_source_record_below_an_offset_is_the_kth_target_record() {
        // Source records 10, 11, 14 (12 and 13 aborted); the target holds them at 3, 4, 6
        // (5 is a commit marker) and ends at 8.
        let source = [10, 11, 14];
        let target = [3, 4, 6];
        let offsets = [11, 12, 14, 15];
        assert_eq!(records_needed(&source, &offsets), 3);
        assert_eq!(
            pair(&source, &target, 8, &offsets),
            vec![(11, 4), (12, 6), (14, 6), (15, 8)]
        );
    }
}
