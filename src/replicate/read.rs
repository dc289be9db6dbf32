//! Reading topics whole and probing partitions with read_committed consumers: the engine's
//! progress, the Connect worker's offsets, and whether committed records follow an offset.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

/// Reads every record of `topic` from its start to its end, handing each offset, key and value
/// to `on_record`. A topic that does not exist reads as empty. `timeout` bounds each request and
/// each wait for records.
pub fn read_topic<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    timeout: Duration,
    mut on_record: impl FnMut(i64, Option<&[u8]>, Option<&[u8]>),
) -> Result<(), String> {
    let err = |e: KafkaError| format!("reading {topic}: {e}");
    let partitions = partitions_of(consumer, topic, timeout).map_err(err)?;
    let mut tpl = TopicPartitionList::new();
    let mut remaining = 0;
    for p in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *p, timeout).map_err(err)?;
        if high > low {
            tpl.add_partition_offset(topic, *p, Offset::Beginning)
                .map_err(err)?;
            remaining += 1;
        }
    }
    if remaining == 0 {
        return Ok(());
    }
    consumer.assign(&tpl).map_err(err)?;
    // One topic: a partition's end is told by its number alone.
    while remaining > 0 {
        match consumer.poll(timeout) {
            None => return Err(format!("no answer reading {topic}")),
            Some(Err(KafkaError::PartitionEOF(_))) => remaining -= 1,
            Some(Err(e)) => return Err(err(e)),
            Some(Ok(m)) => on_record(m.offset(), m.key(), m.payload()),
        }
    }
    Ok(())
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

/// Whether a read_committed reader finds a record at or after `from` (errors count as yes,
/// so that doubt never passes for "nothing more").
pub fn has_committed_records<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
    from: i64,
) -> bool {
    let mut tpl = TopicPartitionList::new();
    if tpl
        .add_partition_offset(topic, partition, Offset::Offset(from))
        .is_err()
        || consumer.assign(&tpl).is_err()
    {
        return true;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => return false,
            Some(_) => return true,
        }
    }
    true
}
