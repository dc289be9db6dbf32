//! Exact offset translation on real clusters: for every committed source offset S, a consumer
//! resuming on the target at the translated offset reads exactly the records a consumer
//! resuming on the source at S reads — across aborted transactions, a truncated log start and
//! compaction gaps.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_harness::data::{self, Record, Stored};
use kafka_harness::{shared, Cluster};
use kafka_migrate::config::names::progress_topic;
use kafka_migrate::groups::{TranslateError, Translation, Translator, Wanted};
use kafka_migrate::replicate::{self, Delivery};
use kafka_migrate::state::{PartitionProgress, Position, Store};
use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use crate::support::*;

/// A translator's consumer, with `extra` settings.
fn reader_with(cluster: &Cluster, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut config = cluster.admin_config();
    config
        .set("group.id", data::unique_name("translator"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    config.create().unwrap()
}

fn reader(cluster: &Cluster) -> BaseConsumer {
    reader_with(cluster, &[])
}

fn records(stored: &[Stored]) -> Vec<&Record> {
    stored.iter().map(|s| &s.record).collect()
}

/// Replicates `topic` (one partition) and checks the translation of every source offset from
/// the log start to the end.
async fn assert_exact_translation(
    source: &Cluster,
    target: &Cluster,
    migration: &str,
    topic: &str,
) {
    run(
        settings(migration, source, target, Delivery::ExactlyOnce),
        partitions_of(topic, 1),
    )
    .await
    .unwrap();
    let progress = Store::new(migration, props(target)).read().unwrap();
    let partition = progress
        .get(topic, 0)
        .expect("progress for the partition")
        .clone();
    let mut translator = Translator::new(reader(source), reader(target), Duration::from_secs(30));
    // What a read_committed consumer resuming at an offset reads is the tail of the log from
    // that offset; both logs are read once and sliced.
    let source_log = data::read_all(&source.admin_config(), topic)
        .unwrap()
        .remove(&0)
        .unwrap();
    let target_log = data::read_all(&target.admin_config(), topic)
        .unwrap()
        .remove(&0)
        .unwrap();
    let tail = |log: &[Stored], from: i64| -> Vec<Record> {
        log.iter()
            .filter(|s| s.offset >= from)
            .map(|s| s.record.clone())
            .collect()
    };
    let first = source_log.first().map_or(0, |s| s.offset);
    let end = partition.position.unwrap().next_source;
    let wanted: Vec<i64> = (first..=end).collect();
    let translated: BTreeMap<i64, Translation> = translator
        .translate(&[Wanted {
            topic,
            partition: 0,
            progress: &partition,
            offsets: wanted.clone(),
        }])
        .unwrap()
        .into_iter()
        .map(|((_, _, s), t)| (s, t))
        .collect();
    let mut checked = 0;
    for s in wanted {
        let Translation::Exact(t) = translated[&s] else {
            panic!(
                "offset {s} of {topic} is not translated: {:?}",
                translated[&s]
            );
        };
        assert_eq!(
            tail(&target_log, t),
            tail(&source_log, s),
            "{topic}: source offset {s} → target offset {t}"
        );
        checked += 1;
    }
    // A consumer really resuming on the target at a translated offset reads the same.
    let middle = first + (end - first) / 2;
    if let Translation::Exact(t) = translated[&middle] {
        let resumed = data::read_from(&target.admin_config(), topic, 0, t).unwrap();
        assert_eq!(
            records(&resumed),
            records(
                &source_log
                    .iter()
                    .filter(|s| s.offset >= middle)
                    .cloned()
                    .collect::<Vec<_>>()
            )
        );
    }
    assert!(checked > 10, "too few offsets checked: {checked}");
}

#[tokio::test]
async fn translation_is_exact_across_aborted_transactions() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("xlate-txn");
    let topic = data::unique_name("txn-orders");
    prepare(source, target, &migration, &[(&topic, 1, &[])]).await;
    let producer: BaseProducer = source
        .admin_config()
        .set("transactional.id", data::unique_name("xlate-source"))
        .create()
        .unwrap();
    producer.init_transactions(Duration::from_secs(30)).unwrap();
    for round in 0..8 {
        producer.begin_transaction().unwrap();
        for i in 0..(3 + round) {
            let value = format!("round-{round}-{i}");
            producer
                .send(
                    BaseRecord::<str, str>::to(&topic)
                        .partition(0)
                        .key("k")
                        .payload(&value),
                )
                .unwrap();
        }
        producer.flush(Duration::from_secs(30)).unwrap();
        if round % 3 == 1 {
            producer.abort_transaction(Duration::from_secs(30)).unwrap();
        } else {
            producer
                .commit_transaction(Duration::from_secs(30))
                .unwrap();
        }
    }
    assert_exact_translation(source, target, &migration, &topic).await;
}

#[tokio::test]
async fn translation_is_exact_for_a_truncated_log_start() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("xlate-trunc");
    let topic = data::unique_name("truncated");
    prepare(source, target, &migration, &[(&topic, 1, &[])]).await;
    data::produce(&source.admin_config(), &topic, &data::sample_records(80, 1))
        .await
        .unwrap();
    data::delete_records(&source.admin_config(), &topic, 0, 30)
        .await
        .unwrap();
    assert_exact_translation(source, target, &migration, &topic).await;
}

#[tokio::test]
async fn translation_is_exact_across_compaction_gaps() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("xlate-compact");
    let topic = data::unique_name("compacted");
    let configs: &[(&str, &str)] = &[
        ("cleanup.policy", "compact"),
        ("segment.ms", "100"),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("min.compaction.lag.ms", "0"),
        ("delete.retention.ms", "3600000"),
    ];
    data::create_topic(&source.admin_config(), &topic, 1, 1, configs)
        .await
        .unwrap();
    data::create_topic(
        &target.admin_config(),
        &topic,
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    data::create_topic(
        &target.admin_config(),
        &progress_topic(&migration),
        1,
        1,
        &[("cleanup.policy", "compact")],
    )
    .await
    .unwrap();
    write_until_compacted(source, &topic).await;
    assert_exact_translation(source, target, &migration, &topic).await;
}

/// Progress of a partition replicated up to `head` on both sides, aligned at 0 and the head.
fn aligned_to(head: i64) -> PartitionProgress {
    let position = |offset| Position {
        next_source: offset,
        next_target: offset,
    };
    PartitionProgress {
        position: Some(position(head)),
        index: vec![position(0)],
        position_follows_record: true,
        ..Default::default()
    }
}

/// The translation of source `offset` of `topic` partition 0 from `progress`, each walk
/// giving up after `stall` without reading.
fn translate_one(
    (source, target): (&Cluster, &Cluster),
    topic: &str,
    progress: &PartitionProgress,
    offset: i64,
    stall: Duration,
) -> Result<Translation, Box<TranslateError>> {
    let wanted = [Wanted {
        topic,
        partition: 0,
        progress,
        offsets: vec![offset],
    }];
    let mut translator = Translator::new(reader(source), reader(target), stall);
    let translated = translator.translate(&wanted).map_err(Box::new)?;
    Ok(translated[&(topic.to_string(), 0, offset)])
}

/// The engine's progress can be read before the commit markers of its last transaction reach
/// the target partitions. Until they do, a read_committed reader's end of partition (the last
/// stable offset) lies below records the progress says are committed: that end must not end
/// the walk, or the offset would land past records a consumer has not read. A transaction
/// held open on the target plays that moment.
#[tokio::test]
async fn a_target_end_below_committed_progress_is_waited_for_not_taken() {
    use rdkafka::producer::Producer;
    let (source, target) = (shared::plain_source(), shared::target());
    let topic = data::unique_name("xlate-marker");
    let records = data::sample_records(10, 1);
    topic_with_records(source, &topic, records.len()).await;
    data::create_topic(&target.admin_config(), &topic, 1, 1, &[])
        .await
        .unwrap();
    let pending = data::open_transaction(&target.admin_config(), &topic, &records).unwrap();
    let progress = aligned_to(10);
    let translate = || {
        translate_one(
            (source, target),
            &topic,
            &progress,
            4,
            Duration::from_secs(10),
        )
    };
    match translate() {
        Err(e) if matches!(*e, TranslateError::Timeout { side: "target", .. }) => {}
        other => panic!("the walk must wait for the committed records, got {other:?}"),
    }
    pending.commit_transaction(Duration::from_secs(30)).unwrap();
    assert_eq!(translate().unwrap(), Translation::Exact(4));
}

/// Records the progress counts as replicated but deleted from the target since (retention
/// there, or deleted records) end the walk instead of being waited for.
#[tokio::test]
async fn target_records_deleted_since_they_were_replicated_are_not_waited_for() {
    let (source, target) = (shared::plain_source(), shared::target());
    let topic = data::unique_name("xlate-deleted");
    topic_with_records(source, &topic, 10).await;
    topic_with_records(target, &topic, 10).await;
    data::delete_records(&target.admin_config(), &topic, 0, 10)
        .await
        .unwrap();
    let progress = aligned_to(10);
    let stall = Duration::from_secs(20);
    let translated = translate_one((source, target), &topic, &progress, 4, stall).unwrap();
    // Nothing below the target's log start is left to read: the consumer starts there.
    assert_eq!(translated, Translation::Exact(10));
}

/// MirrorMaker 2's positions are the target's end, which may follow a transaction marker
/// rather than a record: a walk that reaches that end has seen everything.
#[tokio::test]
async fn a_position_after_a_marker_is_the_end_of_the_walk() {
    let (source, target) = (shared::plain_source(), shared::target());
    let topic = data::unique_name("xlate-marker-end");
    for cluster in [source, target] {
        data::create_topic(&cluster.admin_config(), &topic, 1, 1, &[])
            .await
            .unwrap();
        // Records at 0..10, the commit marker at 10.
        let records = data::sample_records(10, 1);
        data::produce_in_transactions(&cluster.admin_config(), &topic, &[(&records[..], true)])
            .unwrap();
    }
    let mut progress = aligned_to(11);
    progress.position_follows_record = false;
    // Offset 10 is where a consumer that read every record commits.
    let stall = Duration::from_secs(10);
    let translated = translate_one((source, target), &topic, &progress, 10, stall).unwrap();
    assert_eq!(translated, Translation::Exact(11));
}

/// After a rollback the forward progress is aligned at the target's end, which may follow an
/// aborted transaction an application wrote there (records and the abort marker): a walk to
/// that end reads through them instead of waiting for a record that never comes.
#[tokio::test]
async fn an_aligned_end_after_an_aborted_transaction_ends_the_walk() {
    let (source, target) = (shared::plain_source(), shared::target());
    let topic = data::unique_name("xlate-aborted-end");
    let records = data::sample_records(10, 1);
    for cluster in [source, target] {
        data::create_topic(&cluster.admin_config(), &topic, 1, 1, &[])
            .await
            .unwrap();
        // Records at 0..10, the commit marker at 10.
        data::produce_in_transactions(&cluster.admin_config(), &topic, &[(&records[..], true)])
            .unwrap();
    }
    // On the target only: an application's aborted transaction, 11..16, its marker at 16.
    let aborted = data::sample_records(5, 1);
    data::produce_in_transactions(&target.admin_config(), &topic, &[(&aborted[..], false)])
        .unwrap();
    let progress = PartitionProgress {
        position: Some(Position {
            next_source: 11,
            next_target: 17,
        }),
        index: vec![Position {
            next_source: 0,
            next_target: 0,
        }],
        position_follows_record: true,
        ..Default::default()
    };
    // Every record below source offset 10 read: the consumer resumes at the target's end
    // (a walk that waited for a record at 16 would give up with a timeout instead).
    let stall = Duration::from_secs(20);
    let translated = translate_one((source, target), &topic, &progress, 10, stall).unwrap();
    assert_eq!(translated, Translation::Exact(17));
}

#[tokio::test]
async fn many_partitions_of_several_topics_are_translated_exactly_in_one_pass() {
    let (source, target) = (shared::plain_source(), shared::target());
    let migration = data::unique_name("xlate-many");
    // A long topic (several index stretches per partition) and a short one whose partitions,
    // numbered like the long one's, reach their end long before: one partition's end must
    // not end the walk of its namesake.
    let long = data::unique_name("many-long");
    let short = data::unique_name("many-short");
    prepare(
        source,
        target,
        &migration,
        &[(&long, 3, &[]), (&short, 3, &[])],
    )
    .await;
    let config = source.admin_config();
    let batch = data::sample_records(15_000, 3);
    let aborted = data::sample_records(30, 3);
    data::produce_in_transactions(
        &config,
        &long,
        &[
            (&batch[..], true),
            (&aborted[..], false),
            (&batch[..], true),
            (&batch[..], true),
            (&batch[..], true),
            (&batch[..], true),
        ],
    )
    .unwrap();
    let few = data::sample_records(60, 3);
    data::produce_in_transactions(&config, &short, &[(&few[..], true), (&aborted[..], false)])
        .unwrap();
    let mut partitions = partitions_of(&long, 3);
    partitions.extend(partitions_of(&short, 3));
    // Batches of at most 2,000 records: an index entry starts within 12,000 offsets of the
    // one before, so each 25,000-offset partition has at least three, whatever the timing.
    let engine = || replicate::Settings {
        max_batch_records: 2_000,
        ..settings(&migration, source, target, Delivery::ExactlyOnce)
    };
    run(engine(), partitions).await.unwrap();
    assert_identical(source, target, &long);
    assert_identical(source, target, &short);
    let progress = engine().store.read().unwrap();

    let mut wanted = Vec::new();
    let mut logs = BTreeMap::new();
    for topic in [&long, &short] {
        let source_log = data::read_all(&source.admin_config(), topic).unwrap();
        let target_log = data::read_all(&target.admin_config(), topic).unwrap();
        for p in 0..3 {
            let partition = progress.get(topic, p).expect("progress of the partition");
            let head = partition.position.unwrap().next_source;
            if topic == &long {
                assert!(partition.index.len() >= 3, "{:?}", partition.index);
            }
            let offsets: Vec<i64> = (0..head).step_by(97).chain([head - 1, head]).collect();
            wanted.push(Wanted {
                topic,
                partition: p,
                progress: partition,
                offsets,
            });
            logs.insert(
                (topic.clone(), p),
                (source_log[&p].clone(), target_log[&p].clone()),
            );
        }
    }
    // Small fetches: the long partitions take many, the short ones end in the first.
    let small = |cluster| reader_with(cluster, &[("max.partition.fetch.bytes", "16384")]);
    let mut translator = Translator::new(small(source), small(target), Duration::from_secs(60));
    let translated = translator.translate(&wanted).unwrap();
    let mut checked = 0;
    for w in &wanted {
        let (source_log, target_log) = &logs[&(w.topic.to_string(), w.partition)];
        for &s in &w.offsets {
            let Translation::Exact(t) = translated[&(w.topic.to_string(), w.partition, s)] else {
                panic!("{} {} offset {s} is not translated", w.topic, w.partition);
            };
            // Both logs hold the same records in the same order: a consumer resuming at t
            // reads what one resuming at s reads when as many records follow each.
            let after_s = source_log.iter().filter(|r| r.offset >= s).count();
            let after_t = target_log.iter().filter(|r| r.offset >= t).count();
            assert_eq!(
                after_t, after_s,
                "{} {}: source offset {s} → target offset {t}",
                w.topic, w.partition
            );
            checked += 1;
        }
    }
    assert!(checked > 700, "too few offsets checked: {checked}");
}
