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

/// Commit latency buckets (seconds).
const COMMIT_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Starts serving metrics on `addr`; must run inside the tokio runtime.
pub fn serve(addr: SocketAddr) -> miette::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(Matcher::Full(COMMIT.to_string()), &COMMIT_BUCKETS)
        .and_then(|b| b.install())
        .map_err(|e| {
            miette!(
                help = "pick a free port, such as --metrics-addr 127.0.0.1:9464",
                "cannot serve metrics on {addr}: {e}"
            )
        })?;
    describe();
    Ok(())
}

fn describe() {
    metrics::describe_counter!(RECORDS, "Records replicated to the target, by topic.");
    metrics::describe_counter!(BYTES, "Key and value bytes replicated, by topic.");
    metrics::describe_gauge!(
        LAG,
        "Records on the source not yet committed on the target, by topic and partition."
    );
    metrics::describe_histogram!(COMMIT, "Time to deliver and commit one task's batch.");
    metrics::describe_counter!(
        ERRORS,
        "Replication errors: retriable ones restart the tasks, a fatal one ends the run."
    );
}

pub fn replicated(topic: &str, records: u64, bytes: u64) {
    counter!(RECORDS, "topic" => topic.to_string()).increment(records);
    counter!(BYTES, "topic" => topic.to_string()).increment(bytes);
}

pub fn lag(topic: &str, partition: i32, lag: i64) {
    gauge!(LAG, "topic" => topic.to_string(), "partition" => partition.to_string()).set(lag as f64);
}

pub fn commit(took: Duration) {
    histogram!(COMMIT).record(took.as_secs_f64());
}

pub fn error(retriable: bool) {
    let kind = if retriable { "retriable" } else { "fatal" };
    counter!(ERRORS, "kind" => kind).increment(1);
}
