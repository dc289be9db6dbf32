//! The one read_committed range reader. Every read of records the tool makes — the engine's
//! wait for its last commit to be readable, the translator's walks, verify's parity digests,
//! whole reads of the progress topic and of the Connect worker's offsets, probes for records a
//! crashed run left — is a set of ranges read through a [`RangeReader`].
//!
//! Each partition has its own queue (split from the consumer's), so that the end of a
//! partition (which librdkafka reports with the partition number only) is never mistaken for
//! the end of a same-numbered partition of another topic. All ranges are fetched together, so
//! reading hundreds of partitions costs about as many round trips as reading one. A range is
//! complete when its last record was read, when its limit was reached, or at the partition's
//! end — which for a read_committed reader is the last stable offset: control records
//! (commit markers) and aborted transactions deliver nothing, so a range whose last offset is
//! a marker ends there, while a range whose last record is known to be committed waits for
//! that record (see [`Range::last_is_committed`]) — or until the consumer's position (which
//! markers move) reaches the range's end: markers and aborted transactions that other
//! producers wrote at the end of a range never hold a read up.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::{Offset, TopicPartitionList};

/// The records of a partition in [`start`, `end`), at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub topic: String,
    pub partition: i32,
    pub start: i64,
    pub end: i64,
    pub limit: usize,
    /// The record at `end - 1` is known to be committed. A read_committed consumer's end of
    /// partition is the last stable offset, which trails a committed transaction until its
    /// marker is written; an end reported before that record is then not the end, and the
    /// read goes on — unless the records were deleted (the log starts at `end`).
    pub last_is_committed: bool,
}

impl Range {
    /// Every record of a partition from `start` up to its end (`end` as read before).
    pub fn to_end(topic: &str, partition: i32, start: i64, end: i64) -> Range {
        Range {
            topic: topic.to_string(),
            partition,
            start,
            end,
            limit: usize::MAX,
            last_is_committed: false,
        }
    }

    /// Whether an end of partition reported after `last` (the last offset read) ends this
    /// range.
    fn ended_by_eof(&self, last: Option<i64>) -> bool {
        !self.last_is_committed || last.is_some_and(|o| o >= self.end - 1)
    }
}

/// Why a read failed; `side` names the cluster (`source`, `target`).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {side} {topic} partition {partition} failed: {source}")]
    Read {
        side: &'static str,
        topic: String,
        partition: i32,
        #[source]
        source: KafkaError,
    },
    #[error("reading {side} {topic} failed: {source}")]
    Topic {
        side: &'static str,
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error(
        "reading {side} {topic} partition {partition} stalled: nothing read for {}s",
        stalled.as_secs()
    )]
    Timeout {
        side: &'static str,
        topic: String,
        partition: i32,
        stalled: Duration,
    },
}

/// Reads ranges on one cluster (`side` names it in errors). A read that gets nothing new for
/// `timeout` gives up.
pub struct RangeReader<C: ConsumerContext + 'static> {
    side: &'static str,
    consumer: Arc<BaseConsumer<C>>,
    queues: HashMap<(String, i32), PartitionQueue<C>>,
    timeout: Duration,
    /// The names the cluster read gives the ranges' topics (which are the source's names).
    rename: Option<crate::config::Rename>,
}

impl<C: ConsumerContext + 'static> RangeReader<C> {
    /// `consumer` must read read_committed with `enable.partition.eof=true` (as
    /// [`crate::cluster::factory::reader_config`] makes it); the reader assigns its partitions itself.
    pub fn new(side: &'static str, consumer: BaseConsumer<C>, timeout: Duration) -> Self {
        RangeReader {
            side,
            consumer: Arc::new(consumer),
            queues: HashMap::new(),
            timeout,
            rename: None,
        }
    }

    /// A reader of a cluster that names topics as `rename` maps them: ranges are given with
    /// the source's names and read under the cluster's.
    pub fn renamed(mut self, rename: &crate::config::Rename) -> Self {
        self.rename = (!rename.is_identity()).then(|| rename.clone());
        self
    }

    /// The consumer the reader reads with (for metadata and watermarks).
    pub fn consumer(&self) -> &BaseConsumer<C> {
        &self.consumer
    }

    /// The offsets of the records in each range, in order, stopping early at a partition's
    /// end. At most one range per partition.
    pub fn offsets(&mut self, ranges: &[Range]) -> Result<Vec<Vec<i64>>, ReadError> {
        let mut found: Vec<Vec<i64>> = vec![Vec::new(); ranges.len()];
        self.read(ranges, |i, m| found[i].push(m.offset()))?;
        Ok(found)
    }

    /// Hands every record in each range, in order, to `on_record` with the index of its
    /// range. At most one range per partition.
    pub fn read(
        &mut self,
        ranges: &[Range],
        on_record: impl FnMut(usize, &BorrowedMessage<'_>),
    ) -> Result<(), ReadError> {
        match &self.rename {
            None => self.read_named(ranges, on_record),
            Some(rename) => {
                let renamed: Vec<Range> = ranges
                    .iter()
                    .map(|r| Range {
                        topic: rename.target(&r.topic).into_owned(),
                        ..r.clone()
                    })
                    .collect();
                self.read_named(&renamed, on_record)
            }
        }
    }

    fn read_named(
        &mut self,
        ranges: &[Range],
        mut on_record: impl FnMut(usize, &BorrowedMessage<'_>),
    ) -> Result<(), ReadError> {
        let mut open: Vec<usize> = (0..ranges.len())
            .filter(|&i| ranges[i].limit > 0 && ranges[i].start < ranges[i].end)
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        let mut assignment = TopicPartitionList::new();
        for &i in &open {
            let r = &ranges[i];
            let key = (r.topic.clone(), r.partition);
            if !self.queues.contains_key(&key) {
                // Split before assigning: a queue the application forwarded is not forwarded
                // to the consumer's queue again when fetching starts.
                let queue = self
                    .consumer
                    .split_partition_queue(&r.topic, r.partition)
                    .ok_or_else(|| {
                        self.read_error(r, KafkaError::Subscription("unknown partition".into()))
                    })?;
                self.queues.insert(key, queue);
            }
            assignment
                .add_partition_offset(&r.topic, r.partition, Offset::Offset(r.start))
                .map_err(|e| self.read_error(r, e))?;
        }
        let first = &ranges[open[0]];
        // Partitions finished in an earlier read were paused.
        self.consumer
            .resume(&assignment)
            .map_err(|e| self.read_error(first, e))?;
        self.consumer
            .assign(&assignment)
            .map_err(|e| self.read_error(first, e))?;
        let result = self.read_open(ranges, &mut open, &mut on_record);
        let unassigned = self.consumer.unassign();
        result?;
        unassigned.map_err(|e| self.read_error(first, e))?;
        Ok(())
    }

    fn read_open(
        &self,
        ranges: &[Range],
        open: &mut Vec<usize>,
        on_record: &mut impl FnMut(usize, &BorrowedMessage<'_>),
    ) -> Result<(), ReadError> {
        let mut last: Vec<Option<i64>> = vec![None; ranges.len()];
        let mut read: Vec<usize> = vec![0; ranges.len()];
        let mut deadline = Instant::now() + self.timeout;
        while let Some(&first) = open.first() {
            if Instant::now() > deadline {
                return Err(ReadError::Timeout {
                    side: self.side,
                    topic: ranges[first].topic.clone(),
                    partition: ranges[first].partition,
                    stalled: self.timeout,
                });
            }
            let mut progressed = false;
            let mut finished: Vec<usize> = Vec::new();
            for &i in open.iter() {
                let r = &ranges[i];
                let queue = &self.queues[&(r.topic.clone(), r.partition)];
                loop {
                    match queue.poll(Duration::ZERO) {
                        None => break,
                        Some(Err(KafkaError::PartitionEOF(_))) => {
                            if r.ended_by_eof(last[i])
                                || self.consumed_past_end(r)?
                                || self.deleted_to_end(r)?
                            {
                                finished.push(i);
                            }
                            break;
                        }
                        Some(Err(e)) => return Err(self.read_error(r, e)),
                        Some(Ok(m)) => {
                            progressed = true;
                            if m.offset() >= r.end {
                                finished.push(i);
                                break;
                            }
                            if m.offset() < r.start {
                                continue;
                            }
                            on_record(i, &m);
                            last[i] = Some(m.offset());
                            read[i] += 1;
                            if read[i] >= r.limit || m.offset() >= r.end - 1 {
                                finished.push(i);
                                break;
                            }
                        }
                    }
                }
            }
            if progressed {
                deadline = Instant::now() + self.timeout;
            }
            if !finished.is_empty() {
                let mut done = TopicPartitionList::new();
                for &i in &finished {
                    done.add_partition(&ranges[i].topic, ranges[i].partition);
                }
                // Stop fetching what is no longer needed.
                self.consumer
                    .pause(&done)
                    .map_err(|e| self.read_error(&ranges[finished[0]], e))?;
                finished.sort_unstable();
                open.retain(|i| finished.binary_search(i).is_err());
            } else if !progressed {
                // Nothing queued: serve the consumer's own events while fetches are under way.
                match self.consumer.poll(Duration::from_millis(5)) {
                    None | Some(Ok(_)) | Some(Err(KafkaError::PartitionEOF(_))) => {}
                    Some(Err(e)) => return Err(self.read_error(&ranges[first], e)),
                }
            }
        }
        Ok(())
    }

    /// Whether the consumer's position in the partition is at or past the range's end: what
    /// lies between the last record read and the end is control records (transaction
    /// markers, which move the position without being delivered) and records of aborted
    /// transactions — whoever wrote them, wherever they fall in the range.
    fn consumed_past_end(&self, range: &Range) -> Result<bool, ReadError> {
        let positions = self
            .consumer
            .position()
            .map_err(|e| self.read_error(range, e))?;
        Ok(positions
            .find_partition(&range.topic, range.partition)
            .is_some_and(|p| matches!(p.offset(), Offset::Offset(o) if o >= range.end)))
    }

    /// Whether the records of `range` are gone: the partition's log start is at or past its
    /// end (retention or deleted records), so no end of partition will bring them.
    fn deleted_to_end(&self, range: &Range) -> Result<bool, ReadError> {
        let (start, _) = self
            .consumer
            .fetch_watermarks(&range.topic, range.partition, self.timeout)
            .map_err(|e| self.read_error(range, e))?;
        Ok(start >= range.end)
    }

    /// Where the partition's log starts now.
    pub fn log_start(&self, topic: &str, partition: i32) -> Result<i64, ReadError> {
        // Under the cluster's name of the topic (see [`RangeReader::renamed`]).
        let named = match &self.rename {
            Some(rename) => rename.target(topic).into_owned(),
            None => topic.to_string(),
        };
        let range = Range::to_end(&named, partition, 0, 0);
        self.consumer
            .fetch_watermarks(&named, partition, self.timeout)
            .map(|(low, _)| low)
            .map_err(|e| self.read_error(&range, e))
    }

    fn read_error(&self, range: &Range, source: KafkaError) -> ReadError {
        ReadError::Read {
            side: self.side,
            topic: range.topic.clone(),
            partition: range.partition,
            source,
        }
    }

    /// Reads every record of `topic` from its start to its end, handing each offset, key and
    /// value to `on_record`. A topic that does not exist reads as empty.
    pub fn read_topic(
        &mut self,
        topic: &str,
        mut on_record: impl FnMut(i64, Option<i64>, Option<&[u8]>, Option<&[u8]>),
    ) -> Result<(), ReadError> {
        let whole = |e: KafkaError| ReadError::Topic {
            side: self.side,
            topic: topic.to_string(),
            source: e,
        };
        let mut ranges = Vec::new();
        for p in partitions_of(&self.consumer, topic, self.timeout).map_err(whole)? {
            let (low, high) = self
                .consumer
                .fetch_watermarks(topic, p, self.timeout)
                .map_err(whole)?;
            ranges.push(Range::to_end(topic, p, low, high));
        }
        self.read(&ranges, |_, m| {
            on_record(m.offset(), m.timestamp().to_millis(), m.key(), m.payload())
        })
    }

    /// Of the partitions probed (each with an offset), those where no committed record
    /// follows that offset. A partition whose read fails is not among them, so that doubt
    /// never passes for "nothing more".
    pub fn without_committed_records(
        &mut self,
        probes: &[((String, i32), i64)],
    ) -> Vec<(String, i32)> {
        let ranges: Vec<Range> = probes
            .iter()
            .map(|((topic, partition), from)| Range {
                limit: 1,
                ..Range::to_end(topic, *partition, *from, i64::MAX)
            })
            .collect();
        match self.offsets(&ranges) {
            Ok(found) => probes
                .iter()
                .zip(found)
                .filter(|(_, found)| found.is_empty())
                .map(|(((topic, partition), _), _)| (topic.clone(), *partition))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "Could not read whether committed records follow.");
                Vec::new()
            }
        }
    }
}

/// The partitions of `topic` (none when it does not exist).
pub fn partitions_of<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<i32>, KafkaError> {
    let md = consumer.fetch_metadata(Some(topic), timeout)?;
    Ok(md
        .topics()
        .first()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default())
}
