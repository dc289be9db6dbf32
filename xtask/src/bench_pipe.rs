//! The pipe limit of `bench replicate`: what the brokers and the machine carry at all. Kafka's
//! own `kafka-consumer-perf-test` reads the benchmark's source topics while
//! `kafka-producer-perf-test` writes an equal volume to a topic of as many partitions on the
//! target, at the same time, with the engine's record size, acks, compression, batching and
//! transactions (one a second, as the engine commits). As the engine writes with one
//! transactional producer per task, so does the pipe: one producer process per task, each
//! writing its share.

use std::fs;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use kafka_harness::process::ChildProcess;
use kafka_harness::runtime::Runtime;
use kafka_harness::{data, Cluster};

use crate::bench_replicate::{Measurement, PARTITIONS, RECORD_BYTES, TOPICS};

/// Heap of each perf-test JVM.
const HEAP_MB: u32 = 512;

/// Reads `records` records from the source's benchmark topics and writes as many to the
/// target at once, with `producers` producers. The seconds are the slowest tool's own measured
/// time (JVM start-up left out); CPU and peak memory add all the tools up.
pub fn pipe_limit(
    source: &Cluster,
    target: &Cluster,
    records: usize,
    producers: usize,
) -> Result<Measurement> {
    let runtime = Runtime::resolve()?;
    let rt = tokio::runtime::Runtime::new()?;
    let out_topic = data::unique_name("pipe.out");
    rt.block_on(data::create_topic(
        &target.admin_config(),
        &out_topic,
        TOPICS as i32 * PARTITIONS,
        1,
        &[],
    ))?;
    let dir = kafka_harness::shared::run_dir().join(data::unique_name("bench-pipe"));
    fs::create_dir_all(&dir)?;
    let count = records.to_string();
    let mut consume = runtime.java_command(HEAP_MB);
    consume.args([
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        &source.bootstrap(),
        "--include",
        "bench\\..*",
        "--num-records",
        &count,
        "--timeout",
        "120000",
        "--group",
        &data::unique_name("pipe"),
        "--command-property",
        "isolation.level=read_committed",
        "fetch.max.bytes=52428800",
        "max.partition.fetch.bytes=1048576",
    ]);
    let producers = producers.max(1);
    let bootstrap = format!("bootstrap.servers={}", target.bootstrap());
    let share = |i: usize| records / producers + usize::from(i < records % producers);
    let produce = |i: usize| {
        let mut produce = runtime.java_command(HEAP_MB);
        produce.args([
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            &out_topic,
            "--num-records",
            &share(i).to_string(),
            "--record-size",
            &RECORD_BYTES.to_string(),
            "--throughput",
            "-1",
            "--transactional-id",
            &data::unique_name("pipe"),
            "--transaction-duration-ms",
            "1000",
            "--producer-props",
            &bootstrap,
            "acks=all",
            "enable.idempotence=true",
            "compression.type=none",
            "linger.ms=5",
            "batch.size=1000000",
        ]);
        produce
    };
    let started = Instant::now();
    let consumer_out = dir.join("consumer.out");
    let mut consumer = ChildProcess::spawn_split(consume, &consumer_out, &dir.join("consumer.err"))
        .context("starting kafka-consumer-perf-test")?;
    consumer.measure();
    let mut running = Vec::new();
    for i in 0..producers {
        let out = dir.join(format!("producer-{i}.out"));
        let mut child =
            ChildProcess::spawn_split(produce(i), &out, &dir.join(format!("producer-{i}.err")))
                .context("starting kafka-producer-perf-test")?;
        child.measure();
        running.push((i, out, child));
    }
    let consumed = consumer.wait_measured()?;
    let (mut cpu_seconds, mut peak_rss_mib) = (consumed.cpu_seconds, consumed.peak_rss_mib);
    let mut producer_seconds: f64 = 0.0;
    let mut failed = !consumed.success;
    for (i, out, mut child) in running {
        let produced = child.wait_measured()?;
        failed |= !produced.success;
        cpu_seconds += produced.cpu_seconds;
        peak_rss_mib += produced.peak_rss_mib;
        if produced.success {
            let seconds = producer_seconds_of(&fs::read_to_string(&out)?, share(i))
                .with_context(|| format!("reading {}", out.display()))?;
            producer_seconds = producer_seconds.max(seconds);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    if failed {
        bail!("a perf-test tool failed; see {}", dir.display());
    }
    let consumer_seconds = consumer_seconds(&fs::read_to_string(&consumer_out)?)
        .with_context(|| format!("reading {}", consumer_out.display()))?;
    println!(
        "  pipe: consumer {consumer_seconds:.1} s, {producers} producer(s) {producer_seconds:.1} s (wall {wall:.1} s with JVM start-up)"
    );
    Ok(Measurement {
        name: format!("pipe limit (perf-test tools, {producers} producers)"),
        seconds: consumer_seconds.max(producer_seconds),
        cpu_seconds,
        peak_rss_mib,
    })
}

/// The consumer's fetch time: records over its `fetch.nMsg.sec` (the group join left out).
/// Its last line is `start.time, end.time, data.consumed.in.MB, MB.sec,
/// data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec,
/// fetch.nMsg.sec`.
fn consumer_seconds(output: &str) -> Option<f64> {
    // The summary is the line of ten fields whose fifth is the record count (the tool's log
    // lines on the same output have commas too).
    let fetch_ms = output.lines().rev().find_map(|l| {
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        if fields.len() != 10 || fields[4].parse::<u64>().is_err() {
            return None;
        }
        fields[7].parse::<f64>().ok()
    })?;
    (fetch_ms > 0.0).then_some(fetch_ms / 1000.0)
}

/// The producer's own time: records over the records/sec of its summary line
/// (`N records sent, R records/sec (M MB/sec), …`).
fn producer_seconds_of(output: &str, records: usize) -> Option<f64> {
    let line = output.lines().rev().find(|l| l.contains("records sent,"))?;
    let rate: f64 = line
        .split("records sent,")
        .nth(1)?
        .split("records/sec")
        .next()?
        .trim()
        .parse()
        .ok()?;
    (rate > 0.0).then(|| records as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_own_times_are_read_from_their_summaries() {
        let consumer = "[2026-12-01 18:00:00,100] INFO ConsumerConfig values: a, b, c, d, e, f, g, h, i, j, k\n\
            start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n\
            2026-12-01 18:00:00:000, 2026-12-01 18:00:12:500, 1024.0000, 81.9200, 1048576, 83886.0800, 2500, 10000, 102.4000, 104857.6000\n\
            [2026-12-01 18:00:12,600] INFO Metrics reporters closed, a, b, c, d, e, f, g, h, i\n";
        assert_eq!(consumer_seconds(consumer), Some(10.0));
        let producer = "500000 records sent, 99990.0 records/sec (97.65 MB/sec), 80.0 ms avg latency, 400.0 ms max latency.\n\
            1048576 records sent, 104857.6 records/sec (102.40 MB/sec), 60.11 ms avg latency, 412.00 ms max latency, 50 ms 50th, 200 ms 95th, 300 ms 99th, 400 ms 99.9th.\n";
        assert_eq!(producer_seconds_of(producer, 1_048_576), Some(10.0));
        assert_eq!(consumer_seconds("no summary"), None);
    }
}
