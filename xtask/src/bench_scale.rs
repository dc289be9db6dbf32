//! `bench scale`: the CLI on many partitions. Per size, fresh clusters with topics of 5
//! partitions holding a little data each (10 records of 200 B a partition), a few busy topics
//! (3 × 6 partitions, 64 MiB of 1 KiB records) and 100 consumer groups; then the release
//! binary's `apply --auto-approve --until-synced` is timed: until the first record is on the
//! target (the busy topics, polled every 100 ms) and until it returns, with its peak RSS; then
//! the progress topic's size, and the times of `status` and `verify`. Figures, not assertions:
//! the growth from one size to the next shows what scales with the partition count.
//!
//! ```text
//! cargo build --release --bin kafka-migrate
//! cargo run --release -p xtask -- bench scale [--partitions 1000,5000,10000] [--tasks N] [--hold]
//! ```
//!
//! `--tasks` sets `replication.tasks` (the migration's default otherwise).
//!
//! `--hold` stops before `apply` with the clusters loaded and running, prints the migration
//! file to run `kafka-migrate` (or a profiler) against, and waits until the file `hold` beside
//! it is removed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kafka_harness::process::ChildProcess;
use kafka_harness::{data, Cluster, ClusterSpec, Flavour};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::bench_replicate::{list_flag, load, send_waiting, RECORD_BYTES};

const SMALL_PARTITIONS: i32 = 5;
const SMALL_RECORDS: usize = 10;
const SMALL_RECORD_BYTES: usize = 200;
const BUSY_TOPICS: usize = 3;
const BUSY_PARTITIONS: i32 = 6;
const BUSY_MIB: usize = 64;
const GROUPS: usize = 100;
/// Small topics each group commits on (besides every busy topic).
const GROUP_SMALL_TOPICS: usize = 10;

struct Figures {
    partitions: usize,
    first_record: Option<f64>,
    synced: f64,
    peak_rss_mib: f64,
    cpu_seconds: f64,
    progress_records: usize,
    progress_kib: f64,
    status: f64,
    verify: f64,
    verify_exit: i32,
}

pub fn run(args: &[String]) -> Result<i32> {
    let sizes: Vec<usize> = list_flag(args, "--partitions", "1000,5000,10000")?;
    let binary = kafka_migrate_binary()?;
    let hold = args.iter().any(|a| a == "--hold");
    let tasks: Option<usize> = crate::bench_replicate::flag(args, "--tasks");
    let mut all = Vec::new();
    for size in sizes {
        all.push(one_size(&binary, size, tasks, hold)?);
        table(&all);
    }
    Ok(0)
}

/// The release `kafka-migrate` beside this program.
pub(crate) fn kafka_migrate_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe.with_file_name("kafka-migrate");
    if !binary.exists() {
        bail!(
            "{} is missing: cargo build --release --bin kafka-migrate first",
            binary.display()
        );
    }
    Ok(binary)
}

fn one_size(binary: &Path, partitions: usize, tasks: Option<usize>, hold: bool) -> Result<Figures> {
    let small_topics = partitions / SMALL_PARTITIONS as usize;
    let spec = |name: &str| {
        let mut spec = ClusterSpec::new(name, Flavour::Plain);
        spec.heap_mb = 1536;
        spec
    };
    let source = Cluster::start(spec("bench-scale-source"))?;
    let target = Cluster::start(spec("bench-scale-target"))?;
    let rt = tokio::runtime::Runtime::new()?;
    let small: Vec<String> = (0..small_topics)
        .map(|i| format!("scale.small-{i:05}"))
        .collect();
    let busy: Vec<String> = (0..BUSY_TOPICS)
        .map(|i| format!("scale.busy-{i}"))
        .collect();
    println!(
        "\n{partitions} partitions: creating {small_topics} topics × {SMALL_PARTITIONS} partitions and {BUSY_TOPICS} busy topics × {BUSY_PARTITIONS} …"
    );
    let admin = source.admin_config();
    rt.block_on(data::create_topics(&admin, &small, SMALL_PARTITIONS, 1))?;
    rt.block_on(data::create_topics(&admin, &busy, BUSY_PARTITIONS, 1))?;
    println!("Loading a little data into each small partition, {BUSY_MIB} MiB into the busy topics, committing {GROUPS} groups …");
    load_small(&source, &small)?;
    load(&source, &busy, BUSY_MIB * 1024 * 1024 / RECORD_BYTES)?;
    commit_groups(&source, &small, &busy)?;

    let dir = kafka_harness::shared::run_dir().join(data::unique_name("bench-scale"));
    std::fs::create_dir_all(&dir)?;
    let name = format!("scale-{partitions}");
    let config = dir.join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            r#"name = "{name}"
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  include            = ["^scale\\..*"]
  replication_factor = 1
}}
consumer_groups {{
  include = ["^scale-g"]
}}
acls {{
  sync = false
}}
cutover {{
  quiet_period = "1s"
}}
{}"#,
            source.bootstrap(),
            target.bootstrap(),
            tasks
                .map(|n| format!("replication {{\n  tasks = {n}\n}}\n"))
                .unwrap_or_default()
        ),
    )?;

    if hold {
        let marker = dir.join("hold");
        std::fs::write(&marker, "")?;
        println!(
            "Holding: the clusters are loaded; the migration is {}. Remove {} to go on.",
            config.display(),
            marker.display()
        );
        while marker.exists() {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    println!("apply --until-synced …");
    let watching = Arc::new(AtomicBool::new(true));
    let first: Arc<Mutex<Option<Instant>>> = Arc::default();
    let watcher = {
        let (watching, first) = (watching.clone(), first.clone());
        let consumer: BaseConsumer = target.admin_config().create()?;
        let busy = busy.clone();
        std::thread::spawn(move || {
            while watching.load(Ordering::Relaxed) {
                let any = busy.iter().any(|t| {
                    (0..BUSY_PARTITIONS).any(|p| {
                        consumer
                            .fetch_watermarks(t, p, Duration::from_secs(2))
                            .is_ok_and(|(_, high)| high > 0)
                    })
                });
                if any {
                    *first.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let log = dir.join("apply.log");
    let started = Instant::now();
    let mut apply = ChildProcess::spawn(
        cli(
            binary,
            &config,
            &["apply", "--auto-approve", "--until-synced"],
        ),
        &log,
    )?;
    let usage = apply.wait_measured()?;
    let synced = started.elapsed().as_secs_f64();
    watching.store(false, Ordering::Relaxed);
    let _ = watcher.join();
    if !usage.success {
        bail!(
            "apply failed:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    let first_record = first
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map(|t| t.duration_since(started).as_secs_f64());

    let progress = data::read_all(
        &target.admin_config(),
        &kafka_migrate::config::names::progress_topic(&name),
    )?;
    let stored = progress.values().flatten();
    let (progress_records, progress_bytes) = stored.fold((0, 0), |(n, b), s| {
        let len =
            s.record.key.as_ref().map_or(0, Vec::len) + s.record.value.as_ref().map_or(0, Vec::len);
        (n + 1, b + len)
    });
    let (status, _) = timed(cli(binary, &config, &["status"]))?;
    let (verify, verify_exit) = timed(cli(binary, &config, &["verify", "--json"]))?;
    let figures = Figures {
        partitions: partitions + BUSY_TOPICS * BUSY_PARTITIONS as usize,
        first_record,
        synced,
        peak_rss_mib: usage.peak_rss_mib,
        cpu_seconds: usage.cpu_seconds,
        progress_records,
        progress_kib: progress_bytes as f64 / 1024.0,
        status,
        verify,
        verify_exit,
    };
    Ok(figures)
}

fn cli(binary: &Path, config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("-c").arg(config).args(args).env("NO_COLOR", "1");
    cmd
}

/// Runs `cmd` to its end: seconds and exit code.
fn timed(mut cmd: Command) -> Result<(f64, i32)> {
    let start = Instant::now();
    let out = cmd.output()?;
    Ok((
        start.elapsed().as_secs_f64(),
        out.status.code().unwrap_or(-1),
    ))
}

fn load_small(cluster: &Cluster, topics: &[String]) -> Result<()> {
    let producer: BaseProducer = cluster
        .admin_config()
        .set("linger.ms", "20")
        .set("acks", "1")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    let value = [b'x'; SMALL_RECORD_BYTES];
    for t in topics {
        for p in 0..SMALL_PARTITIONS {
            for i in 0..SMALL_RECORDS {
                let key = format!("key-{i}");
                send_waiting(
                    &producer,
                    BaseRecord::to(t).partition(p).key(&key).payload(&value[..]),
                );
            }
        }
    }
    producer.flush(Duration::from_secs(300))?;
    Ok(())
}

/// 100 groups, each committed half-way into every busy partition and at offset 5 of some
/// small topics' partitions.
fn commit_groups(cluster: &Cluster, small: &[String], busy: &[String]) -> Result<()> {
    let consumer: BaseConsumer = cluster.admin_config().create()?;
    let mut halfway = Vec::new();
    for t in busy {
        for p in 0..BUSY_PARTITIONS {
            let (_, high) = consumer.fetch_watermarks(t, p, Duration::from_secs(10))?;
            halfway.push((t.as_str(), p, high / 2));
        }
    }
    for g in 0..GROUPS {
        let mut offsets = halfway.clone();
        for k in 0..GROUP_SMALL_TOPICS {
            let t = &small[(g * GROUP_SMALL_TOPICS + k) % small.len()];
            offsets.extend((0..SMALL_PARTITIONS).map(|p| (t.as_str(), p, 5)));
        }
        data::commit_offsets(&cluster.admin_config(), &format!("scale-g{g:03}"), &offsets)?;
    }
    Ok(())
}

fn table(all: &[Figures]) {
    println!(
        "\n{:>10} {:>12} {:>10} {:>10} {:>8} {:>14} {:>12} {:>8} {:>8}",
        "partitions",
        "1st record s",
        "synced s",
        "RSS MiB",
        "CPU s",
        "progress recs",
        "progress KiB",
        "status s",
        "verify s"
    );
    for f in all {
        println!(
            "{:>10} {:>12} {:>10.1} {:>10.1} {:>8.1} {:>14} {:>12.0} {:>8.1} {:>8.1}{}",
            f.partitions,
            f.first_record
                .map_or("—".to_string(), |s| format!("{s:.1}")),
            f.synced,
            f.peak_rss_mib,
            f.cpu_seconds,
            f.progress_records,
            f.progress_kib,
            f.status,
            f.verify,
            if f.verify_exit == 0 {
                String::new()
            } else {
                format!(" (verify exit {})", f.verify_exit)
            }
        );
    }
}
