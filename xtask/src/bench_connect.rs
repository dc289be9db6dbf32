//! `bench connect`: the Connect engine end to end — the worker file `export connect` writes,
//! a Kafka Connect worker started from it, the MirrorMaker 2 connectors deployed as
//! `apply --engine connect` deploys them — timed from the connector configs being put until
//! the target holds every record. Prints records/s, MB/s and the worker's CPU and peak memory.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use kafka_harness::connect::ConnectWorker;
use kafka_migrate::connect::{self, ConnectClient};

use crate::bench_replicate::{create_topics, flag, loaded_source};

pub fn run(args: &[String]) -> Result<i32> {
    let mib: usize = flag(args, "--mib").unwrap_or(256);
    let tasks: usize = flag(args, "--tasks").unwrap_or(2);
    let delivery: String = flag(args, "--delivery").unwrap_or_else(|| "exactly-once".into());
    let (records, source, target, topics, rt) = loaded_source(mib)?;
    // The target topics exist first, as the metadata apply creates them (no progress topic:
    // MirrorMaker 2 keeps its state in Connect's topics).
    rt.block_on(create_topics(&target, &topics, false))?;

    let text = format!(
        "name = \"bench\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{\n  include = [\"^bench\\\\.\"]\n  replication_factor = 1\n}}\nreplication {{\n  tasks = {tasks}\n  delivery = \"{delivery}\"\n}}\n",
        source.bootstrap(),
        target.bootstrap()
    );
    let migration =
        kafka_migrate::config::parse("bench.hcl", &text, std::path::Path::new("."), &[])
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let worker = ConnectWorker::start("bench-connect", &connect::worker_properties(&migration))?;
    let connectors = connect::connectors(&migration)?;
    let client = ConnectClient::new(&worker.url());
    println!("Running MirrorMaker 2 on a Connect worker ({tasks} tasks, {delivery}) …");
    let start = Instant::now();
    rt.block_on(async {
        connect::deploy(&client, &connectors, |_| {}).await?;
        let min_tasks = [(connectors[0].name.clone(), 1)].into();
        connect::wait_running(&client, &connectors, &min_tasks, Duration::from_secs(300)).await?;
        connect::wait_synced(&migration, Duration::from_secs(3600)).await?;
        anyhow::Ok(())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (cpu_seconds, peak_rss_mib) = usage(worker.pid()).context("reading the worker's usage")?;
    println!(
        "\n{:<28} {:>12} {:>10} {:>12} {:>14}",
        "engine", "records/s", "MB/s", "CPU seconds", "peak RSS MiB"
    );
    println!(
        "{:<28} {:>12.0} {:>10.1} {:>12.1} {:>14.1}",
        format!("Connect + MM2 ({delivery})"),
        records as f64 / seconds,
        mib as f64 * 1.048_576 / seconds,
        cpu_seconds,
        peak_rss_mib
    );
    println!("(CPU and memory: the worker process over its life, start-up included.)");
    Ok(0)
}

/// CPU seconds and peak resident memory (MiB) of a running process, from /proc.
fn usage(pid: u32) -> Result<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("parsing /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    let (Some(utime), Some(stime)) = (ticks(11), ticks(12)) else {
        bail!("no CPU times in /proc/{pid}/stat");
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    Ok(((utime + stime) / 100.0, hwm_kib / 1024.0))
}
