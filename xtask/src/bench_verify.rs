//! `bench verify`: how fast `data_check = "full"` compares the clusters, next to a plain read
//! of both clusters (the same consumers without digesting) over the same replicated data.
//! Figures, not assertions: run it on a quiet machine, in release mode.
//!
//! ```text
//! cargo run --release -p xtask -- bench verify [--mib 1024]
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use kafka_harness::process::own_cpu_seconds;
use kafka_harness::Cluster;
use kafka_migrate::verify::CheckStatus;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::bench_replicate::{flag, replicated, PARTITIONS, RECORD_BYTES};

pub fn run(args: &[String]) -> Result<i32> {
    let mib: usize = flag(args, "--mib").unwrap_or(1024);
    let records = mib * 1024 * 1024 / RECORD_BYTES;
    let (source, target, topics, rt) = replicated(records)?;

    let text = format!(
        "name = \"bench\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{ include = [\"^bench\\\\.\"] }}\ncutover {{ data_check = \"full\" }}\n",
        source.bootstrap(),
        target.bootstrap()
    );
    let migration =
        kafka_migrate::config::parse_with_env("bench.hcl", &text, Path::new("."), &[], &|_| None)?;
    let survey = rt.block_on(kafka_migrate::survey::survey(
        &migration,
        kafka_migrate::plan::Engine::Native,
        &Default::default(),
    ))?;

    println!("Reading both clusters in full, plain …");
    let start = Instant::now();
    let cpu = own_cpu_seconds();
    let bytes = std::thread::scope(|s| {
        let theirs = s.spawn(|| plain_read(&source, &topics));
        let ours = plain_read(&target, &topics);
        anyhow::Ok(
            theirs
                .join()
                .map_err(|_| anyhow::anyhow!("reader panicked"))??
                + ours?,
        )
    })?;
    let plain = start.elapsed().as_secs_f64();
    let plain_cpu = own_cpu_seconds() - cpu;

    println!("Comparing both clusters with data_check = \"full\" …");
    let start = Instant::now();
    let cpu = own_cpu_seconds();
    let check = rt.block_on(kafka_migrate::verify::data_parity(&migration, &survey));
    let full = start.elapsed().as_secs_f64();
    let full_cpu = own_cpu_seconds() - cpu;
    if check.status != CheckStatus::Pass {
        bail!(
            "data parity did not pass: {} {:?}",
            check.summary,
            check.evidence
        );
    }
    println!("{}", check.summary);

    let mb = bytes as f64 / 1e6;
    println!(
        "\n{:<28} {:>10} {:>10} {:>12} {:>12}",
        "read of both clusters", "seconds", "MB/s", "records/s", "CPU seconds"
    );
    for (name, secs, cpu) in [
        ("plain read", plain, plain_cpu),
        ("data_check = \"full\"", full, full_cpu),
    ] {
        println!(
            "{name:<28} {secs:>10.1} {:>10.1} {:>12.0} {cpu:>12.1}",
            mb / secs,
            2.0 * records as f64 / secs
        );
    }
    println!(
        "\ndata_check = \"full\" reads at {:.0}% of a plain read",
        100.0 * plain / full
    );
    Ok(0)
}

/// Reads every partition of `topics` from the beginning to the end, read_committed, with the
/// consumer settings the data check uses; returns the bytes of keys, values and headers.
fn plain_read(cluster: &Cluster, topics: &[String]) -> Result<u64> {
    let consumer: BaseConsumer = cluster
        .admin_config()
        .set("group.id", "bench-plain-read")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "8388608")
        .set("queued.max.messages.kbytes", "65536")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for t in topics {
        for p in 0..PARTITIONS {
            tpl.add_partition_offset(t, p, Offset::Beginning)?;
        }
    }
    consumer.assign(&tpl)?;
    let (mut bytes, mut at_end) = (0u64, 0usize);
    let wanted = topics.len() * PARTITIONS as usize;
    let deadline = Instant::now() + Duration::from_secs(1800);
    while at_end < wanted {
        if Instant::now() > deadline {
            bail!("reading {} did not finish in 30 minutes", cluster.name());
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => at_end += 1,
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                bytes +=
                    (m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len)) as u64;
                if let Some(h) = m.headers() {
                    bytes += h
                        .iter()
                        .map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len))
                        .sum::<usize>() as u64;
                }
            }
        }
    }
    Ok(bytes)
}
