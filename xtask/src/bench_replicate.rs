//! `bench replicate`: kafka-migrate's engine against the pipe limit (Kafka's perf-test tools
//! reading the source and writing the target at once, see `bench_pipe`) and MirrorMaker 2 on
//! the same brokers and the same data, in one run. MirrorMaker 2 runs at-least-once with each
//! heap of `--heaps` (the fair heap is the smallest within 10% of the best throughput), then
//! with exactly-once (`exactly.once.source.support`) at the fair heap. Prints records/s,
//! MB/s, CPU seconds and peak RSS of each, and the ratios. Figures, not assertions: run it
//! on a quiet machine, in release mode.
//!
//! ```text
//! cargo run --release -p xtask -- bench replicate [--mib 1024] [--tasks 2] [--heaps 2048,1024,512,256]
//! ```

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kafka_harness::connect::MirrorMaker;
use kafka_harness::process::ChildProcess;
use kafka_harness::{data, Cluster, ClusterSpec, Flavour};
use kafka_migrate::config::names::progress_topic;
use kafka_migrate::replicate::{self, Delivery, Settings};
use kafka_migrate::state::Store;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

pub(crate) const TOPICS: usize = 10;
pub(crate) const PARTITIONS: i32 = 6;
pub(crate) const RECORD_BYTES: usize = 1024;

pub(crate) struct Measurement {
    pub(crate) name: String,
    pub(crate) seconds: f64,
    pub(crate) cpu_seconds: f64,
    pub(crate) peak_rss_mib: f64,
}

/// MirrorMaker 2's delivery in a run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mm2Delivery {
    AtLeastOnce,
    ExactlyOnce,
}

/// The benchmark's source and target clusters and topic names.
pub(crate) fn clusters() -> Result<(Cluster, Cluster, Vec<String>)> {
    let source = Cluster::start(big(ClusterSpec::new("bench-source", Flavour::Plain)))?;
    let target = Cluster::start(big(ClusterSpec::new("bench-target", Flavour::Plain)))?;
    let topics = (0..TOPICS).map(|i| format!("bench.topic-{i}")).collect();
    Ok((source, target, topics))
}

/// Creates the benchmark topics on `cluster`, and on a target the migration's progress topic
/// (as apply does).
pub(crate) async fn create_topics(
    cluster: &Cluster,
    topics: &[String],
    target: bool,
) -> Result<()> {
    for t in topics {
        data::create_topic(&cluster.admin_config(), t, PARTITIONS, 1, &[]).await?;
    }
    if target {
        data::create_topic(
            &cluster.admin_config(),
            &progress_topic("bench"),
            1,
            1,
            &[("cleanup.policy", "compact")],
        )
        .await?;
    }
    Ok(())
}

/// The benchmark's clusters with `mib` MiB of records loaded into the source topics: the
/// record count, both clusters, the topic names and a runtime.
pub(crate) fn loaded_source(
    mib: usize,
) -> Result<(
    usize,
    Cluster,
    Cluster,
    Vec<String>,
    tokio::runtime::Runtime,
)> {
    let records = mib * 1024 * 1024 / RECORD_BYTES;
    let (source, target, topics, rt) = loaded_records(records)?;
    Ok((records, source, target, topics, rt))
}

fn loaded_records(
    records: usize,
) -> Result<(Cluster, Cluster, Vec<String>, tokio::runtime::Runtime)> {
    let (source, target, topics) = clusters()?;
    let rt = tokio::runtime::Runtime::new()?;
    println!(
        "Loading {records} records of {RECORD_BYTES} B ({} MiB) into {TOPICS} topics × {PARTITIONS} partitions …",
        records * RECORD_BYTES / (1024 * 1024)
    );
    rt.block_on(create_topics(&source, &topics, false))?;
    load(&source, &topics, records)?;
    Ok((source, target, topics, rt))
}

/// [`loaded_records`], then replicated to the target by the engine (2 tasks).
pub(crate) fn replicated(
    records: usize,
) -> Result<(Cluster, Cluster, Vec<String>, tokio::runtime::Runtime)> {
    let (source, target, topics, rt) = loaded_records(records)?;
    rt.block_on(create_topics(&target, &topics, true))?;
    println!("Replicating them …");
    let m = measure("kafka-migrate", engine_command(&source, &target, 2))?;
    println!(
        "  kafka-migrate: {:.0} records/s, {:.1} CPU s, {:.1} MiB peak RSS",
        records as f64 / m.seconds,
        m.cpu_seconds,
        m.peak_rss_mib
    );
    Ok((source, target, topics, rt))
}

pub fn run(args: &[String]) -> Result<i32> {
    let mib: usize = flag(args, "--mib").unwrap_or(1024);
    let tasks: usize = flag(args, "--tasks").unwrap_or(2);
    let heaps: Vec<u32> = list_flag(args, "--heaps", "2048,1024,512,256")?;
    let (records, source, target, topics, rt) = loaded_source(mib)?;

    println!(
        "Measuring the pipe limit (perf-test consumer on the source, producer on the target) …"
    );
    let pipe = crate::bench_pipe::pipe_limit(&source, &target, records, tasks)?;

    // kafka-migrate: topics exist on the target first (as apply creates them).
    rt.block_on(create_topics(&target, &topics, true))?;
    println!("Running kafka-migrate ({tasks} tasks, exactly-once) …");
    let ours = measure(
        "kafka-migrate (exactly-once)",
        engine_command(&source, &target, tasks),
    )?;
    check_count(&target, &topics, records, true)?;

    let mut runs = 0;
    let mut mm2 = |heap: u32, delivery: Mm2Delivery| -> Result<Measurement> {
        runs += 1;
        println!("Deleting the target topics, then running MirrorMaker 2 ({tasks} tasks, {heap} MiB heap) …");
        rt.block_on(delete_topics(&target, &topics))?;
        mirror_maker(
            &source, &target, tasks, &topics, records, heap, delivery, runs,
        )
    };
    let mut at_least_once = Vec::new();
    for heap in heaps {
        // A heap too small is a result too: MirrorMaker 2 runs out of memory and exits.
        match mm2(heap, Mm2Delivery::AtLeastOnce) {
            Ok(m) => at_least_once.push(m),
            Err(e) => println!("  MirrorMaker 2 with a {heap} MiB heap failed: {e:#}"),
        }
    }
    if at_least_once.is_empty() {
        bail!("MirrorMaker 2 failed with every heap");
    }
    let best = at_least_once
        .iter()
        .map(|m| m.seconds)
        .fold(f64::INFINITY, f64::min);
    // The smallest heap (the list goes down) that is not more than 10% slower than the best.
    let fair = at_least_once
        .iter()
        .rposition(|m| m.seconds <= best * 1.1)
        .unwrap_or(0);
    let fair_heap = heap_of(&at_least_once[fair].name);
    let exactly_once = mm2(fair_heap, Mm2Delivery::ExactlyOnce)?;

    println!("\nMirrorMaker 2 at-least-once by heap:");
    report(records, mib, &at_least_once);
    println!("\nFair heap: {fair_heap} MiB (the smallest within 10% of the best throughput).");
    let fair_run = at_least_once.swap_remove(fair);
    let all = [pipe, ours, fair_run, exactly_once];
    report(records, mib, &all);
    ratios(&all);
    Ok(0)
}

/// The heap of a MirrorMaker 2 measurement, from its name.
fn heap_of(name: &str) -> u32 {
    name.split(", ")
        .nth(1)
        .and_then(|h| h.split(' ').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or(2048)
}

pub(crate) fn big(spec: ClusterSpec) -> ClusterSpec {
    let mut spec = spec;
    spec.heap_mb = 1024;
    spec
}

pub(crate) fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// A comma-separated list given after `name`, or `default`.
pub(crate) fn list_flag<T: std::str::FromStr>(
    args: &[String],
    name: &str,
    default: &str,
) -> Result<Vec<T>> {
    flag::<String>(args, name)
        .unwrap_or_else(|| default.into())
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{name}: {v:?} is not a number"))
        })
        .collect()
}

pub(crate) fn load(source: &Cluster, topics: &[String], records: usize) -> Result<()> {
    let producer: BaseProducer = source
        .admin_config()
        .set("linger.ms", "20")
        .set("batch.size", "1000000")
        .set("acks", "1")
        .set("queue.buffering.max.messages", "500000")
        .create()?;
    let value: Vec<u8> = (0..RECORD_BYTES).map(|i| (i % 251) as u8).collect();
    for i in 0..records {
        let topic = &topics[i % topics.len()];
        let key = format!("key-{i}");
        send_waiting(
            &producer,
            BaseRecord::to(topic).key(&key).payload(&value[..]),
        );
    }
    producer.flush(Duration::from_secs(300))?;
    Ok(())
}

/// Sends `record`, waiting for room while the producer's queue is full.
pub(crate) fn send_waiting(producer: &BaseProducer, mut record: BaseRecord<'_, String, [u8]>) {
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((_, back)) => {
                record = back;
                producer.poll(Duration::from_millis(10));
            }
        }
    }
}

async fn delete_topics(target: &Cluster, topics: &[String]) -> Result<()> {
    let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
        target.admin_config().create()?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    admin
        .delete_topics(&names, &rdkafka::admin::AdminOptions::new())
        .await?;
    // Wait until the metadata no longer lists them.
    let consumer: BaseConsumer = target.admin_config().create()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let md = consumer.fetch_metadata(None, Duration::from_secs(10))?;
        if !md
            .topics()
            .iter()
            .any(|t| topics.iter().any(|n| n == t.name()))
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("target topics were not deleted in 120s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Records on the target (sum of high watermarks; with exactly-once, transaction markers
/// count too, so `at_least` allows more).
fn target_records(target: &Cluster, topics: &[String]) -> Result<usize> {
    let consumer: BaseConsumer = target.admin_config().create()?;
    let mut total = 0;
    for t in topics {
        for p in 0..PARTITIONS {
            match consumer.fetch_watermarks(t, p, Duration::from_secs(10)) {
                Ok((_, high)) => total += high as usize,
                Err(_) => return Ok(0),
            }
        }
    }
    Ok(total)
}

fn check_count(target: &Cluster, topics: &[String], records: usize, at_least: bool) -> Result<()> {
    let found = target_records(target, topics)?;
    if found < records || (!at_least && found != records) {
        bail!("the target has {found} offsets, expected {records}");
    }
    Ok(())
}

pub(crate) fn engine_command(source: &Cluster, target: &Cluster, tasks: usize) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap_or_else(|_| "xtask".into()));
    cmd.args([
        "engine",
        &source.bootstrap(),
        &target.bootstrap(),
        &tasks.to_string(),
    ]);
    cmd
}

/// The engine child: replicates every `bench.*` partition until synced, then exits.
pub fn engine_child(args: &[String]) -> Result<i32> {
    let [source, target, tasks] = args else {
        bail!("usage: xtask engine SOURCE TARGET TASKS");
    };
    let props = |bootstrap: &str| {
        BTreeMap::from([("bootstrap.servers".to_string(), bootstrap.to_string())])
    };
    let tuning = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    // The engine's own memory bounds for the defaults (fetch_max_bytes 50 MiB, transaction_bytes
    // 48 MiB).
    let (queue, prefetch) = replicate::memory::tuning(tasks.parse()?, 50 << 20, 48 << 20);
    let settings = Settings {
        migration: "bench".into(),
        store: Store::new("bench", props(target)),
        source: props(source),
        target: props(target),
        source_names: Default::default(),
        target_names: Default::default(),
        tasks: tasks.parse()?,
        delivery: Delivery::ExactlyOnce,
        commit_interval: Duration::from_secs(1),
        max_batch_records: 100_000,
        max_batch_bytes: 48 << 20,
        transaction_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(30),
        until_synced: true,
        producer_tuning: tuning(&[("linger.ms", "5"), ("batch.size", "1000000")])
            .into_iter()
            .chain(queue)
            .collect(),
        consumer_tuning: prefetch,
        throttle: None,
        max_retries: 6,
        record_limits: BTreeMap::new(),
    };
    let partitions: Vec<(String, i32)> = (0..TOPICS)
        .flat_map(|t| (0..PARTITIONS).map(move |p| (format!("bench.topic-{t}"), p)))
        .collect();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let rt = tokio::runtime::Runtime::new()?;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    rt.block_on(replicate::replicate(
        Arc::new(settings),
        partitions,
        Arc::new(AtomicBool::new(false)),
        tx,
    ))?;
    Ok(0)
}

/// MirrorMaker 2 replicating the benchmark topics with `heap_mb` of heap, timed until the
/// target's end offsets reach the record count and then stand still for a second (with
/// exactly-once, transaction markers take offsets too). Run `run` of a benchmark: its cluster
/// aliases, hence its internal topics and groups, are its own, so it starts from scratch.
#[allow(clippy::too_many_arguments)]
fn mirror_maker(
    source: &Cluster,
    target: &Cluster,
    tasks: usize,
    topics: &[String],
    records: usize,
    heap_mb: u32,
    delivery: Mm2Delivery,
    run: usize,
) -> Result<Measurement> {
    let exactly_once = match delivery {
        Mm2Delivery::AtLeastOnce => String::new(),
        Mm2Delivery::ExactlyOnce => "exactly.once.source.support = enabled
dedicated.mode.enable.internal.rest = true
listeners = http://127.0.0.1:0
src.consumer.isolation.level = read_committed
"
        .replace("src.", &format!("src{run}.")),
    };
    let properties = format!(
        "clusters = src{run}, tgt{run}
src{run}.bootstrap.servers = {source}
tgt{run}.bootstrap.servers = {target}
src{run}->tgt{run}.enabled = true
tgt{run}->src{run}.enabled = false
src{run}->tgt{run}.topics = bench\\..*
replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy
tasks.max = {tasks}
sync.topic.configs.enabled = false
sync.topic.acls.enabled = false
emit.heartbeats.enabled = false
emit.checkpoints.enabled = false
refresh.topics.interval.seconds = 2
replication.factor = 1
offset-syncs.topic.replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
src{run}.consumer.fetch.max.bytes = 52428800
src{run}.consumer.max.partition.fetch.bytes = 1048576
tgt{run}.producer.linger.ms = 5
tgt{run}.producer.batch.size = 1000000
{exactly_once}",
        source = source.bootstrap(),
        target = target.bootstrap()
    );
    let start = Instant::now();
    let mut mm2 = MirrorMaker::start(&format!("bench-mm2-{run}"), &properties, heap_mb)?;
    let deadline = start + Duration::from_secs(1800);
    let (mut last, mut changed) = (0, start);
    loop {
        if !mm2.running() {
            bail!("MirrorMaker 2 exited; see {}", mm2.log().display());
        }
        let now = target_records(target, topics)?;
        if now != last {
            (last, changed) = (now, Instant::now());
        } else if now >= records && changed.elapsed() >= Duration::from_secs(1) {
            break;
        }
        if Instant::now() > deadline {
            bail!("MirrorMaker 2 did not catch up in 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let seconds = changed.duration_since(start).as_secs_f64();
    let usage = mm2.stop_and_measure()?;
    let mode = match delivery {
        Mm2Delivery::AtLeastOnce => "at-least-once",
        Mm2Delivery::ExactlyOnce => "exactly-once",
    };
    Ok(Measurement {
        name: format!("MirrorMaker 2 ({mode}, {heap_mb} MiB heap)"),
        seconds,
        cpu_seconds: usage.cpu_seconds,
        peak_rss_mib: usage.peak_rss_mib,
    })
}

/// Runs `cmd` to completion and measures it with `wait4`.
pub(crate) fn measure(name: &str, cmd: Command) -> Result<Measurement> {
    let start = Instant::now();
    let log = kafka_harness::shared::run_dir().join("bench-engine.log");
    let mut child = ChildProcess::spawn(cmd, &log).context("starting the engine")?;
    let usage = child.wait_measured()?;
    if !usage.success {
        bail!("{name} failed; see {}", log.display());
    }
    Ok(Measurement {
        name: name.to_string(),
        seconds: start.elapsed().as_secs_f64(),
        cpu_seconds: usage.cpu_seconds,
        peak_rss_mib: usage.peak_rss_mib,
    })
}

fn report(records: usize, mib: usize, runs: &[Measurement]) {
    println!(
        "\n{:<44} {:>10} {:>8} {:>8} {:>10}",
        "engine", "records/s", "MB/s", "CPU s", "peak RSS MiB"
    );
    for m in runs {
        println!(
            "{:<44} {:>10.0} {:>8.1} {:>8.1} {:>10.1}",
            m.name,
            records as f64 / m.seconds,
            mib as f64 * 1.048_576 / m.seconds,
            m.cpu_seconds,
            m.peak_rss_mib
        );
    }
}

/// The engine (second of `runs`) against the pipe limit (first) and every other run.
fn ratios(runs: &[Measurement]) {
    if let [pipe, ours, rest @ ..] = runs {
        println!(
            "\nkafka-migrate: {:.0}% of the pipe limit",
            100.0 * pipe.seconds / ours.seconds
        );
        for theirs in rest {
            println!(
                "kafka-migrate / {}: throughput {:.2}×, CPU {:.2}×, peak memory {:.2}×",
                theirs.name,
                theirs.seconds / ours.seconds,
                ours.cpu_seconds / theirs.cpu_seconds,
                ours.peak_rss_mib / theirs.peak_rss_mib
            );
        }
    }
}
