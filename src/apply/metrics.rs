//! `apply --metrics-addr HOST:PORT`: Prometheus metrics of a running apply, served at
//! `http://HOST:PORT/metrics`. Without the flag no recorder is installed and every update
//! here costs nothing.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use miette::miette;

pub const RECORDS: &str = "kafka_migrate_records_replicated_total";
pub const BYTES: &str = "kafka_migrate_bytes_replicated_total";
pub const LAG: &str = "kafka_migrate_lag_records";
pub const COMMIT: &str = "kafka_migrate_commit_seconds";
pub const ERRORS: &str = "kafka_migrate_errors_total";
pub const GROUP_SYNCS: &str = "kafka_migrate_group_sync_rounds_total";
pub const GROUPS_SYNCED: &str = "kafka_migrate_groups_synced";

/// The label every series carries: the migration's name, so that two migrations scraped by
/// one Prometheus are two series.
pub const MIGRATION: &str = "migration";
const TOPIC: &str = "topic";
const PARTITION: &str = "partition";
const KIND: &str = "kind";
const RESULT: &str = "result";

/// What sort of metric.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Served as `_bucket` (with `le`), `_sum` and `_count`.
    Histogram,
}

/// Every metric served: name, labels (besides [`MIGRATION`], which all carry), kind and help. `describe` registers them from here, and
/// the test of `dashboards/kafka-migrate.json` checks its queries against it.
pub const SERVED: [(&str, &[&str], Kind, &str); 7] = [
    (
        RECORDS,
        &[TOPIC],
        Kind::Counter,
        "Records replicated to the target, by topic.",
    ),
    (
        BYTES,
        &[TOPIC],
        Kind::Counter,
        "Key and value bytes replicated, by topic.",
    ),
    (
        LAG,
        &[TOPIC, PARTITION],
        Kind::Gauge,
        "Records on the source not yet committed on the target, by topic and partition.",
    ),
    (
        COMMIT,
        &[],
        Kind::Histogram,
        "Time to deliver and commit one task's batch.",
    ),
    (
        ERRORS,
        &[KIND],
        Kind::Counter,
        "Replication errors: retriable ones restart the tasks, a fatal one ends the run.",
    ),
    (
        GROUP_SYNCS,
        &[RESULT],
        Kind::Counter,
        "Rounds of consumer group offset sync, by result (ok or failed).",
    ),
    (
        GROUPS_SYNCED,
        &[],
        Kind::Gauge,
        "Consumer groups whose offsets the last successful sync round translated.",
    ),
];

/// Commit latency buckets (seconds).
const COMMIT_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Starts serving the metrics of `migration` on `addr`; must run inside the tokio runtime.
/// The counters of errors and sync rounds are served from the start, at 0, so that an alert
/// on their increase has a series to watch before the first one.
pub fn serve(addr: SocketAddr, migration: &str) -> miette::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .add_global_label(MIGRATION, migration)
        .set_buckets_for_metric(Matcher::Full(COMMIT.to_string()), &COMMIT_BUCKETS)
        .and_then(|b| b.install())
        .map_err(|e| {
            miette!(
                help = "pick a free port, such as --metrics-addr 127.0.0.1:9464",
                "cannot serve metrics on {addr}: {e}"
            )
        })?;
    describe();
    for kind in ["retriable", "fatal"] {
        counter!(ERRORS, KIND => kind).absolute(0);
    }
    for result in ["ok", "failed"] {
        counter!(GROUP_SYNCS, RESULT => result).absolute(0);
    }
    Ok(())
}

fn describe() {
    for (name, _, kind, help) in SERVED {
        match kind {
            Kind::Counter => metrics::describe_counter!(name, help),
            Kind::Gauge => metrics::describe_gauge!(name, help),
            Kind::Histogram => metrics::describe_histogram!(name, help),
        }
    }
}

pub fn replicated(topic: &str, records: u64, bytes: u64) {
    counter!(RECORDS, TOPIC => topic.to_string()).increment(records);
    counter!(BYTES, TOPIC => topic.to_string()).increment(bytes);
}

pub fn lag(topic: &str, partition: i32, lag: i64) {
    gauge!(LAG, TOPIC => topic.to_string(), PARTITION => partition.to_string()).set(lag as f64);
}

pub fn commit(took: Duration) {
    histogram!(COMMIT).record(took.as_secs_f64());
}

pub fn error(retriable: bool) {
    let kind = if retriable { "retriable" } else { "fatal" };
    counter!(ERRORS, KIND => kind).increment(1);
}

/// A round of group offset sync: the groups it synced, or None when it failed.
pub fn group_sync(synced: Option<usize>) {
    let result = if synced.is_some() { "ok" } else { "failed" };
    counter!(GROUP_SYNCS, RESULT => result).increment(1);
    if let Some(groups) = synced {
        gauge!(GROUPS_SYNCED).set(groups as f64);
    }
}

#[cfg(test)]
mod dashboard;
