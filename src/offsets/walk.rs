//! Reading the offsets of many partition ranges at once through one read_committed consumer.
//! Each partition has its own queue (split from the consumer's), so that the end of a
//! partition (which librdkafka reports with the partition number only) is never mistaken for
//! the end of a same-numbered partition of another topic. All ranges are fetched together, so
//! a walk over hundreds of partitions costs about as many round trips as a walk over one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::TranslateError;

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
    /// walk goes on reading — unless the records were deleted (the log starts at `end`).
    pub last_is_committed: bool,
}

impl Range {
    /// Whether an end of partition reported after `found` ends this range.
    fn ended_by_eof(&self, found: &[i64]) -> bool {
        !self.last_is_committed || found.last().is_some_and(|&o| o >= self.end - 1)
    }
}

/// Walks ranges on one cluster (`side` names it in errors). A walk that reads nothing new for
/// `timeout` gives up.
pub struct Walker<C: ConsumerContext + 'static> {
    side: &'static str,
    consumer: Arc<BaseConsumer<C>>,
    queues: HashMap<(String, i32), PartitionQueue<C>>,
    timeout: Duration,
}

impl<C: ConsumerContext + 'static> Walker<C> {
    /// `consumer` must read read_committed with `enable.partition.eof=true`; the walker
    /// assigns its partitions itself.
    pub fn new(side: &'static str, consumer: BaseConsumer<C>, timeout: Duration) -> Self {
        Walker {
            side,
            consumer: Arc::new(consumer),
            queues: HashMap::new(),
            timeout,
        }
    }

    /// The offsets of the records in each range, in order, stopping early at a partition's
    /// end. At most one range per partition.
    pub fn walk(&mut self, ranges: &[Range]) -> Result<Vec<Vec<i64>>, TranslateError> {
        let mut found: Vec<Vec<i64>> = vec![Vec::new(); ranges.len()];
        let mut open: Vec<usize> = (0..ranges.len())
            .filter(|&i| ranges[i].limit > 0 && ranges[i].start < ranges[i].end)
            .collect();
        if open.is_empty() {
            return Ok(found);
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
        // Partitions finished in an earlier walk were paused.
        self.consumer
            .resume(&assignment)
            .map_err(|e| self.read_error(first, e))?;
        self.consumer
            .assign(&assignment)
            .map_err(|e| self.read_error(first, e))?;
        let result = self.read(ranges, &mut open, &mut found);
        let unassigned = self.consumer.unassign();
        result?;
        unassigned.map_err(|e| self.read_error(first, e))?;
        Ok(found)
    }

    fn read(
        &self,
        ranges: &[Range],
        open: &mut Vec<usize>,
        found: &mut [Vec<i64>],
    ) -> Result<(), TranslateError> {
        let mut deadline = Instant::now() + self.timeout;
        while let Some(&first) = open.first() {
            if Instant::now() > deadline {
                return Err(TranslateError::Timeout {
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
                            if r.ended_by_eof(&found[i]) || self.deleted_to_end(r)? {
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
                            found[i].push(m.offset());
                            if found[i].len() >= r.limit {
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

    /// Whether the records of `range` are gone: the partition's log start is at or past its
    /// end (retention or deleted records), so no end of partition will bring them.
    fn deleted_to_end(&self, range: &Range) -> Result<bool, TranslateError> {
        let (start, _) = self
            .consumer
            .fetch_watermarks(&range.topic, range.partition, self.timeout)
            .map_err(|e| self.read_error(range, e))?;
        Ok(start >= range.end)
    }

    fn read_error(&self, range: &Range, source: KafkaError) -> TranslateError {
        TranslateError::Read {
            side: self.side,
            topic: range.topic.clone(),
            partition: range.partition,
            source,
        }
    }
}
