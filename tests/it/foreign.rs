//! What the target holds that the migration did not write, on real clusters: `plan` and a
//! second `apply` beside an `apply` replicating a steady stream never take the running
//! engine's transactions for foreign records, while a record an application wrote to the
//! target is still reported; a target topic deleted while `apply` runs stops it, naming the
//! topic, and no client of the tool has the broker create it again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::{data, shared, Cluster};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::support::{kafka_migrate, migration_file, wait_for, Running};

/// A producer writing to every partition of `topic` on `cluster` until the flag is set.
fn stream(
    cluster: &Cluster,
    topic: &str,
    partitions: i32,
) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let producer: BaseProducer = cluster
        .admin_config()
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (flag, topic) = (stop.clone(), topic.to_string());
    let handle = std::thread::spawn(move || {
        let mut n = 0u64;
        while !flag.load(Ordering::Relaxed) {
            let value = format!("live-{n}");
            let _ = producer.send(
                BaseRecord::<[u8], [u8]>::to(&topic)
                    .partition((n % partitions as u64) as i32)
                    .payload(value.as_bytes()),
            );
            n += 1;
            producer.poll(Duration::from_millis(5));
        }
        producer.flush(Duration::from_secs(10)).unwrap();
    });
    (stop, handle)
}

/// The high watermark of `topic`/`partition` on `cluster` (0 while it does not exist).
fn end_of(cluster: &Cluster, topic: &str, partition: i32) -> i64 {
    let c: BaseConsumer = cluster.admin_config().create().unwrap();
    c.fetch_watermarks(topic, partition, Duration::from_secs(10))
        .map_or(0, |(_, end)| end)
}

/// The blockers of `plan --json` naming foreign records, as their reasons.
fn foreign_blockers(config: &std::path::Path) -> Vec<String> {
    let out = kafka_migrate(config)
        .args(["plan", "--json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "plan --json printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    plan["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "target_topic_has_foreign_records")
        .map(|b| b["reason"].to_string())
        .collect()
}

/// `PREFIX.orders` with `records` records over `partitions` partitions on `source`, and
/// `apply --auto-approve` of it to `target` running with `replication` settings.
struct Applying {
    /// The migration file's folder, kept while the test runs.
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    orders: String,
    apply: Running,
}

async fn applying(
    name: &str,
    (source, target): (&Cluster, &Cluster),
    (partitions, records): (i32, usize),
    replication: &str,
) -> Applying {
    let p = data::unique_name(name).replace('-', "_");
    let orders = format!("{p}.orders");
    crate::support::topic_with_records_over(source, &orders, partitions, records).await;
    let dir = tempfile::tempdir().unwrap();
    let replication = format!("replication {{\n  {replication}\n}}\n");
    let config = migration_file(dir.path(), &p, &p, source, target, &replication);
    let apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |_| {});
    Applying {
        _dir: dir,
        config,
        orders,
        apply,
    }
}

#[tokio::test]
async fn plan_beside_a_streaming_apply_sees_no_foreign_records_but_an_applications_record() {
    let (source, target) = (shared::plain_source(), shared::target());
    let mut m = applying(
        "foreign",
        (source, target),
        (2, 500),
        "tasks = 2\n  commit_interval = \"100ms\"",
    )
    .await;
    let (config, orders, apply) = (&m.config, &m.orders, &mut m.apply);
    let (stop, writing) = stream(source, orders, 2);
    wait_for(
        Duration::from_secs(120),
        || format!("apply to replicate; {}", apply.output()),
        || end_of(target, orders, 0) > 300 && end_of(target, orders, 1) > 300,
    );
    // The engine commits every 100 ms while each plan reads the target.
    for attempt in 0..5 {
        let found = foreign_blockers(config);
        assert!(found.is_empty(), "attempt {attempt}: {found:?}");
        assert!(!apply.exited(), "{}", apply.output());
    }
    // A second apply reads the clusters the same way before it starts.
    let second = kafka_migrate(config)
        .args(["apply", "--auto-approve", "--until-synced"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(!said.contains("did not write"), "{said}");
    stop.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    apply.interrupt();
    apply.wait_exit(Duration::from_secs(120));
    crate::support::apply_until_synced(config);
    assert!(foreign_blockers(config).is_empty());

    // An application writes one record to the target: reported, naming its partition.
    data::produce(
        &target.admin_config(),
        orders,
        &[data::Record {
            partition: 1,
            ..data::sample_records(1, 1).remove(0)
        }],
    )
    .await
    .unwrap();
    let found = foreign_blockers(config);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("partition(s) 1 (end offset"), "{found:?}");
}

#[tokio::test]
async fn a_target_topic_deleted_while_apply_runs_stops_it_and_is_not_created_again() {
    // The target's broker creates topics that clients name (auto.create.topics.enable).
    let (source, target) = (shared::plain_source(), shared::auto_create());
    let mut m = applying(
        "deleted",
        (source, target),
        (3, 90),
        "commit_interval = \"100ms\"\n  refresh_interval = \"1h\"",
    )
    .await;
    let (orders, apply) = (&m.orders, &mut m.apply);
    wait_for(
        Duration::from_secs(120),
        || format!("apply to replicate; {}", apply.output()),
        || (0..3).map(|p| end_of(target, orders, p)).sum::<i64>() >= 90,
    );
    let admin: AdminClient<DefaultClientContext> = target.admin_config().create().unwrap();
    for result in admin
        .delete_topics(&[orders.as_str()], &AdminOptions::new())
        .await
        .unwrap()
    {
        result.unwrap_or_else(|e| panic!("deleting {orders}: {e:?}"));
    }
    // New records on the source: the engine writes to the deleted topic.
    data::produce(&source.admin_config(), orders, &data::sample_records(30, 3))
        .await
        .unwrap();
    let status = apply
        .exit_within(Duration::from_secs(180))
        .unwrap_or_else(|| panic!("apply still runs; {}", apply.output()));
    assert_eq!(status.code(), Some(1), "{}", apply.output());
    let said = crate::support::flat(&apply.stderr());
    assert!(said.contains(orders.as_str()), "{}", apply.output());
    assert!(said.contains("fatal"), "{}", apply.output());
    // Nothing of the tool's had the broker create it again with its defaults.
    let c: BaseConsumer = target.admin_config().create().unwrap();
    let md = c.fetch_metadata(None, Duration::from_secs(10)).unwrap();
    let names: Vec<&str> = md.topics().iter().map(|t| t.name()).collect();
    assert!(!names.contains(&orders.as_str()), "{names:?}");
}

/// The progress topic deleted while `apply` runs: the run sees it at once and stops with a
/// fatal error naming it, and nothing of the tool's has the broker create it again (a run
/// that went on would have started over from nothing).
#[tokio::test]
async fn the_progress_topic_deleted_while_apply_runs_stops_it_at_once() {
    let (source, target) = (shared::plain_source(), shared::auto_create());
    let mut m = applying(
        "progress_gone",
        (source, target),
        (2, 60),
        "commit_interval = \"100ms\"",
    )
    .await;
    let (orders, apply) = (&m.orders, &mut m.apply);
    wait_for(
        Duration::from_secs(120),
        || format!("apply to replicate; {}", apply.output()),
        || (0..2).map(|p| end_of(target, orders, p)).sum::<i64>() >= 60,
    );
    let progress = kafka_migrate::config::names::progress_topic(orders.trim_end_matches(".orders"));
    let admin: AdminClient<DefaultClientContext> = target.admin_config().create().unwrap();
    for result in admin
        .delete_topics(&[progress.as_str()], &AdminOptions::new())
        .await
        .unwrap()
    {
        result.unwrap_or_else(|e| panic!("deleting {progress}: {e:?}"));
    }
    // Well within the transaction timeout (60 s) and the retries it used to ride through.
    let status = apply
        .exit_within(Duration::from_secs(45))
        .unwrap_or_else(|| panic!("apply still runs; {}", apply.output()));
    assert_eq!(status.code(), Some(1), "{}", apply.output());
    let said = crate::support::flat(&apply.stderr());
    assert!(
        said.contains(&format!("fatal: the progress topic {progress} was deleted")),
        "{}",
        apply.output()
    );
    let c: BaseConsumer = target.admin_config().create().unwrap();
    let md = c.fetch_metadata(None, Duration::from_secs(10)).unwrap();
    assert!(
        !md.topics().iter().any(|t| t.name() == progress),
        "the progress topic came back"
    );
}
