//! What a task asks its consumer about its partitions between batches: their positions (which
//! move past commit markers and aborted transactions without delivering a record) and their
//! ends as the last fetch response gave them.
//!
//! librdkafka finds a partition by scanning the client's topic list, so asking about every
//! partition costs partitions × topics: 100 ms and more at ten thousand partitions over two
//! thousand topics. A task therefore asks about the partitions a batch carried records of after
//! every batch, and about all of them — a *sweep* — only while idle, at most once every
//! [`SWEEP_SHARE`] times what the last sweep took, so that sweeping never takes more than a
//! small share of a task's time, whatever the partition count.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{Offset, TopicPartitionList};

use crate::cluster::PartitionKey;

/// A sweep waits at least this many times the duration of the previous one.
pub const SWEEP_SHARE: u32 = 20;

/// A task that is never idle (records keep coming) still sweeps this often, so that its
/// partitions that only moved past control records get their positions written.
pub const BUSY_SWEEP_INTERVAL: Duration = Duration::from_secs(10);

/// When the next full sweep is due.
#[derive(Debug)]
pub struct Sweeps {
    last: Option<Instant>,
    took: Duration,
}

impl Sweeps {
    pub fn new() -> Sweeps {
        Sweeps {
            last: None,
            took: Duration::ZERO,
        }
    }

    /// Whether a sweep is due at `now` after an `idle` batch (or a busy one): the first one
    /// always, then once the time since the last one is [`SWEEP_SHARE`] times what it took,
    /// and [`BUSY_SWEEP_INTERVAL`] at least after a busy batch.
    pub fn due(&self, now: Instant, idle: bool) -> bool {
        let Some(last) = self.last else {
            return true;
        };
        let mut wait = self.took * SWEEP_SHARE;
        if !idle {
            wait = wait.max(BUSY_SWEEP_INTERVAL);
        }
        now.saturating_duration_since(last) >= wait
    }

    /// Records a sweep that ended at `ended` and took `took`.
    pub fn done(&mut self, ended: Instant, took: Duration) {
        self.last = Some(ended);
        self.took = took;
    }
}

/// The consumer's position of each of `keys`: the next offset it will deliver, past control
/// records and aborted transactions it skipped. Partitions without a position yet are left
/// out.
pub fn positions<'a, C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    keys: impl IntoIterator<Item = &'a PartitionKey>,
) -> Result<HashMap<PartitionKey, i64>, KafkaError> {
    let mut list = TopicPartitionList::new();
    for (topic, partition) in keys {
        list.add_partition(topic, *partition);
    }
    if list.count() == 0 {
        return Ok(HashMap::new());
    }
    // SAFETY: the client pointer is valid while `consumer` lives and `list` is a valid list
    // owned here; librdkafka only writes the elements' offsets and errors.
    let err =
        unsafe { rdkafka::bindings::rd_kafka_position(consumer.client().native_ptr(), list.ptr()) };
    if err != rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Err(KafkaError::MetadataFetch(err.into()));
    }
    Ok(offsets_by_partition(&list))
}

/// The concrete offsets of `list` by partition (a list's own lookup scans it: once per
/// partition, that grows with the square of the partitions).
pub fn offsets_by_partition(list: &TopicPartitionList) -> HashMap<PartitionKey, i64> {
    list.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
            _ => None,
        })
        .collect()
}

/// The partition's end offset from the consumer's last fetch response, without a request
/// (librdkafka's `rd_kafka_get_watermark_offsets`, which rust-rdkafka does not expose).
pub fn cached_end<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while `consumer` lives; `topic` is a NUL-terminated
    // string that outlives the call; librdkafka only writes the two out-parameters.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_waits_twenty_times_as_long_as_the_last_one_took() {
        let mut sweeps = Sweeps::new();
        let t0 = Instant::now();
        assert!(sweeps.due(t0, true), "the first sweep is always due");
        assert!(sweeps.due(t0, false), "the first sweep is always due");
        sweeps.done(t0, Duration::from_millis(100));
        assert!(!sweeps.due(t0 + Duration::from_millis(1_999), true));
        assert!(sweeps.due(t0 + Duration::from_secs(2), true));
        // A quick sweep (few partitions) is due again at once when idle, as every idle batch
        // was before; a busy task still waits the busy interval.
        sweeps.done(t0, Duration::ZERO);
        assert!(sweeps.due(t0, true));
        assert!(!sweeps.due(t0 + BUSY_SWEEP_INTERVAL / 2, false));
        assert!(sweeps.due(t0 + BUSY_SWEEP_INTERVAL, false));
    }
}
