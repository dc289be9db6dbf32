//! Record sizes: the engine's clients sized from the selected topics' record size limits
//! (librdkafka's defaults would refuse records over 1,000,000 bytes the target accepts), and
//! the size of a record as the target will measure it.

use std::collections::BTreeMap;

use crate::plan::RecordLimits;

/// Bytes of a record batch (format v2) before its first record.
pub const BATCH_HEADER: u64 = 61;
/// What librdkafka adds to a record's key, value and headers when it checks the record against
/// `message.max.bytes` (a batch header and the largest record framing), with room to spare.
const PRODUCER_MARGIN: u64 = 512;
/// librdkafka's defaults and bounds.
const LIBRDKAFKA_MESSAGE_MAX: u64 = 1_000_000;
const LIBRDKAFKA_MESSAGE_MAX_CAP: u64 = 1_000_000_000;
const LIBRDKAFKA_RECEIVE_MAX: u64 = 100_000_000;
const LIBRDKAFKA_RECEIVE_MAX_CAP: u64 = i32::MAX as u64;
/// librdkafka wants `receive.message.max.bytes` at least this much above `fetch.max.bytes`.
const RECEIVE_OVERHEAD: u64 = 512;
/// Kafka's default `max.partition.fetch.bytes`.
const PARTITION_FETCH_DEFAULT: u64 = 1 << 20;

/// librdkafka properties to set, in order.
type Properties = Vec<(String, String)>;

/// Producer and consumer properties that let every record the target topics accept through,
/// given the configured `producer` and `consumer` tuning (`batch.size`, `fetch.max.bytes`).
/// Memory stays bounded: the consumer's queue (`queued.max.messages.kbytes`) is left as it is,
/// librdkafka lets one fetch overshoot it.
pub fn tuning(
    limits: &RecordLimits,
    producer: &BTreeMap<String, String>,
    consumer: &BTreeMap<String, String>,
) -> (Properties, Properties) {
    let number = |map: &BTreeMap<String, String>, key: &str| -> Option<u64> {
        map.get(key).and_then(|v| v.parse().ok())
    };
    let mut produce = Vec::new();
    if let Some(target_max) = limits.target_max() {
        let request_cap = limits
            .target_request_max
            .unwrap_or(LIBRDKAFKA_MESSAGE_MAX_CAP)
            .clamp(LIBRDKAFKA_MESSAGE_MAX, LIBRDKAFKA_MESSAGE_MAX_CAP);
        let message_max = (target_max + PRODUCER_MARGIN).clamp(LIBRDKAFKA_MESSAGE_MAX, request_cap);
        produce.push(("message.max.bytes".to_string(), message_max.to_string()));
    }
    // A batch of several records must fit the smallest limit of the topics written: librdkafka
    // does not split a batch the broker refuses. (One record larger than batch.size still goes
    // alone in its own batch.)
    if let (Some(min), Some(batch)) = (limits.target_min(), number(producer, "batch.size")) {
        if batch > min {
            produce.push(("batch.size".to_string(), min.to_string()));
        }
    }
    let mut consume = Vec::new();
    if let Some(source_max) = limits.source_max {
        let partition = source_max.max(PARTITION_FETCH_DEFAULT);
        let fetch = number(consumer, "fetch.max.bytes")
            .unwrap_or(0)
            .max(partition);
        let receive =
            (fetch + RECEIVE_OVERHEAD).clamp(LIBRDKAFKA_RECEIVE_MAX, LIBRDKAFKA_RECEIVE_MAX_CAP);
        consume.push((
            "max.partition.fetch.bytes".to_string(),
            partition.to_string(),
        ));
        consume.push(("fetch.max.bytes".to_string(), fetch.to_string()));
        consume.push(("receive.message.max.bytes".to_string(), receive.to_string()));
    }
    (produce, consume)
}

/// The size of the smallest record batch holding this one record, uncompressed: what a topic's
/// `max.message.bytes` is checked against.
pub fn batch_size<'a>(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: impl IntoIterator<Item = (&'a str, Option<&'a [u8]>)>,
) -> u64 {
    let bytes =
        |b: Option<&[u8]>| b.map_or(varint(-1), |b| varint(b.len() as i64) + b.len() as u64);
    let (mut count, mut header_bytes) = (0, 0);
    for (k, v) in headers {
        count += 1;
        header_bytes += bytes(Some(k.as_bytes())) + bytes(v);
    }
    let body = 1 // attributes
        + varint(0) // timestamp delta
        + varint(0) // offset delta
        + bytes(key)
        + bytes(value)
        + varint(count)
        + header_bytes;
    BATCH_HEADER + varint(body as i64) + body
}

/// [`batch_size`] of a record read from the source.
pub fn message_batch_size(m: &rdkafka::message::BorrowedMessage<'_>) -> u64 {
    use rdkafka::message::{Headers, Message};
    let headers = m.headers();
    let headers = headers
        .iter()
        .flat_map(|hs| hs.iter().map(|h| (h.key, h.value)));
    batch_size(m.key(), m.payload(), headers)
}

/// Length of a zig-zag varint.
fn varint(n: i64) -> u64 {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    let mut len = 1;
    while z >= 0x80 {
        z >>= 7;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(target: &[(&str, u64)], source_max: u64) -> RecordLimits {
        RecordLimits {
            target: target.iter().map(|(t, l)| (t.to_string(), *l)).collect(),
            source_max: Some(source_max),
            target_request_max: Some(104_857_600),
        }
    }

    fn map(items: &[(&str, &str)]) -> BTreeMap<String, String> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn clients_follow_the_largest_limits_and_batches_the_smallest() {
        let (producer, consumer) = tuning(
            &limits(&[("big", 8 << 20), ("small", 500_000)], 8 << 20),
            &map(&[("batch.size", "1048576")]),
            &map(&[("fetch.max.bytes", "52428800")]),
        );
        assert_eq!(
            producer,
            vec![
                ("message.max.bytes".into(), ((8 << 20) + 512).to_string()),
                ("batch.size".into(), "500000".into()),
            ]
        );
        assert_eq!(
            consumer,
            vec![
                ("max.partition.fetch.bytes".into(), (8u64 << 20).to_string()),
                ("fetch.max.bytes".into(), "52428800".into()),
                ("receive.message.max.bytes".into(), "100000000".into()),
            ]
        );
    }

    #[test]
    fn limits_stay_within_librdkafkas_bounds() {
        // Kafka's default limit needs no more than librdkafka's default; a limit beyond the
        // brokers' largest request is capped there, and fetches above librdkafka's receive
        // limit raise it by the 512 bytes it asks for.
        let (producer, _) = tuning(
            &limits(&[("t", 1_048_588)], 1_048_588),
            &map(&[]),
            &map(&[]),
        );
        assert_eq!(producer[0].1, "1049100");
        let (producer, consumer) = tuning(
            &limits(&[("t", 500 << 20)], 150_000_000),
            &map(&[]),
            &map(&[("fetch.max.bytes", "1000")]),
        );
        assert_eq!(producer[0].1, "104857600");
        assert_eq!(consumer[1].1, "150000000");
        assert_eq!(consumer[2].1, "150000512");
    }

    #[test]
    fn a_batch_of_one_record_is_measured_as_kafka_writes_it() {
        // Header 61 bytes; a record of 1 + 1 + 1 + (1 + 3) + (1 + 5) + 1 = 14 bytes, plus its
        // own length (1 byte).
        assert_eq!(batch_size(Some(b"key"), Some(b"value"), []), 61 + 1 + 14);
        // A null key or value is a length of -1 (one byte), nothing more.
        assert_eq!(batch_size(None, None, []), 61 + 1 + 6);
        let big = vec![0u8; 1_200_000];
        let size = batch_size(None, Some(&big), [("h", Some(&b"v"[..]))]);
        assert!(size > 1_200_000 && size < 1_200_000 + 100, "{size}");
    }
}
