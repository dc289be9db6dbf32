//! Shared helpers of the integration tests: engine settings for harness clusters, topic
//! preparation, running the engine, comparing clusters record by record, waiting for a
//! condition; starting `kafka-migrate` ([`command`]) and background processes ([`process`]),
//! HTTP stand-ins for the services it calls ([`http`]), and checking printed JSON against
//! its schema ([`schema`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::data::{self, Record};
use kafka_harness::{Cluster, ADMIN};
use kafka_migrate::config::names::progress_topic;
use kafka_migrate::replicate::{self, Delivery, Event, ReplicateError, Settings};
use kafka_migrate::state::Store;

mod command;
pub mod http;
pub mod live;
mod process;
pub mod schema;

pub use command::{kafka_migrate, kafka_migrate_bare, kafka_migrate_process};
pub use process::{in_own_process, run_in_own_process, Running};

pub fn props(cluster: &Cluster) -> BTreeMap<String, String> {
    cluster.client_properties(ADMIN).into_iter().collect()
}

pub fn settings(
    migration: &str,
    source: &Cluster,
    target: &Cluster,
    delivery: Delivery,
) -> Settings {
    Settings {
        migration: migration.to_string(),
        store: Store::new(migration, props(target)),
        source: props(source),
        target: props(target),
        source_names: Default::default(),
        target_names: Default::default(),
        tasks: 2,
        delivery,
        commit_interval: Duration::from_millis(200),
        max_batch_records: 5_000,
        max_batch_bytes: 16 << 20,
        transaction_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        until_synced: true,
        producer_tuning: BTreeMap::new(),
        consumer_tuning: BTreeMap::new(),
        throttle: None,
        max_retries: 6,
        record_limits: BTreeMap::new(),
    }
}

/// A topic to create: name, partitions, configs.
pub type TopicSpec<'a> = (&'a str, i32, &'a [(&'a str, &'a str)]);

/// Creates `topic` on both clusters and the migration's progress topic on the target.
pub async fn prepare(
    source: &Cluster,
    target: &Cluster,
    migration: &str,
    topics: &[TopicSpec<'_>],
) {
    for (topic, partitions, configs) in topics {
        data::create_topic(&source.admin_config(), topic, *partitions, 1, configs)
            .await
            .unwrap();
        data::create_topic(&target.admin_config(), topic, *partitions, 1, configs)
            .await
            .unwrap();
    }
    data::create_topic(
        &target.admin_config(),
        &progress_topic(migration),
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
}

pub async fn run(
    settings: Settings,
    partitions: Vec<(String, i32)>,
) -> Result<Vec<Event>, ReplicateError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    replicate::replicate(Arc::new(settings), partitions, stop, tx).await?;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    Ok(events)
}

/// Creates `topic` with one partition on `cluster` and writes `count` sample records to it.
pub async fn topic_with_records(cluster: &Cluster, topic: &str, count: usize) {
    topic_with_records_over(cluster, topic, 1, count).await;
}

/// Creates `topic` with `partitions` partitions and `count` sample records spread over them.
pub async fn topic_with_records_over(
    cluster: &Cluster,
    topic: &str,
    partitions: i32,
    count: usize,
) {
    data::create_topic(&cluster.admin_config(), topic, partitions, 1, &[])
        .await
        .unwrap();
    data::produce(
        &cluster.admin_config(),
        topic,
        &data::sample_records(count, partitions),
    )
    .await
    .unwrap();
}

pub fn partitions_of(topic: &str, n: i32) -> Vec<(String, i32)> {
    (0..n).map(|p| (topic.to_string(), p)).collect()
}

/// Asserts that the target holds exactly the source's committed records, partition by
/// partition, in order.
pub fn assert_identical(source: &Cluster, target: &Cluster, topic: &str) -> usize {
    let from = data::read_all(&source.admin_config(), topic).unwrap();
    let to = data::read_all(&target.admin_config(), topic).unwrap();
    assert_eq!(
        from.keys().collect::<Vec<_>>(),
        to.keys().collect::<Vec<_>>()
    );
    let mut total = 0;
    for (partition, records) in &from {
        let expected: Vec<&Record> = records.iter().map(|s| &s.record).collect();
        let got: Vec<&Record> = to[partition].iter().map(|s| &s.record).collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "record count of {topic} partition {partition}"
        );
        assert_eq!(got, expected, "records of {topic} partition {partition}");
        total += expected.len();
    }
    total
}

/// Writes the same 8 keys to `topic` (one partition, compacted, rolling segments quickly) on
/// `cluster` again and again until the log cleaner has removed records: its log has gaps.
pub async fn write_until_compacted(cluster: &Cluster, topic: &str) {
    let mut produced = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    // Writing rolls segments, which the cleaner then cleans.
    loop {
        let batch: Vec<Record> = data::sample_records(40, 1)
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                r.key = Some(format!("key-{}", i % 8).into_bytes());
                r
            })
            .collect();
        data::produce(&cluster.admin_config(), topic, &batch)
            .await
            .unwrap();
        produced += batch.len();
        let present = data::read_all(&cluster.admin_config(), topic).unwrap()[&0].len();
        if present < produced {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log cleaner did not compact {topic} in 90s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A migration file selecting topics `^PREFIX\.` from `source` to `target`.
pub fn migration_file(
    dir: &Path,
    name: &str,
    prefix: &str,
    source: &Cluster,
    target: &Cluster,
    extra: &str,
) -> PathBuf {
    migration_file_rf(dir, name, prefix, source, target, 1, extra)
}

/// [`migration_file`] whose `verify` compares every record (`data_check = "full"`) and wants
/// the source quiet for `quiet_period`.
pub fn full_check_file(
    dir: &Path,
    prefix: &str,
    source: &Cluster,
    target: &Cluster,
    quiet_period: &str,
) -> PathBuf {
    migration_file(
        dir,
        prefix,
        prefix,
        source,
        target,
        &format!("cutover {{\n  quiet_period = \"{quiet_period}\"\n  data_check   = \"full\"\n}}"),
    )
}

/// [`migration_file`] whose topics get `replication_factor` on the target.
pub fn migration_file_rf(
    dir: &Path,
    name: &str,
    prefix: &str,
    source: &Cluster,
    target: &Cluster,
    replication_factor: i32,
    extra: &str,
) -> PathBuf {
    migration_file_with(
        dir,
        name,
        (prefix, source, target),
        replication_factor,
        ("", ""),
        extra,
    )
}

/// [`migration_file_rf`] with more in the `topics` and `consumer_groups` blocks (`blocks`:
/// lines for each, such as a `rename` block).
pub fn migration_file_with(
    dir: &Path,
    name: &str,
    (prefix, source, target): (&str, &Cluster, &Cluster),
    replication_factor: i32,
    (topics, groups): (&str, &str),
    extra: &str,
) -> PathBuf {
    let text = format!(
        r#"name = "{name}"
cluster "source" {{
  bootstrap_servers = ["{}"]
}}
cluster "target" {{
  bootstrap_servers = ["{}"]
}}
topics {{
  include            = ["^{prefix}\\..*"]
  replication_factor = {replication_factor}
{topics}}}
consumer_groups {{
  include = ["^{prefix}-"]
{groups}}}
{extra}
"#,
        source.bootstrap(),
        target.bootstrap()
    );
    let path = dir.join("migration.hcl");
    std::fs::write(&path, text).unwrap();
    path
}

/// The topics the shared target lists.
pub fn target_topics() -> Vec<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = kafka_harness::shared::target()
        .admin_config()
        .create()
        .unwrap();
    consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap()
        .topics()
        .iter()
        .map(|t| t.name().to_string())
        .collect()
}

/// A migration file `FILE` in `dir` whose source is `bootstrap` (with no security block:
/// PLAINTEXT) and whose target is `target`.
pub fn plaintext_file(dir: &Path, file: &str, bootstrap: &str, target: &Cluster) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!(
            "name = \"m\"\ncluster \"source\" {{ bootstrap_servers = [\"{bootstrap}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\n",
            target.bootstrap()
        ),
    )
    .unwrap();
    path
}

/// Runs `kafka-migrate -c config ARGS`, asserts that it succeeds and returns what it printed.
pub fn succeeds(config: &Path, args: &[&str]) -> String {
    let out = kafka_migrate(config).args(args).assert().success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// Runs `kafka-migrate -c config apply --auto-approve --until-synced`, asserts that it
/// succeeds and returns what it printed.
pub fn apply_until_synced(config: &Path) -> String {
    succeeds(config, &["apply", "--auto-approve", "--until-synced"])
}

/// Runs `verify --json`: exit code and report (checked against its schema).
pub fn verify(config: &Path) -> (i32, serde_json::Value) {
    let out = kafka_migrate(config)
        .args(["verify", "--json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify --json printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    schema::assert_valid("verify.schema.json", &report);
    (out.status.code().unwrap_or(-1), report)
}

pub fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

/// `verify --json` says READY FOR CUTOVER (exit 0) with every check passed — but the quotas
/// check, skipped because client quotas are not synced unless asked for (`quotas.sync`), and
/// the schema ids check, skipped when the source has no schema registry topic (that the
/// credentials can read).
pub fn assert_ready(config: &Path) {
    let (code, report) = verify(config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "READY FOR CUTOVER");
    for c in report["checks"].as_array().unwrap() {
        let quotas_not_synced =
            c["name"] == "quotas" && c["status"] == "SKIP" && c["summary"] == "quotas.sync = false";
        let no_registry = c["name"] == "schema ids"
            && c["status"] == "SKIP"
            && c["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("no schema registry topic"));
        assert!(
            c["status"] == "PASS" || quotas_not_synced || no_registry,
            "{report:#}"
        );
    }
}

/// The cutover point `migration` recorded in its progress topic on `target`.
pub fn cutover_point(migration: &str, target: &Cluster) -> kafka_migrate::state::CutoverPoint {
    Store::new(migration, props(target))
        .read()
        .unwrap()
        .cutover
        .expect("a cutover record")
        .point
        .expect("a cutover point")
}

/// The (`first`, `second`) string fields of each object of a JSON array.
pub fn pairs(items: &serde_json::Value, first: &str, second: &str) -> Vec<(String, String)> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item[first].as_str().unwrap().to_string(),
                item[second].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Polls `done` until it holds; fails the test after `timeout`.
pub fn wait_for<W: std::fmt::Display>(
    timeout: Duration,
    what: impl Fn() -> W,
    done: impl FnMut() -> bool,
) {
    assert!(
        poll_until(timeout, done),
        "timed out waiting for {}",
        what()
    );
}

/// Polls `done` every 200 ms until it holds or `timeout` has passed; whether it held.
pub fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}

/// The offset `group` committed for `topic`/`partition` on `cluster`, if any.
pub fn committed_offset(
    cluster: &Cluster,
    group: &str,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = cluster
        .admin_config()
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let got = c.committed_offsets(tpl, Duration::from_secs(10)).ok()?;
    got.elements()[0].offset().to_raw().filter(|o| *o >= 0)
}

/// `text` with its lines joined and runs of whitespace (and the diagnostics' `│` gutters)
/// made one space: a message wrapped to the terminal's width reads as one line.
pub fn flat(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}
