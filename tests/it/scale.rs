//! Replication at scale, through the CLI: 1,000,000 records over 10 topics and 60 partitions —
//! null keys and values, headers, tombstones in a compacted topic, a transactional topic with
//! aborted transactions — and a record-by-record comparison (partition, order, key, value,
//! headers, timestamp) of the source, read_committed, with the target.

use kafka_harness::data::{self, Record};
use kafka_harness::shared;

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

    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "acls { sync = false }\nreplication { tasks = 2 }",
    );
    apply_until_synced(&config);

    let mut total = 0;
    for t in plain.iter().chain([&compacted, &transactional]) {
        total += assert_identical(source, target, t);
    }
    assert_eq!(total, 8 * PLAIN + COMPACTED + TRANSACTIONAL);
    assert_eq!(total, 1_000_000);
}
