//! `cutover` on real clusters: it waits while a producer writes and a consumer reads on the
//! source (naming both), proceeds once they stop, drains, verifies and records the cutover
//! point, with every group exact on the target; a forward `apply` is then refused; a cutover
//! killed midway finishes when run again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::data;
use kafka_harness::{shared, Cluster};
use kafka_migrate::state::Store;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::support::{
    apply_until_synced, assert_identical, check, full_check_file, kafka_migrate, props,
    topic_with_records_over, verify, wait_for, Running,
};

/// A migrated prefix: `PREFIX.orders` (2 partitions) with group `PREFIX-app` committed on
/// the source, applied until synced.
struct Migrated {
    dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
}

async fn migrated(name: &str, quiet_period: &str) -> Migrated {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    topic_with_records_over(source, &orders, 2, 200).await;
    data::commit_offsets(
        &source.admin_config(),
        &format!("{prefix}-app"),
        &[(orders.as_str(), 0, 40), (orders.as_str(), 1, 7)],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = full_check_file(dir.path(), &prefix, source, target, quiet_period);
    apply_until_synced(&config);
    Migrated {
        dir,
        config,
        prefix,
        orders,
    }
}

/// Runs `work` on a thread of its own until the returned flag is set.
fn until_stopped(
    work: impl Fn() + Send + 'static,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            work();
        }
    });
    (stop, handle)
}

/// The end offset of `topic`/`partition` on `cluster`.
fn end_of(cluster: &Cluster, topic: &str, partition: i32) -> i64 {
    let c: BaseConsumer = cluster.admin_config().create().unwrap();
    c.fetch_watermarks(topic, partition, Duration::from_secs(10))
        .unwrap()
        .1
}

#[tokio::test]
async fn cutover_waits_for_a_writing_producer_and_a_reading_consumer_then_records_the_point() {
    let (source, target) = (shared::plain_source(), shared::target());
    let m = migrated("cutover", "2s").await;
    // A producer still writing to the source, and a consumer of a selected group still
    // reading there.
    let producer: BaseProducer = source
        .admin_config()
        .set("enable.idempotence", "true")
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let producer = Arc::new(producer);
    let (topic, writer) = (m.orders.clone(), producer.clone());
    let (stop_writing, writing) = until_stopped(move || {
        let _ = writer.send(
            BaseRecord::<[u8], [u8]>::to(&topic)
                .partition(1)
                .payload(b"late"),
        );
        writer.poll(Duration::from_millis(100));
    });
    let consumer: BaseConsumer = source
        .admin_config()
        .set("group.id", format!("{}-live", m.prefix))
        .set("client.id", "orders-reader")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "200")
        .create()
        .unwrap();
    consumer.subscribe(&[m.orders.as_str()]).unwrap();
    let consumer = Arc::new(consumer);
    let reader = consumer.clone();
    let (stop_reading, reading) = until_stopped(move || {
        reader.poll(Duration::from_millis(100));
    });

    let mut cutover = Running::start(
        &m.config,
        &["cutover", "--timeout", "5m"],
        m.dir.path(),
        |_| {},
    );
    wait_for(
        Duration::from_secs(90),
        || {
            format!(
                "cutover to name the producer and the consumer; {}",
                cutover.output()
            )
        },
        || {
            let out = cutover.stdout();
            out.contains(&format!("written: {} partition 1", m.orders))
                && out.contains("producer id")
                && out.contains(&format!("consumed: group \"{}-live\"", m.prefix))
                && out.contains("client id \"orders-reader\"")
        },
    );
    assert!(
        !cutover.exited(),
        "cutover went on while the source was in use"
    );
    stop_writing.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    stop_reading.store(true, Ordering::Relaxed);
    reading.join().unwrap();
    // Auto-commit has committed what it read, unless something is left (then this commits it).
    let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    drop(consumer);
    let status = cutover.wait_exit(Duration::from_secs(180));
    let out = cutover.stdout();
    assert!(status.success(), "{}", cutover.output());
    assert!(out.contains("CUT OVER"), "{out}");
    assert!(
        out.contains(&format!("bootstrap.servers={}", target.bootstrap())),
        "{out}"
    );

    // Every record, the late ones included, is on the target once; the point is recorded
    // at both clusters' ends.
    assert_identical(source, target, &m.orders);
    let progress = Store::new(&m.prefix, props(target)).read().unwrap();
    let point = progress.cutover.unwrap().point.unwrap();
    for partition in 0..2 {
        let p = point.get(&m.orders, partition).unwrap();
        assert_eq!(p.source_end, end_of(source, &m.orders, partition));
        assert_eq!(p.target_end, end_of(target, &m.orders, partition));
    }
    // Groups exact: verify passes them, and says the migration is cut over.
    let (code, report) = verify(&m.config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "consumer groups")["status"],
        "PASS",
        "{report:#}"
    );
    assert_eq!(report["cut_over_at_ms"], point.at_ms);
    for group in ["app", "live"] {
        let name = format!("{}-{group}", m.prefix);
        assert!(
            out.contains(&format!("group \"{name}\" resumes on the target at")),
            "{out}"
        );
    }
    let status = kafka_migrate(&m.config).arg("status").output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("Cut over at"));

    // A forward apply is refused, saying why and what to do.
    let refused = kafka_migrate(&m.config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = crate::support::flat(&String::from_utf8_lossy(&refused.stderr));
    assert!(
        err.contains("was cut over at") && err.contains("the target is the system of record"),
        "{err}"
    );
    assert!(err.contains("--abandon-cutover"), "{err}");
    // Run again, cutover says it is done and what to switch.
    let again = kafka_migrate(&m.config)
        .args(["cutover", "--json"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["cut_over"], true);
    assert_eq!(again["point"]["at_ms"], point.at_ms);
}

#[tokio::test]
async fn a_cutover_killed_midway_finishes_when_run_again() {
    let m = migrated("cutover_kill", "4s").await;
    let mut first = Running::start(&m.config, &["cutover"], m.dir.path(), |_| {});
    // Killed while verify watches the source, after the drain was recorded.
    wait_for(
        Duration::from_secs(120),
        || format!("the drain to be recorded; {}", first.output()),
        || first.stdout().contains("[3/5] drain: done"),
    );
    first.kill();
    let out = crate::support::succeeds(&m.config, &["cutover"]);
    for step in ["[1/5] preflight", "[2/5] source quiet", "[3/5] drain"] {
        assert!(out.contains(&format!("{step}: done earlier")), "{out}");
    }
    assert!(out.contains("[4/5] verify: done"), "{out}");
    assert!(out.contains("CUT OVER"), "{out}");
    let progress = Store::new(&m.prefix, props(shared::target()))
        .read()
        .unwrap();
    assert!(progress.cutover.unwrap().is_cut_over());
}
