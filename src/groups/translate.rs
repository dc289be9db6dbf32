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

/// A partition whose replicated records are paired whole ([`Translator::pair_all`]).
#[derive(Debug, Clone)]
pub struct Whole<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub progress: &'a PartitionProgress,
}

/// How many partitions [`Translator::pair_all`] walks at once: a wave holds a stretch of
/// each (about [`crate::state::progress::INDEX_INTERVAL`] offsets) in memory.
const WHOLE_AT_ONCE: usize = 256;

impl<C: ConsumerContext + 'static> Translator<C> {
    /// Walks every replicated record of each of `partitions` on both clusters, from its first
    /// alignment to its position, stretch by stretch between the alignments its progress
    /// recorded, and hands each stretch's pairs to `on_pairs` in order: the index of the
    /// partition, the source offsets, the target offsets they landed on. Records below a
    /// log's start (deleted since) are paired from the stretch's end, where both logs agree.
    pub fn pair_all(
        &mut self,
        partitions: &[Whole<'_>],
        mut on_pairs: impl FnMut(usize, &[i64], &[i64]),
    ) -> Result<(), TranslateError> {
        for (batch, chunk) in partitions.chunks(WHOLE_AT_ONCE).enumerate() {
            let first = batch * WHOLE_AT_ONCE;
            let source_start = self.log_starts(&self.source, chunk)?;
            let target_start = self.log_starts(&self.target, chunk)?;
            let stretches: Vec<Vec<(Position, Position)>> =
                chunk.iter().map(|w| stretches(w.progress)).collect();
            let waves = stretches.iter().map(Vec::len).max().unwrap_or(0);
            for wave in 0..waves {
                let now: Vec<(usize, Position, Position)> = stretches
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.get(wave).map(|(a, b)| (i, *a, *b)))
                    .collect();
                let range = |i: usize, start: i64, end: i64, last_is_committed| Range {
                    topic: chunk[i].topic.to_string(),
                    partition: chunk[i].partition,
                    start,
                    end,
                    limit: usize::MAX,
                    last_is_committed,
                };
                let source_ranges: Vec<Range> = now
                    .iter()
                    .map(|&(i, a, b)| {
                        let start = a.next_source.max(source_start[i]);
                        range(i, start, b.next_source, false)
                    })
                    .collect();
                let target_ranges: Vec<Range> = now
                    .iter()
                    .map(|&(i, a, b)| {
                        let start = a.next_target.max(target_start[i]);
                        let committed = chunk[i].progress.position_follows_record;
                        range(i, start, b.next_target, committed)
                    })
                    .collect();
                let source = self.source.offsets(&source_ranges)?;
                let target = self.target.offsets(&target_ranges)?;
                for ((&(i, _, _), source), target) in now.iter().zip(&source).zip(&target) {
                    let (source, target) = from_the_end(source, target);
                    on_pairs(first + i, source, target);
                }
            }
        }
        Ok(())
    }

    /// Where each partition's log starts on the cluster `reader` reads.
    fn log_starts(
        &self,
        reader: &RangeReader<C>,
        partitions: &[Whole<'_>],
    ) -> Result<Vec<i64>, TranslateError> {
        partitions
            .iter()
            .map(|w| reader.log_start(w.topic, w.partition))
            .collect()
    }
}

/// The records of a stretch that pair up: both logs end the stretch at an alignment, so the
/// last k records of one are the last k of the other, whichever lost records at its start.
fn from_the_end<'a>(source: &'a [i64], target: &'a [i64]) -> (&'a [i64], &'a [i64]) {
    let n = source.len().min(target.len());
    (&source[source.len() - n..], &target[target.len() - n..])
}

/// The alignments of a partition's progress: its index entries below its position, then the
/// position (none without one).
pub fn alignments(progress: &PartitionProgress) -> Vec<Position> {
    let Some(head) = progress.position else {
        return Vec::new();
    };
    let mut alignments: Vec<Position> = progress
        .index
        .iter()
        .copied()
        .filter(|p| p.next_source < head.next_source)
        .collect();
    alignments.push(head);
    alignments.dedup_by_key(|p| p.next_source);
    alignments
}

/// The stretches between consecutive alignments of a partition's progress.
fn stretches(progress: &PartitionProgress) -> Vec<(Position, Position)> {
    alignments(progress)
        .windows(2)
        .map(|w| (w[0], w[1]))
        .collect()
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
    fn a_partition_is_walked_whole_between_its_alignments_paired_from_the_end() {
        let p = progress(
            &[pos(0, 0), pos(10, 11), pos(10, 11), pos(30, 33)],
            pos(30, 33),
        );
        assert_eq!(alignments(&p), vec![pos(0, 0), pos(10, 11), pos(30, 33)]);
        assert_eq!(
            stretches(&p),
            vec![(pos(0, 0), pos(10, 11)), (pos(10, 11), pos(30, 33))]
        );
        assert!(stretches(&PartitionProgress::default()).is_empty());
        // The source lost its first records to retention: the last ones pair up.
        let (source, target) = from_the_end(&[7, 8, 9], &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!((source, target), (&[7, 8, 9][..], &[9, 10, 11][..]));
        let (source, target) = from_the_end(&[0, 1, 2], &[0, 1, 2]);
        assert_eq!((source, target), (&[0, 1, 2][..], &[0, 1, 2][..]));
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
