//! Records larger than librdkafka's and Kafka's 1 MB defaults on real clusters: they arrive
//! identical where the topics allow them; a target that would refuse what the source accepts
//! is a plan blocker; a record the target still refuses stops the engine naming it; a config
//! the target refuses is named with the broker's message and the setting that gets past it.

use kafka_harness::data::{self, Record};
use kafka_harness::{shared, Cluster};
use kafka_migrate::plan::RecordLimits;
use kafka_migrate::replicate::{Delivery, ReplicateError};

use crate::support::*;

/// Topic-level limit of the test topics: 8 MiB record batches (the brokers keep Kafka's
/// defaults; a single broker replicates nothing, and larger requests are allowed up to
/// `socket.request.max.bytes`).
const LIMIT: &str = "8388608";

/// Small records around a 1.2 MB and a 7 MB one, each with a key and a header.
fn records() -> Vec<Record> {
    let mut records = data::sample_records(6, 1);
    for (i, size) in [(1, 1_200_000), (4, 7_000_000)] {
        let value: Vec<u8> = (0..size).map(|b| (b % 251) as u8).collect();
        records[i].value = Some(value);
    }
    records
}

/// Adds a `topics.config` block holding `setting` to the migration file at `path`.
fn topic_config(path: &std::path::Path, setting: &str) {
    let text = std::fs::read_to_string(path).unwrap().replacen(
        "replication_factor = 1\n",
        &format!("replication_factor = 1\n  config {{\n    {setting}\n  }}\n"),
        1,
    );
    std::fs::write(path, text).unwrap();
}

/// Creates `topic` on `source` with the 8 MiB limit and writes [`records`] to it (with a
/// producer that may send records up to 10 MB).
async fn source_with_large_records(source: &Cluster, topic: &str) {
    data::create_topic(
        &source.admin_config(),
        topic,
        1,
        1,
        &[("max.message.bytes", LIMIT)],
    )
    .await
    .unwrap();
    let config = source
        .admin_config()
        .set("message.max.bytes", "10000000")
        .clone();
    data::produce(&config, topic, &records()).await.unwrap();
}

/// The single blocker of `plan --json` for the migration file at `path`: its kind and reason.
fn only_blocker(path: &std::path::Path) -> (String, String, String) {
    let out = kafka_migrate(path)
        .args(["plan", "--json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let blockers = plan["blockers"].as_array().unwrap();
    assert_eq!(blockers.len(), 1, "{plan:#}");
    let field = |name: &str| blockers[0][name].as_str().unwrap().to_string();
    (field("kind"), field("subject"), field("reason"))
}

#[tokio::test(flavor = "multi_thread")]
async fn records_of_1_2_and_7_mb_arrive_identical_and_a_lower_target_limit_blocks() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name("large").replace('-', "_");
    let topic = format!("{prefix}.blobs");
    source_with_large_records(source, &topic).await;
    let dir = tempfile::tempdir().unwrap();

    // Left to the target brokers' default (1 MiB), the topic would refuse the source's
    // records: a blocker naming both limits and the setting that fixes it.
    let capped = migration_file(dir.path(), &prefix, &prefix, source, target, "");
    topic_config(&capped, "exclude = [\"max.message.bytes\"]");
    let (kind, subject, reason) = only_blocker(&capped);
    assert_eq!(kind, "record_limit_too_low");
    assert_eq!(subject, format!("topic \"{topic}\""));
    for part in [
        "up to 8388608 bytes",
        "only up to 1048588 bytes (the target brokers' message.max.bytes)",
        "`topics.config.override = { \"max.message.bytes\" = \"8388608\" }`",
    ] {
        assert!(reason.contains(part), "{reason}");
    }
    kafka_migrate(&capped)
        .args(["apply", "--auto-approve", "--until-synced"])
        .assert()
        .failure();

    // With the topic's own limit copied, every record arrives, byte for byte.
    let config = migration_file(dir.path(), &prefix, &prefix, source, target, "");
    let out = apply_until_synced(&config);
    assert!(out.contains("caught up"), "{out}");
    assert_eq!(assert_identical(source, target, &topic), 6);
    let stored = data::read_all(&target.admin_config(), &topic).unwrap();
    let sizes: Vec<usize> = stored[&0]
        .iter()
        .map(|s| s.record.value.as_ref().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes[1], 1_200_000);
    assert_eq!(sizes[4], 7_000_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_the_target_refuses_stops_the_engine_naming_it() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("refused");
    let topic = data::unique_name("blobs");
    prepare(source, target, &migration, &[]).await;
    source_with_large_records(source, &topic).await;
    // The target topic keeps the brokers' 1 MiB limit.
    data::create_topic(&target.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    let limits = RecordLimits {
        target: [(topic.clone(), 1_048_588)].into(),
        source_max: Some(8_388_608),
        target_request_max: Some(104_857_600),
    };
    let engine =
        settings(&migration, source, target, Delivery::ExactlyOnce).with_record_limits(&limits);
    let error = run(engine, partitions_of(&topic, 1)).await.unwrap_err();
    assert!(
        matches!(
            &error,
            ReplicateError::RecordTooLarge { topic: t, partition: 0, offset: 1, size, limit: 1_048_588, .. }
                if *t == topic && *size > 1_200_000 && *size < 1_200_100
        ),
        "{error:?}"
    );
    assert!(!error.is_retriable());
    let text = error.to_string();
    assert!(
        text.contains(&format!("{topic} partition 0 offset 1"))
            && text.contains("fatal: record too large"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_the_target_refuses_is_named_with_the_brokers_message_and_the_way_past_it() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name("refusal").replace('-', "_");
    let topic = format!("{prefix}.orders");
    data::create_topic(&source.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A config Kafka 4 no longer knows, forced on the target by an override.
    let config = migration_file(dir.path(), &prefix, &prefix, source, target, "");
    topic_config(
        &config,
        "override = { \"message.format.version\" = \"2.8\" }",
    );
    let (kind, subject, reason) = only_blocker(&config);
    assert_eq!(kind, "config_rejected");
    assert_eq!(subject, format!("topic \"{topic}\""));
    assert!(
        reason.contains("config message.format.version=2.8 from `topics.config.override`")
            && reason.contains("change or remove it there"),
        "{reason}"
    );
    // The broker's own words name it too, not only an error code.
    assert!(
        reason.matches("message.format.version").count() >= 2,
        "{reason}"
    );
}
