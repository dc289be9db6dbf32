//! Replication at scale, through the CLI: 1,000,000 records over 10 topics and 60 partitions —
//! null keys and values, headers, tombstones in a compacted topic, a transactional topic with
//! aborted transactions — and a record-by-record comparison (partition, order, key, value,
//! headers, timestamp) of the source, read_committed, with the target — and 300 partitions with
//! a little data each, whose progress is written for the partitions that moved.

use std::collections::BTreeMap;

use kafka_harness::data::{self, Record};
use kafka_harness::shared;
use kafka_migrate::config::names::progress_topic;
use kafka_migrate::state::progress::{ProgressKey, ProgressValue};
use kafka_migrate::state::Position;

use crate::support::{apply_until_synced, assert_identical, migration_file};

const PARTITIONS: i32 = 6;
/// Eight plain topics of this many records …
const PLAIN: usize = 110_000;
/// … a compacted one (keys repeat, every fifth record a tombstone) …
const COMPACTED: usize = 60_000;
/// … and a transactional one: this many committed records, in transactions of `TXN` records,
/// each followed by an aborted transaction of `TXN / 2`.
const TRANSACTIONAL: usize = 60_000;
const TXN: usize = 2_000;

#[tokio::test]
async fn a_million_records_over_sixty_partitions_arrive_identical() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("million").replace('-', "_");
    let plain: Vec<String> = (0..8).map(|i| format!("{p}.plain-{i}")).collect();
    let compacted = format!("{p}.compacted");
    let transactional = format!("{p}.transactional");
    for t in &plain {
        data::create_topic(&source.admin_config(), t, PARTITIONS, 1, &[])
            .await
            .unwrap();
        data::produce(
            &source.admin_config(),
            t,
            &data::sample_records(PLAIN, PARTITIONS),
        )
        .await
        .unwrap();
    }
    data::create_topic(
        &source.admin_config(),
        &compacted,
        PARTITIONS,
        1,
        &[
            ("cleanup.policy", "compact"),
            ("min.compaction.lag.ms", "3600000"),
        ],
    )
    .await
    .unwrap();
    let mut updates = data::sample_records(COMPACTED, PARTITIONS);
    for (i, r) in updates.iter_mut().enumerate() {
        r.key = Some(format!("customer-{}", i % 5_000).into_bytes());
        if i % 5 == 0 {
            r.value = None;
        }
    }
    data::produce(&source.admin_config(), &compacted, &updates)
        .await
        .unwrap();
    data::create_topic(&source.admin_config(), &transactional, PARTITIONS, 1, &[])
        .await
        .unwrap();
    let committed = data::sample_records(TRANSACTIONAL, PARTITIONS);
    let aborted: Vec<Record> = data::sample_records(TRANSACTIONAL / 2, PARTITIONS)
        .into_iter()
        .map(|mut r| {
            r.value = Some(b"aborted".to_vec());
            r
        })
        .collect();
    let transactions: Vec<(&[Record], bool)> = committed
        .chunks(TXN)
        .zip(aborted.chunks(TXN / 2))
        .flat_map(|(c, a)| [(c, true), (a, false)])
        .collect();
    data::produce_in_transactions(&source.admin_config(), &transactional, &transactions).unwrap();

    let (_dir, _) = migrated(source, target, &p);

    let mut total = 0;
    for t in plain.iter().chain([&compacted, &transactional]) {
        total += assert_identical(source, target, t);
    }
    assert_eq!(total, 8 * PLAIN + COMPACTED + TRANSACTIONAL);
    assert_eq!(total, 1_000_000);
}

/// Migrates the topics `^PREFIX\.` with 2 tasks (`apply --until-synced`): the folder and
/// the migration file, to apply again.
fn migrated(
    source: &kafka_harness::Cluster,
    target: &kafka_harness::Cluster,
    prefix: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        prefix,
        prefix,
        source,
        target,
        "acls { sync = false }\nreplication { tasks = 2 }",
    );
    apply_until_synced(&config);
    (dir, config)
}

/// Records of `count` in `partition` only (the sample records' keys, values and headers).
fn records_in(partition: i32, count: usize) -> Vec<Record> {
    data::sample_records(count, 1)
        .into_iter()
        .map(|mut r| {
            r.partition = partition;
            r
        })
        .collect()
}

/// Position records as written: partition and position.
type Written = Vec<((String, i32), Position)>;

/// The position records of the progress topic from `from` on, and the topic's end.
fn positions_written(
    target: &kafka_harness::Cluster,
    progress_topic: &str,
    from: i64,
) -> (Written, i64) {
    let stored = data::read_all(&target.admin_config(), progress_topic).unwrap();
    let records = &stored[&0];
    let end = records.last().map_or(from, |s| s.offset + 1);
    let positions = records
        .iter()
        .filter(|s| s.offset >= from)
        .filter_map(|s| {
            let key = ProgressKey::decode(s.record.key.as_deref()?)?;
            let value = ProgressValue::decode(s.record.value.as_deref()?)?;
            match key {
                ProgressKey::Position { topic, partition } => {
                    Some(((topic, partition), value.position))
                }
                _ => None,
            }
        })
        .collect();
    (positions, end)
}

/// 300 partitions with a little data each, through the CLI: every record arrives and every
/// partition has a position; after records are added to one partition, the next apply writes
/// progress for that partition (and at most a heartbeat's position per task), not for all.
#[tokio::test]
async fn three_hundred_partitions_arrive_and_progress_follows_the_partitions_that_moved() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("wide").replace('-', "_");
    let topics: Vec<String> = (0..60).map(|i| format!("{p}.t-{i:02}")).collect();
    for t in &topics {
        data::create_topic(&source.admin_config(), t, 5, 1, &[])
            .await
            .unwrap();
        data::produce(&source.admin_config(), t, &data::sample_records(20, 5))
            .await
            .unwrap();
    }
    let (_dir, config) = migrated(source, target, &p);
    let total: usize = topics
        .iter()
        .map(|t| assert_identical(source, target, t))
        .sum();
    assert_eq!(total, 60 * 20);
    let progress = progress_topic(&p);
    let (first, end) = positions_written(target, &progress, 0);
    let before: BTreeMap<(String, i32), Position> = first.into_iter().collect();
    assert_eq!(before.len(), 300, "every partition has a position");

    let moved = (topics[7].clone(), 2);
    data::produce(&source.admin_config(), &moved.0, &records_in(moved.1, 10))
        .await
        .unwrap();
    apply_until_synced(&config);
    assert_eq!(assert_identical(source, target, &moved.0), 30);
    let (second, _) = positions_written(target, &progress, end);
    let at = |key: &(String, i32)| second.iter().filter(|(k, _)| k == key).count();
    assert!(at(&moved) >= 1, "{second:?}");
    assert_eq!(
        second
            .iter()
            .rev()
            .find(|(k, _)| *k == moved)
            .map(|(_, p)| p.next_source),
        Some(before[&moved].next_source + 10)
    );
    // Every other position written is a heartbeat: unchanged, and only a few.
    let others: Vec<_> = second.iter().filter(|(k, _)| *k != moved).collect();
    assert!(others.len() <= 4, "{others:?}");
    for (key, position) in others {
        assert_eq!(before[key], *position, "{key:?}");
    }
}
