//! The data engine on real clusters: records arrive identical and exactly once, transactions
//! aborted on the source are not copied, a run resumes from its progress, a second process is
//! fenced, and records lost to retention are reported.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use kafka_harness::{data, shared};
use kafka_migrate::replicate::{self, Delivery, Event, ReplicateError};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::support::*;

#[tokio::test]
async fn records_arrive_identical_and_exactly_once() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("eos");
    let topic = data::unique_name("orders");
    let compacted = data::unique_name("customers");
    prepare(
        source,
        target,
        &migration,
        &[
            (&topic, 4, &[]),
            (
                &compacted,
                2,
                &[
                    ("cleanup.policy", "compact"),
                    ("min.compaction.lag.ms", "3600000"),
                ],
            ),
        ],
    )
    .await;
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(4_000, 4),
    )
    .await
    .unwrap();
    // Compacted topics need keys; every fifth record is a tombstone.
    let mut tombstones = data::sample_records(300, 2);
    for (i, r) in tombstones.iter_mut().enumerate() {
        r.key = Some(format!("customer-{}", i % 40).into_bytes());
        if i % 5 == 0 {
            r.value = None;
        }
    }
    data::produce(&source.admin_config(), &compacted, &tombstones)
        .await
        .unwrap();

    let mut parts = partitions_of(&topic, 4);
    parts.extend(partitions_of(&compacted, 2));
    let events = run(
        settings(&migration, source, target, Delivery::ExactlyOnce),
        parts.clone(),
    )
    .await
    .unwrap();
    assert!(events.iter().any(|e| matches!(e, Event::Synced { .. })));
    assert_eq!(assert_identical(source, target, &topic), 4_000);
    assert_eq!(assert_identical(source, target, &compacted), 300);

    // A second run finds everything replicated and copies nothing again.
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(100, 4),
    )
    .await
    .unwrap();
    run(
        settings(&migration, source, target, Delivery::ExactlyOnce),
        parts,
    )
    .await
    .unwrap();
    assert_eq!(assert_identical(source, target, &topic), 4_100);
}

#[tokio::test]
async fn aborted_transactions_on_the_source_are_not_copied() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("txn");
    let topic = data::unique_name("payments");
    prepare(source, target, &migration, &[(&topic, 2, &[])]).await;
    let producer: BaseProducer = source
        .admin_config()
        .set("transactional.id", data::unique_name("txn-source"))
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    for round in 0..6 {
        producer.begin_transaction().unwrap();
        for i in 0..50 {
            let payload = format!("round-{round}-{i}");
            producer
                .send(
                    BaseRecord::<str, str>::to(&topic)
                        .partition(i % 2)
                        .key("k")
                        .payload(&payload),
                )
                .unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();
        if round % 2 == 1 {
            producer.abort_transaction(Duration::from_secs(30)).unwrap();
        } else {
            producer
                .commit_transaction(Duration::from_secs(30))
                .unwrap();
        }
    }
    run(
        settings(&migration, source, target, Delivery::ExactlyOnce),
        partitions_of(&topic, 2),
    )
    .await
    .unwrap();
    assert_eq!(assert_identical(source, target, &topic), 150);
    let copied = data::read_all(&target.admin_config(), &topic).unwrap();
    assert!(copied.values().flatten().all(|s| !String::from_utf8_lossy(
        s.record.value.as_deref().unwrap_or_default()
    )
    .starts_with("round-1")));
}

#[tokio::test]
async fn at_least_once_delivery_copies_everything() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("alo");
    let topic = data::unique_name("events");
    prepare(source, target, &migration, &[(&topic, 3, &[])]).await;
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(1_500, 3),
    )
    .await
    .unwrap();
    run(
        settings(&migration, source, target, Delivery::AtLeastOnce),
        partitions_of(&topic, 3),
    )
    .await
    .unwrap();
    assert_eq!(assert_identical(source, target, &topic), 1_500);
}

#[tokio::test]
async fn records_that_expired_before_replication_are_reported_lost() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("lost");
    let topic = data::unique_name("shortlived");
    prepare(source, target, &migration, &[(&topic, 1, &[])]).await;
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(100, 1),
    )
    .await
    .unwrap();
    run(
        settings(&migration, source, target, Delivery::ExactlyOnce),
        partitions_of(&topic, 1),
    )
    .await
    .unwrap();

    // More records arrive, and retention removes them before the next run.
    data::produce(&source.admin_config(), &topic, &data::sample_records(50, 1))
        .await
        .unwrap();
    data::delete_records(&source.admin_config(), &topic, 0, 130)
        .await
        .unwrap();

    let err = run(
        settings(&migration, source, target, Delivery::ExactlyOnce),
        partitions_of(&topic, 1),
    )
    .await
    .expect_err("the gap must be reported");
    match err {
        ReplicateError::RecordsLost {
            topic: t,
            partition,
            from,
            to,
        } => {
            assert_eq!(
                (t.as_str(), partition, from, to),
                (topic.as_str(), 0, 100, 130)
            );
        }
        other => panic!("expected RecordsLost, got {other}"),
    }
}

#[tokio::test]
async fn a_second_process_fences_the_first_and_data_stays_exactly_once() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("fence");
    let topic = data::unique_name("fenced");
    prepare(source, target, &migration, &[(&topic, 2, &[])]).await;
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(500, 2),
    )
    .await
    .unwrap();

    // The first run keeps going (not until synced) …
    let mut first = settings(&migration, source, target, Delivery::ExactlyOnce);
    first.until_synced = false;
    first.tasks = 1;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(AtomicBool::new(false));
    let running = tokio::spawn(replicate::replicate(
        Arc::new(first),
        partitions_of(&topic, 2),
        stop.clone(),
        tx,
    ));
    // … and has committed progress before the second one starts.
    while !matches!(rx.recv().await, Some(Event::Committed { .. })) {}

    let mut second = settings(&migration, source, target, Delivery::ExactlyOnce);
    second.tasks = 1;
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(300, 2),
    )
    .await
    .unwrap();
    run(second, partitions_of(&topic, 2)).await.unwrap();

    let outcome = tokio::time::timeout(Duration::from_secs(60), running).await;
    // Whatever happened, the first run must not outlive the test.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    match outcome.expect("the fenced run stops by itself").unwrap() {
        // It saw the later run announce itself (or was fenced first, and names it all the same).
        Err(ReplicateError::Superseded { .. }) => {}
        other => panic!("the first run should have given way to the second, got {other:?}"),
    }
    assert_eq!(assert_identical(source, target, &topic), 800);
}
