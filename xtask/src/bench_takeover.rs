//! `bench takeover`: how soon an `apply` that holds a migration stops when a later one starts
//! with fewer tasks, while a producer streams into the source. Per run, a fresh migration: a
//! topic of 6 partitions and a writer (about 500 records/s), the release binary's `apply`
//! with 6 tasks until every partition has reached the target, then `apply` with 1 task; the
//! time from the later one's start to the earlier one's exit, and its exit code. Figures, not
//! assertions.
//!
//! ```text
//! cargo build --release --bin kafka-migrate
//! cargo run --release -p xtask -- bench takeover [--runs 20]
//! ```

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kafka_harness::{data, Cluster, ClusterSpec, Flavour};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

const PARTITIONS: i32 = 6;
/// How long the later apply may take to stop the earlier one before the run counts as slow.
const PROMPT: Duration = Duration::from_secs(15);

pub fn run(args: &[String]) -> Result<i32> {
    let runs: usize = crate::bench_replicate::flag(args, "--runs").unwrap_or(20);
    let binary = crate::bench_scale::kafka_migrate_binary()?;
    let source = Cluster::start(ClusterSpec::new("bench-takeover-source", Flavour::Plain))?;
    let target = Cluster::start(ClusterSpec::new("bench-takeover-target", Flavour::Plain))?;
    let rt = tokio::runtime::Runtime::new()?;
    let mut took = Vec::new();
    for run in 1..=runs {
        let name = data::unique_name("takeover").replace('-', "_");
        let topic = format!("{name}.a");
        rt.block_on(data::create_topic(
            &source.admin_config(),
            &topic,
            PARTITIONS,
            1,
            &[],
        ))?;
        let stop = Arc::new(AtomicBool::new(false));
        let writer = writer(&source, &topic, stop.clone())?;
        let dir = kafka_harness::shared::run_dir().join(&name);
        let six = migration(&dir.join("six"), &name, &source, &target, 6)?;
        let one = migration(&dir.join("one"), &name, &source, &target, 1)?;
        let mut first = apply(&binary, &six, &dir.join("six.err"))?;
        await_every_partition(&target, &topic)?;
        let started = Instant::now();
        let mut second = apply(&binary, &one, &dir.join("one.err"))?;
        let exited = loop {
            if let Some(status) = first.try_wait()? {
                break Some(status);
            }
            if started.elapsed() > Duration::from_secs(120) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        for child in [&mut first, &mut second] {
            let _ = child.kill();
            let _ = child.wait();
        }
        stop.store(true, Ordering::Relaxed);
        let _ = writer.join();
        match exited {
            Some(status) => println!(
                "run {run:>2}: the 6-task apply exited with {} {:.2} s after the 1-task apply started",
                status.code().map_or("a signal".into(), |c| format!("code {c}")),
                elapsed.as_secs_f64()
            ),
            None => println!("run {run:>2}: the 6-task apply was still running after 120 s"),
        }
        took.push(exited.map(|s| (elapsed, s.code())));
    }
    let stopped: Vec<f64> = took
        .iter()
        .flatten()
        .filter(|(t, code)| *t <= PROMPT && code.is_some_and(|c| c != 0))
        .map(|(t, _)| t.as_secs_f64())
        .collect();
    let mut all: Vec<f64> = took
        .iter()
        .flatten()
        .map(|(t, _)| t.as_secs_f64())
        .collect();
    all.sort_by(f64::total_cmp);
    println!(
        "\n{} of {} runs: the earlier apply exited non-zero within {} s; median {:.2} s, slowest {:.2} s",
        stopped.len(),
        runs,
        PROMPT.as_secs(),
        all.get(all.len() / 2).copied().unwrap_or(f64::NAN),
        all.last().copied().unwrap_or(f64::NAN)
    );
    Ok(0)
}

/// A producer writing round-robin to `topic` until `stop` is set.
fn writer(
    source: &Cluster,
    topic: &str,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let producer: BaseProducer = source
        .admin_config()
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()?;
    let topic = topic.to_string();
    Ok(std::thread::spawn(move || {
        let mut i: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            let key = i.to_string();
            let _ = producer.send(
                BaseRecord::<[u8], [u8]>::to(&topic)
                    .partition((i % PARTITIONS as u64) as i32)
                    .key(key.as_bytes())
                    .payload(b"streaming"),
            );
            producer.poll(Duration::from_millis(2));
            i += 1;
        }
        let _ = producer.flush(Duration::from_secs(10));
    }))
}

/// A migration file of `name` with `tasks` tasks, in `dir`.
fn migration(
    dir: &Path,
    name: &str,
    source: &Cluster,
    target: &Cluster,
    tasks: usize,
) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let config = dir.join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            "name = \"{name}\"\ncluster \"source\" {{\n  bootstrap_servers = [\"{}\"]\n}}\ncluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n}}\ntopics {{\n  include            = [\"^{name}\\\\.\"]\n  replication_factor = 1\n}}\nacls {{\n  sync = false\n}}\nreplication {{\n  tasks           = {tasks}\n  commit_interval = \"200ms\"\n}}\n",
            source.bootstrap(),
            target.bootstrap()
        ),
    )?;
    Ok(config)
}

/// `apply --auto-approve` of `config`, its standard error kept in `err`.
fn apply(binary: &Path, config: &Path, err: &Path) -> Result<Child> {
    Ok(Command::new(binary)
        .arg("-c")
        .arg(config)
        .args(["apply", "--auto-approve"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(err)?)
        .spawn()?)
}

/// Waits until every partition of `topic` has records on `target`.
fn await_every_partition(target: &Cluster, topic: &str) -> Result<()> {
    let consumer: BaseConsumer = target.admin_config().create()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let all = (0..PARTITIONS).all(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(2))
                .is_ok_and(|(_, high)| high > 0)
        });
        if all {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{topic} did not reach the target within 120 s")
}
