//! The engine's memory: librdkafka's consumer prefetch and producer queue sized from the bytes
//! in flight (`fetch_max_bytes`, `transaction_bytes`) and the task count, never from the
//! partition count.
//!
//! librdkafka (2.x) stops fetching a partition while the queue it delivers into holds
//! `queued.max.messages.kbytes` (×1000 bytes) or `queued.min.messages` messages. A task reads
//! by assignment through one consumer queue that every partition's fetch queue forwards to,
//! so both thresholds count the task's whole queue, not each partition's. One fetch response
//! in flight per source broker can add up to `fetch.max.bytes` on top. The producer holds at
//! most `queue.buffering.max.kbytes` (×1024 bytes) and `queue.buffering.max.messages` of
//! records not yet acknowledged, shared by all partitions; a send beyond waits for room.
//!
//! Per task, with `T` tasks:
//!
//! ```text
//! C = max(fetch_max_bytes / T, 2 MiB)              the task's share of fetch_max_bytes
//! fetch.max.bytes             = C / 2              one fetch response
//! queued.max.messages.kbytes  = C / 2 / 1000       prefetched, waiting to be sent
//! P = max(min(transaction_bytes, C / 2), largest record)
//! queue.buffering.max.kbytes  = P / 1024           sent, not yet acknowledged
//! ```
//!
//! Records in flight per task: at most `C / 2 × (1 + source brokers) + P`; over all tasks, with
//! one source broker, about `fetch_max_bytes + T × min(transaction_bytes, C / 2)`. A
//! transaction can still carry `transaction_bytes`: what the target has acknowledged is not
//! held.

use std::collections::BTreeMap;

const MIB: u64 = 1 << 20;
/// A task's share of `fetch_max_bytes` at least: two fetches of 1 MiB (librdkafka wants
/// `fetch.max.bytes` at least the consumer's `message.max.bytes`, 1,000,000).
const MIN_SHARE: u64 = 2 * MIB;
/// Bytes per queued record assumed for the message-count thresholds: librdkafka keeps about
/// 250 bytes of its own per record, so tiny records are bounded by count instead.
const COUNTED_RECORD: u64 = 256;
/// Fewest records the count thresholds allow.
const MIN_COUNT: u64 = 1_000;
/// How long a partition whose task's queue was full waits before it is fetched again, at
/// least (librdkafka's `fetch.queue.backoff.ms`, 1000 by default: far too long once the queue
/// is small, it would stall the task for most of a second each time).
const FETCH_QUEUE_BACKOFF_MS: u64 = 10;
/// ... and at most.
const MAX_FETCH_QUEUE_BACKOFF_MS: u64 = 500;
/// Partitions of a task per millisecond of backoff: each time a backoff ends, librdkafka's
/// fetcher decides again for every partition of the consumer (a lock and a few checks each,
/// a fraction of a microsecond), so with a full queue a fixed backoff costs CPU in proportion
/// to the partitions. One millisecond per 50 partitions keeps those passes near 1% of the
/// fetcher's time, and the backoff well below the time a task takes to send a full queue.
const PARTITIONS_PER_BACKOFF_MS: u64 = 50;
/// librdkafka's default producer `message.max.bytes`.
const PRODUCER_MESSAGE_MAX: u64 = 1_000_000;

/// Consumer and producer properties bounding one task's memory, for `tasks` tasks.
pub fn tuning(
    tasks: usize,
    fetch_max_bytes: u64,
    transaction_bytes: u64,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let share = (fetch_max_bytes / tasks.max(1) as u64).max(MIN_SHARE);
    let fetch = share / 2;
    let consumer = [
        ("fetch.max.bytes", fetch),
        ("queued.max.messages.kbytes", fetch / 1000),
        ("queued.min.messages", count(fetch)),
        ("max.partition.fetch.bytes", fetch.min(MIB)),
        ("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS),
    ];
    let producer = producer_queue(transaction_bytes.min(fetch), PRODUCER_MESSAGE_MAX);
    (properties(&producer), properties(&consumer))
}

/// The consumer's `fetch.queue.backoff.ms` for a task reading `partitions` partitions: 10 ms
/// up to 500 partitions, then growing with them (see [`PARTITIONS_PER_BACKOFF_MS`]) up to
/// 500 ms.
pub fn fetch_queue_backoff_ms(partitions: usize) -> u64 {
    (partitions as u64 / PARTITIONS_PER_BACKOFF_MS)
        .clamp(FETCH_QUEUE_BACKOFF_MS, MAX_FETCH_QUEUE_BACKOFF_MS)
}

/// The producer's queue bounds for `bytes` in flight, at least room for one record of
/// `message_max` bytes (librdkafka refuses a record larger than the whole queue for ever).
pub fn producer_queue(bytes: u64, message_max: u64) -> [(&'static str, u64); 2] {
    let bytes = bytes.max(message_max + 1024);
    [
        ("queue.buffering.max.kbytes", bytes.div_ceil(1024)),
        ("queue.buffering.max.messages", count(bytes)),
    ]
}

/// The producer's queue of `producer` tuning made room for its `message.max.bytes` (set for
/// topics whose records may be larger than librdkafka's default).
pub fn fit_largest_record(producer: &mut BTreeMap<String, String>) {
    let number = |key: &str| producer.get(key).and_then(|v| v.parse::<u64>().ok());
    let (Some(kbytes), Some(message_max)) = (
        number("queue.buffering.max.kbytes"),
        number("message.max.bytes"),
    ) else {
        return;
    };
    let fitted = properties(&producer_queue(kbytes * 1024, message_max));
    producer.extend(fitted);
}

fn count(bytes: u64) -> u64 {
    (bytes / COUNTED_RECORD).max(MIN_COUNT)
}

fn properties(pairs: &[(&str, u64)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(map: &BTreeMap<String, String>, key: &str) -> u64 {
        map[key].parse().unwrap()
    }

    #[test]
    fn memory_follows_the_budget_and_the_task_count_not_the_partitions() {
        // The defaults: 50 MiB of fetches over 4 tasks, 48 MiB transactions.
        let (producer, consumer) = tuning(4, 50 * MIB, 48 * MIB);
        let share = 50 * MIB / 4;
        assert_eq!(get(&consumer, "fetch.max.bytes"), share / 2);
        assert_eq!(
            get(&consumer, "queued.max.messages.kbytes"),
            share / 2 / 1000
        );
        assert_eq!(get(&consumer, "max.partition.fetch.bytes"), MIB);
        assert_eq!(get(&consumer, "fetch.queue.backoff.ms"), 10);
        // The producer holds no more than one fetch's worth unacknowledged.
        assert_eq!(
            get(&producer, "queue.buffering.max.kbytes"),
            (share / 2).div_ceil(1024)
        );
        assert_eq!(
            get(&producer, "queue.buffering.max.messages"),
            share / 2 / 256
        );
        // Twice the tasks: each gets half, the total stays.
        let (_, halved) = tuning(8, 50 * MIB, 48 * MIB);
        assert_eq!(get(&halved, "fetch.max.bytes"), share / 4);
    }

    #[test]
    fn the_fetch_backoff_grows_with_a_tasks_partitions_within_bounds() {
        assert_eq!(fetch_queue_backoff_ms(1), 10);
        assert_eq!(fetch_queue_backoff_ms(500), 10);
        assert_eq!(fetch_queue_backoff_ms(2_500), 50);
        assert_eq!(fetch_queue_backoff_ms(100_000), 500);
    }

    #[test]
    fn small_budgets_keep_what_librdkafka_needs() {
        // Tiny fetch budgets and transactions: still a 1 MiB fetch (librdkafka refuses a
        // fetch.max.bytes below the consumer's message.max.bytes) and room for a whole record.
        let (producer, consumer) = tuning(64, 4 * MIB, 64 * 1024);
        assert_eq!(get(&consumer, "fetch.max.bytes"), MIB);
        assert!(get(&consumer, "fetch.max.bytes") >= 1_000_000);
        assert_eq!(get(&consumer, "queued.min.messages"), 4_096);
        assert!(get(&producer, "queue.buffering.max.kbytes") * 1024 > PRODUCER_MESSAGE_MAX);
        assert_eq!(get(&producer, "queue.buffering.max.messages"), 3_910);
    }

    #[test]
    fn the_producer_queue_grows_to_the_largest_record() {
        let (mut producer, _) = tuning(4, 50 * MIB, 48 * MIB);
        let before = get(&producer, "queue.buffering.max.kbytes");
        fit_largest_record(&mut producer);
        assert_eq!(get(&producer, "queue.buffering.max.kbytes"), before);
        producer.insert("message.max.bytes".into(), (64 * MIB).to_string());
        fit_largest_record(&mut producer);
        assert_eq!(get(&producer, "queue.buffering.max.kbytes"), 64 * 1024 + 1);
    }
}
