//! `verify` through the CLI on real clusters: READY after a complete migration (and a consumer
//! switched to the target then reads exactly the rest), and each check failing for its own
//! reason with evidence naming the topic, partition or group.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kafka_harness::data::{self, Record};
use kafka_harness::tools::Tool;
use kafka_harness::{shared, Cluster};
use kafka_migrate::config::names::progress_topic;
use kafka_migrate::state::progress::{Position, ProgressKey, ProgressValue};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::Value;

use crate::support::{
    apply_until_synced, assert_ready, check, committed_offset, full_check_file, kafka_migrate,
    migration_file, verify,
};

/// Source offsets the group `PREFIX-app` committed, per partition of `PREFIX.orders`.
const COMMITTED: [(i32, i64); 3] = [(0, 40), (1, 100), (2, 0)];

/// A migrated prefix: `PREFIX.orders` (3 partitions, 100 records each) and `PREFIX.state`
/// (compacted, with tombstones), group `PREFIX-app`, applied until synced.
struct Migrated {
    _dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
}

async fn migrated(quiet_period: &str) -> Migrated {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name("verify").replace('-', "_");
    let orders = format!("{prefix}.orders");
    let state = format!("{prefix}.state");
    data::create_topic(
        &source.admin_config(),
        &orders,
        3,
        1,
        &[("retention.ms", "604800000")],
    )
    .await
    .unwrap();
    data::create_topic(
        &source.admin_config(),
        &state,
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    data::produce(
        &source.admin_config(),
        &orders,
        &data::sample_records(300, 3),
    )
    .await
    .unwrap();
    let mut updates = data::sample_records(40, 1);
    for (i, r) in updates.iter_mut().enumerate() {
        r.key = Some(format!("k{}", i % 8).into_bytes());
        if i % 5 == 4 {
            r.value = None;
        }
    }
    data::produce(&source.admin_config(), &state, &updates)
        .await
        .unwrap();
    let offsets: Vec<(&str, i32, i64)> = COMMITTED
        .iter()
        .map(|(p, o)| (orders.as_str(), *p, *o))
        .collect();
    data::commit_offsets(&source.admin_config(), &format!("{prefix}-app"), &offsets).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = full_check_file(dir.path(), &prefix, source, target, quiet_period);
    apply_until_synced(&config);
    Migrated {
        _dir: dir,
        config,
        prefix,
        orders,
    }
}

/// The report says NOT READY (exit 2) because `name` failed with evidence containing
/// `evidence`; every other check passed (or was skipped).
fn assert_fails_only(report: (i32, Value), name: &str, evidence: &str) {
    let (code, report) = report;
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(report["verdict"], "NOT READY");
    let failed = check(&report, name);
    assert_eq!(failed["status"], "FAIL", "{report:#}");
    assert!(
        failed["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().contains(evidence)),
        "evidence of {name} lacks {evidence:?}: {report:#}"
    );
    for c in report["checks"].as_array().unwrap() {
        if c["name"] != name {
            assert_ne!(
                c["status"], "FAIL",
                "{name} should be the only failure: {report:#}"
            );
        }
    }
}

#[tokio::test]
async fn ready_after_a_complete_migration_and_a_switched_consumer_reads_exactly_the_rest() {
    let m = migrated("1s").await;
    assert_ready(&m.config);
    let out = kafka_migrate(&m.config).arg("verify").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in [
        "data parity",
        "consumer groups",
        "source quiet",
        "source: 1 broker(s), 2 selected topic(s)",
        "target: 1 broker(s), 2 selected topic(s)",
        "READY FOR CUTOVER",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }

    // The consumer moves: on the target it resumes at the synced offsets and reads exactly
    // what it would have read on the source.
    let (source, target) = (shared::plain_source(), shared::target());
    let group = format!("{}-app", m.prefix);
    for (partition, s) in COMMITTED {
        let t = committed_offset(target, &group, &m.orders, partition).unwrap_or(-1);
        let rest = |c: &Cluster, at: i64| -> Vec<Record> {
            data::read_from(&c.admin_config(), &m.orders, partition, at)
                .unwrap()
                .into_iter()
                .map(|s| s.record)
                .collect()
        };
        assert_eq!(rest(target, t), rest(source, s), "partition {partition}");
    }
}

#[tokio::test]
async fn lag_fails_naming_the_partitions_behind() {
    let m = migrated("1s").await;
    assert_ready(&m.config);
    let late = data::sample_records(7, 3);
    data::produce(&shared::plain_source().admin_config(), &m.orders, &late)
        .await
        .unwrap();
    assert_fails_only(
        verify(&m.config),
        "lag",
        &format!("{} partition 0: 3 record offset(s) behind", m.orders),
    );
}

#[tokio::test]
async fn a_source_still_written_fails_the_quiet_check() {
    let m = migrated("3s").await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, topic) = (stop.clone(), m.orders.clone());
        std::thread::spawn(move || {
            let producer: BaseProducer = shared::plain_source().admin_config().create().unwrap();
            while !stop.load(Ordering::Relaxed) {
                let _ = producer.send(BaseRecord::to(&topic).partition(1).key("k").payload("v"));
                producer.flush(std::time::Duration::from_secs(30)).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let (code, report) = verify(&m.config);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(code, 2, "{report:#}");
    let quiet = check(&report, "source quiet");
    assert_eq!(quiet["status"], "FAIL", "{report:#}");
    let evidence = quiet["evidence"][0].as_str().unwrap();
    assert!(
        evidence.starts_with(&format!("{} partition 1: end offset ", m.orders)),
        "{report:#}"
    );
}

#[tokio::test]
async fn a_missing_topic_and_config_drift_fail_their_checks() {
    let m = migrated("1s").await;
    let (source, target) = (shared::plain_source(), shared::target());
    target
        .tool(
            Tool::Configs,
            &[
                "--alter",
                "--entity-type",
                "topics",
                "--entity-name",
                &m.orders,
                "--add-config",
                "retention.ms=86400000",
            ],
        )
        .unwrap();
    assert_fails_only(
        verify(&m.config),
        "configs",
        &format!(
            "topic \"{}\": retention.ms is 86400000 on the target, 604800000 wanted",
            m.orders
        ),
    );
    let late = format!("{}.late", m.prefix);
    data::create_topic(&source.admin_config(), &late, 2, 1, &[])
        .await
        .unwrap();
    let (code, report) = verify(&m.config);
    assert_eq!(code, 2);
    let topics = check(&report, "topics");
    assert_eq!(topics["status"], "FAIL", "{report:#}");
    assert!(
        topics["evidence"]
            .as_array()
            .unwrap()
            .contains(&Value::from(format!(
                "topic \"{late}\" is missing on the target"
            ))),
        "{report:#}"
    );
}

#[tokio::test]
async fn a_wrong_group_offset_on_the_target_fails_naming_the_group() {
    let m = migrated("1s").await;
    let group = format!("{}-app", m.prefix);
    data::commit_offsets(
        &shared::target().admin_config(),
        &group,
        &[(&m.orders, 0, 10)],
    )
    .unwrap();
    assert_fails_only(
        verify(&m.config),
        "consumer groups",
        &format!(
            "group \"{group}\" {} partition 0: committed 10 on the target, 40 is the exact translation of source offset 40",
            m.orders
        ),
    );
}

/// One record differs on the target: the replicated range is written by hand (with the
/// migration's progress records) and one value altered on the way.
#[tokio::test]
async fn one_altered_record_fails_data_parity_naming_its_offset() {
    let (source, target) = (shared::plain_source(), shared::target());
    let prefix = data::unique_name("parity").replace('-', "_");
    let topic = format!("{prefix}.events");
    for c in [source, target] {
        data::create_topic(&c.admin_config(), &topic, 1, 1, &[])
            .await
            .unwrap();
    }
    let records = data::sample_records(50, 1);
    data::produce(&source.admin_config(), &topic, &records)
        .await
        .unwrap();
    let mut altered = records.clone();
    altered[30].value = Some(b"not what the source holds".to_vec());
    data::produce(&target.admin_config(), &topic, &altered)
        .await
        .unwrap();
    let progress = progress_topic(&prefix);
    data::create_topic(
        &target.admin_config(),
        &progress,
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    let producer: BaseProducer = target.admin_config().create().unwrap();
    let at = |s, t| ProgressValue {
        position: Position {
            next_source: s,
            next_target: t,
        },
        records: s as u64,
        bytes: 0,
    };
    for (key, value) in [
        (
            ProgressKey::Index {
                topic: topic.clone(),
                partition: 0,
                next_source: 0,
            },
            at(0, 0),
        ),
        (
            ProgressKey::Position {
                topic: topic.clone(),
                partition: 0,
            },
            at(50, 50),
        ),
    ] {
        let (k, v) = (key.encode(), value.encode());
        producer
            .send(BaseRecord::to(&progress).key(&k[..]).payload(&v[..]))
            .unwrap();
    }
    producer.flush(std::time::Duration::from_secs(10)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &prefix,
        &prefix,
        source,
        target,
        "cutover {\n  quiet_period = \"1s\"\n  data_check = \"sample\"\n}",
    );
    assert_fails_only(
        verify(&config),
        "data parity",
        &format!(
            "{topic} partition 0: record #31 of the range differs in value (source offset 30, target offset 30)"
        ),
    );
}

#[tokio::test]
async fn an_unreachable_target_fails_connectivity_and_exits_1() {
    let source = shared::plain_source();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name = \"unreachable\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"127.0.0.1:1\"] }}\n",
        source.bootstrap()
    );
    let config = dir.path().join("migration.hcl");
    std::fs::write(&config, text).unwrap();
    let (code, report) = verify(&config);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["verdict"], "NOT READY");
    let c = check(&report, "connectivity");
    assert_eq!(c["status"], "FAIL");
    assert!(
        c["summary"].as_str().unwrap().contains("target"),
        "{report:#}"
    );
    assert_eq!(check(&report, "lag")["status"], "SKIP");
}
