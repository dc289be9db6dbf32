//! Exact offset translation. For a group that committed offset S on a source partition, the
//! target offset is that of the first replicated record whose source offset is ≥ S — or the
//! replicated end when every record below S is replicated and none follows yet.
//!
//! The engine's progress holds alignments (source offset, target offset) at which both logs
//! agree. From the nearest alignment at or below S, both logs are walked read_committed: the
//! k source records in [anchor, S) are the k target records after the anchor's target offset,
//! whatever compaction, aborted transactions or control records put between them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, DefaultConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::replicate::{PartitionProgress, Position};

/// Where a source offset lands on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    Exact(i64),
    /// Records below the source offset are not all replicated yet.
    Pending,
}

#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error("reading {side} {topic} partition {partition} to translate offsets failed: {source}")]
    Read {
        side: &'static str,
        topic: String,
        partition: i32,
        #[source]
        source: KafkaError,
    },
    #[error("reading {side} {topic} partition {partition} to translate offsets timed out")]
    Timeout {
        side: &'static str,
        topic: String,
        partition: i32,
    },
}

/// The config of the read_committed consumers a [`Translator`] walks the logs with.
pub fn translator_config(
    props: &std::collections::BTreeMap<String, String>,
    migration: &str,
) -> rdkafka::ClientConfig {
    let mut config = crate::replicate::reader_config(props, migration, "translator");
    // Walks end at a partition's end more often than not: do not let the broker hold each of
    // those fetches for the default half second.
    config.set("fetch.wait.max.ms", "10");
    config
}

/// Translates source offsets of one partition, reading both clusters with read_committed
/// consumers (created by the caller with `isolation.level=read_committed`, no commits).
pub struct Translator<'a, C: ConsumerContext + 'static = DefaultConsumerContext> {
    pub source: &'a BaseConsumer<C>,
    pub target: &'a BaseConsumer<C>,
    pub timeout: Duration,
}

impl<C: ConsumerContext + 'static> Translator<'_, C> {
    /// Translates every offset in `wanted` for `topic`/`partition` given its `progress`.
    pub fn translate(
        &self,
        topic: &str,
        partition: i32,
        progress: &PartitionProgress,
        wanted: &[i64],
    ) -> Result<BTreeMap<i64, Translation>, TranslateError> {
        let mut out = BTreeMap::new();
        let Some(head) = progress.position else {
            for s in wanted {
                out.insert(*s, Translation::Pending);
            }
            return Ok(out);
        };
        // Offsets that need a walk, grouped by the alignment they start from.
        let mut walks: BTreeMap<Position, Vec<i64>> = BTreeMap::new();
        for &s in wanted {
            if s > head.next_source {
                out.insert(s, Translation::Pending);
            } else if s == head.next_source {
                out.insert(s, Translation::Exact(head.next_target));
            } else {
                let anchor = progress
                    .anchor(s)
                    .or_else(|| progress.index.first().copied())
                    .unwrap_or(head);
                if s <= anchor.next_source {
                    // At or below the first alignment: the first replicated record.
                    out.insert(s, Translation::Exact(anchor.next_target));
                } else {
                    walks.entry(anchor).or_default().push(s);
                }
            }
        }
        for (anchor, mut offsets) in walks {
            offsets.sort_unstable();
            let last = *offsets.last().unwrap_or(&anchor.next_source);
            let source = self.walk(
                "source",
                self.source,
                topic,
                partition,
                anchor.next_source,
                last,
                usize::MAX,
            )?;
            let needed = offsets
                .iter()
                .map(|s| source.partition_point(|o| o < s))
                .max()
                .unwrap_or(0);
            let target = self.walk(
                "target",
                self.target,
                topic,
                partition,
                anchor.next_target,
                head.next_target,
                needed + 1,
            )?;
            for s in offsets {
                let k = source.partition_point(|o| *o < s);
                let t = target.get(k).copied().unwrap_or(head.next_target);
                out.insert(s, Translation::Exact(t));
            }
        }
        Ok(out)
    }

    /// Offsets of the records in [`start`, `end`), at most `limit` of them, stopping early at
    /// the partition's end.
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        side: &'static str,
        consumer: &BaseConsumer<C>,
        topic: &str,
        partition: i32,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<i64>, TranslateError> {
        let read = |source| TranslateError::Read {
            side,
            topic: topic.to_string(),
            partition,
            source,
        };
        let mut offsets = Vec::new();
        if limit == 0 || start >= end {
            return Ok(offsets);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(start))
            .map_err(read)?;
        consumer.assign(&tpl).map_err(read)?;
        let deadline = Instant::now() + self.timeout;
        while offsets.len() < limit {
            if Instant::now() > deadline {
                return Err(TranslateError::Timeout {
                    side,
                    topic: topic.to_string(),
                    partition,
                });
            }
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(read(e)),
                Some(Ok(m)) if m.offset() >= end => break,
                Some(Ok(m)) => offsets.push(m.offset()),
            }
        }
        Ok(offsets)
    }
}
