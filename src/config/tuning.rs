//! The values each tuning setting may take, and why: a value outside them cannot work (a zero
//! interval never ends a wait, a commit interval near the transaction timeout makes the target
//! abort transactions, librdkafka refuses the rest), so `validate` refuses it where it is
//! written. One table, read by `load`.

use std::time::Duration;

use super::section::Bounds;
use super::values::{ByteSize, HumanDuration};

fn duration(min: Duration, max: Duration, why: &str) -> Bounds<HumanDuration> {
    Bounds {
        min: HumanDuration(min),
        max: HumanDuration(max),
        why: why.to_string(),
    }
}

fn size(min: u64, max: u64, why: &str) -> Bounds<ByteSize> {
    Bounds {
        min: ByteSize(min),
        max: ByteSize(max),
        why: why.to_string(),
    }
}

const SECOND: Duration = Duration::from_secs(1);
const DAY: Duration = Duration::from_secs(86_400);
const KIB: u64 = 1 << 10;
const GIB: u64 = 1 << 30;

/// `replication.transaction_timeout`.
pub fn transaction_timeout() -> Bounds<HumanDuration> {
    duration(
        10 * SECOND,
        Duration::from_secs(15 * 60),
        "brokers refuse transaction timeouts above their transaction.max.timeout.ms (15 minutes by default); shorter than 10s aborts transactions a loaded target takes seconds to commit",
    )
}

/// `replication.commit_interval`, which must stay well inside the transaction timeout: a
/// transaction is open for the interval plus the time to deliver and commit its records.
pub fn commit_interval(transaction_timeout: HumanDuration) -> Bounds<HumanDuration> {
    duration(
        Duration::from_millis(10),
        transaction_timeout.0 / 4,
        &format!(
            "a transaction stays open for the commit interval plus the time to deliver and commit it, so the interval may be at most a quarter of replication.transaction_timeout ({transaction_timeout}); raise that to commit less often"
        ),
    )
}

/// `replication.transaction_bytes`.
pub fn transaction_bytes() -> Bounds<ByteSize> {
    size(
        64 * KIB,
        4 * GIB,
        "a task holds a transaction's records in memory until it commits; below 64KiB every record is a transaction of its own",
    )
}

/// `replication.batch_size` (librdkafka's `batch.size`).
pub fn batch_size() -> Bounds<ByteSize> {
    size(KIB, GIB, "the producer's batch.size: from 1KiB to 1GiB")
}

/// `replication.linger` (librdkafka's `linger.ms`, 0 to 900000 ms).
pub fn linger() -> Bounds<HumanDuration> {
    duration(
        Duration::ZERO,
        Duration::from_secs(900),
        "the producer's linger.ms takes 0 to 900000 ms",
    )
}

/// `replication.fetch_max_bytes` (librdkafka's `fetch.max.bytes`).
pub fn fetch_max_bytes() -> Bounds<ByteSize> {
    size(
        KIB,
        GIB,
        "the consumer's fetch.max.bytes: from 1KiB to 1GiB",
    )
}

/// `replication.max_bytes_per_second`.
pub fn max_bytes_per_second() -> Bounds<ByteSize> {
    size(
        KIB,
        1024 * GIB,
        "a rate of zero would never replicate anything; leave the setting out for no limit",
    )
}

/// Intervals of periodic work while `apply` runs (`refresh_interval`, `sync_interval`) and the
/// quiet period of `verify`.
pub fn interval() -> Bounds<HumanDuration> {
    duration(
        SECOND,
        DAY,
        "an interval of zero would repeat the work without pause; use at least 1s",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_interval_stays_a_quarter_of_the_transaction_timeout() {
        let b = commit_interval(HumanDuration(Duration::from_secs(60)));
        assert_eq!(b.max.0, Duration::from_secs(15));
        assert!(b.why.contains("60s") || b.why.contains("1m"), "{}", b.why);
        assert!(
            transaction_timeout().min.0 >= 4 * commit_interval(transaction_timeout().min).min.0
        );
    }

    #[test]
    fn no_bound_lets_zero_through_where_zero_cannot_work() {
        for b in [
            transaction_timeout(),
            commit_interval(HumanDuration(Duration::from_secs(60))),
            interval(),
        ] {
            assert!(b.min.0 > Duration::ZERO);
        }
        for b in [
            transaction_bytes(),
            batch_size(),
            fetch_max_bytes(),
            max_bytes_per_second(),
        ] {
            assert!(b.min.0 > 0);
        }
    }
}
