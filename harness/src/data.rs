//! Test data: unique names, topics, records with keys, headers and timestamps, produced and
//! read back for record-by-record comparison.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, Timestamp, TopicPartitionList};

use crate::{HarnessError, Result};

/// A name no other test (or earlier run) uses: `prefix-<pid>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A record as a test writes it and as it is read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub partition: i32,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// CreateTime in milliseconds (for reads: the stored timestamp, whatever its type).
    pub timestamp: Option<i64>,
}

/// A record read from a topic, with where it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub offset: i64,
    pub record: Record,
}

/// `count` records spread over `partitions`, with keys, two headers (one null), CreateTime
/// timestamps a millisecond apart starting an hour ago (recent enough that retention and
/// compaction lag leave them alone), and every 10th value null and every 7th key null.
pub fn sample_records(count: usize, partitions: i32) -> Vec<Record> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let epoch_ms = now_ms - 3_600_000;
    (0..count)
        .map(|i| Record {
            partition: (i as i32) % partitions.max(1),
            key: (i % 7 != 3).then(|| format!("key-{i}").into_bytes()),
            value: (i % 10 != 9).then(|| format!("value-{i}-{}", "x".repeat(i % 50)).into_bytes()),
            headers: vec![
                ("seq".to_string(), Some(i.to_string().into_bytes())),
                ("nothing".to_string(), None),
            ],
            timestamp: Some(epoch_ms + i as i64),
        })
        .collect()
}

/// Creates a topic and waits until its metadata shows every partition with a leader.
pub async fn create_topic(
    config: &ClientConfig,
    name: &str,
    partitions: i32,
    replication: i32,
    configs: &[(&str, &str)],
) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(replication));
    for (k, v) in configs {
        topic = topic.set(k, v);
    }
    let results = admin
        .create_topics(
            [&topic],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await?;
    for result in results {
        if let Err((topic, code)) = result {
            return Err(HarnessError::Other(format!(
                "creating topic {topic}: {code}"
            )));
        }
    }
    wait_for_leaders(
        config,
        &[name.to_string()],
        partitions,
        Duration::from_secs(60),
    )
}

/// Creates many topics of `partitions` partitions each, 500 to a request, and waits until the
/// metadata shows every one with a leader for each partition.
pub async fn create_topics(
    config: &ClientConfig,
    names: &[String],
    partitions: i32,
    replication: i32,
) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(120)));
    for chunk in names.chunks(500) {
        let new: Vec<NewTopic<'_>> = chunk
            .iter()
            .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(replication)))
            .collect();
        for result in admin.create_topics(new.iter(), &opts).await? {
            if let Err((topic, code)) = result {
                return Err(HarnessError::Other(format!(
                    "creating topic {topic}: {code}"
                )));
            }
        }
    }
    wait_for_leaders(config, names, partitions, Duration::from_secs(600))
}

/// Waits until the metadata shows each of `names` with `partitions` partitions, every one with
/// a leader, for at most `within`. One topic is asked for by name, many with all topics.
fn wait_for_leaders(
    config: &ClientConfig,
    names: &[String],
    partitions: i32,
    within: Duration,
) -> Result<()> {
    let wanted: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let asked = match names {
        [one] => Some(one.as_str()),
        _ => None,
    };
    let consumer: BaseConsumer = config.create()?;
    let deadline = Instant::now() + within;
    let mut ready = 0;
    while Instant::now() < deadline {
        if let Ok(md) = consumer.fetch_metadata(asked, Duration::from_secs(5)) {
            ready = md
                .topics()
                .iter()
                .filter(|t| wanted.contains(t.name()))
                .filter(|t| {
                    t.error().is_none()
                        && t.partitions().len() == partitions as usize
                        && t.partitions()
                            .iter()
                            .all(|p| p.leader() >= 0 && p.error().is_none())
                })
                .count();
            if ready == wanted.len() {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(HarnessError::Other(match names {
        [one] => format!("topic {one} has no leaders after {}s", within.as_secs()),
        _ => format!(
            "only {ready} of {} topics have leaders after {}s",
            wanted.len(),
            within.as_secs()
        ),
    }))
}

/// `$record` (a `BaseRecord` or `FutureRecord`, which share their builder methods but no
/// trait) with the partition, key, value, headers and timestamp of the `Record` `$r`.
macro_rules! with_fields {
    ($record:expr, $r:expr) => {{
        let r: &Record = $r;
        let mut record = $record.partition(r.partition).headers(owned_headers(r));
        if let Some(key) = &r.key {
            record = record.key(key.as_slice());
        }
        if let Some(value) = &r.value {
            record = record.payload(value.as_slice());
        }
        if let Some(ts) = r.timestamp {
            record = record.timestamp(ts);
        }
        record
    }};
}

/// Produces `records` to their partitions of `topic` (idempotent producer, acks=all) and waits
/// for every delivery.
pub async fn produce(config: &ClientConfig, topic: &str, records: &[Record]) -> Result<()> {
    let producer: FutureProducer = config
        .clone()
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()?;
    let mut deliveries = Vec::with_capacity(records.len());
    for r in records {
        let mut record: FutureRecord<'_, [u8], [u8]> = with_fields!(FutureRecord::to(topic), r);
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    deliveries.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }
    for delivery in deliveries {
        let outcome = delivery
            .await
            .map_err(|_| HarnessError::Other("the producer went away".into()))?;
        outcome.map_err(|(e, _)| e)?;
    }
    Ok(())
}

fn owned_headers(r: &Record) -> OwnedHeaders {
    r.headers.iter().fold(OwnedHeaders::new(), |h, (k, v)| {
        h.insert(Header {
            key: k,
            value: v.as_deref(),
        })
    })
}

/// Produces each batch of records to `topic` in its own transaction, committed when its flag
/// is true and aborted otherwise (read_committed consumers never see those).
pub fn produce_in_transactions(
    config: &ClientConfig,
    topic: &str,
    transactions: &[(&[Record], bool)],
) -> Result<()> {
    let producer = transactional_producer(config, "harness-transactions")?;
    let timeout = Duration::from_secs(30);
    for (records, commit) in transactions {
        producer.begin_transaction()?;
        send_all(&producer, topic, records)?;
        producer.flush(timeout)?;
        if *commit {
            producer.commit_transaction(timeout)?;
        } else {
            producer.abort_transaction(timeout)?;
        }
    }
    let mut partitions: Vec<i32> = transactions
        .iter()
        .flat_map(|(records, _)| records.iter().map(|r| r.partition))
        .collect();
    partitions.sort_unstable();
    partitions.dedup();
    await_markers(config, topic, &partitions)
}

/// Waits until the last stable offset of each of `partitions` is its high watermark: a
/// transaction's commit or abort returns before its markers are written, and until they are
/// read_committed readers stop short of what it wrote.
fn await_markers(config: &ClientConfig, topic: &str, partitions: &[i32]) -> Result<()> {
    let end = |isolation: &str| -> Result<BaseConsumer> {
        Ok(config.clone().set("isolation.level", isolation).create()?)
    };
    // Watermark queries list offsets with the client's isolation level.
    let (committed, uncommitted) = (end("read_committed")?, end("read_uncommitted")?);
    let timeout = Duration::from_secs(10);
    let deadline = Instant::now() + Duration::from_secs(60);
    for &p in partitions {
        loop {
            let stable = committed.fetch_watermarks(topic, p, timeout)?.1;
            let high = uncommitted.fetch_watermarks(topic, p, timeout)?.1;
            if stable >= high {
                break;
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Other(format!(
                    "{topic} partition {p}: last stable offset {stable} below the high watermark {high} after 60s"
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(())
}

/// Writes `records` to `topic` in a transaction left open: read_committed readers stop before
/// them (at the partition's last stable offset) until the returned producer commits or aborts.
pub fn open_transaction(
    config: &ClientConfig,
    topic: &str,
    records: &[Record],
) -> Result<BaseProducer> {
    let producer = transactional_producer(config, "harness-open")?;
    producer.begin_transaction()?;
    send_all(&producer, topic, records)?;
    producer.flush(Duration::from_secs(30))?;
    Ok(producer)
}

fn transactional_producer(config: &ClientConfig, name: &str) -> Result<BaseProducer> {
    let producer: BaseProducer = config
        .clone()
        .set("transactional.id", unique_name(name))
        .set("linger.ms", "5")
        .create()?;
    producer.init_transactions(Duration::from_secs(30))?;
    Ok(producer)
}

fn send_all(producer: &BaseProducer, topic: &str, records: &[Record]) -> Result<()> {
    for r in records {
        let mut record: BaseRecord<'_, [u8], [u8]> = with_fields!(BaseRecord::to(topic), r);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Deletes the records of `topic`'s `partition` below `before` (the log start moves there).
pub async fn delete_records(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
    before: i64,
) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let mut upto = TopicPartitionList::new();
    upto.add_partition_offset(topic, partition, Offset::Offset(before))?;
    let deleted = admin.delete_records(&upto, &AdminOptions::new()).await?;
    for e in deleted.elements() {
        e.error()?;
    }
    Ok(())
}

/// Every record of every partition of `topic`, read from the beginning to the end with
/// `isolation.level=read_committed`, in partition then offset order.
pub fn read_all(config: &ClientConfig, topic: &str) -> Result<BTreeMap<i32, Vec<Stored>>> {
    let consumer = reader(config)?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let meta = md
        .topics()
        .first()
        .ok_or_else(|| HarnessError::Other(format!("no metadata for topic {topic}")))?;
    if let Some(code) = meta.error() {
        return Err(KafkaError::MetadataFetch(code.into()).into());
    }
    let partitions: Vec<i32> = meta.partitions().iter().map(|p| p.id()).collect();
    if partitions.is_empty() {
        return Err(HarnessError::Other(format!(
            "topic {topic} has no partitions"
        )));
    }
    let starts: Vec<(i32, Offset)> = partitions.iter().map(|p| (*p, Offset::Beginning)).collect();
    read_to_end(&consumer, topic, &starts)
}

/// The records of one partition from `offset` to the end (read_committed): what a consumer
/// that resumes at `offset` reads.
pub fn read_from(
    config: &ClientConfig,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<Stored>> {
    let consumer = reader(config)?;
    let mut out = read_to_end(&consumer, topic, &[(partition, Offset::Offset(offset))])?;
    Ok(out.remove(&partition).unwrap_or_default())
}

fn reader(config: &ClientConfig) -> Result<BaseConsumer> {
    Ok(config
        .clone()
        .set("group.id", unique_name("harness-reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed")
        .create()?)
}

fn read_to_end(
    consumer: &BaseConsumer,
    topic: &str,
    starts: &[(i32, Offset)],
) -> Result<BTreeMap<i32, Vec<Stored>>> {
    let mut tpl = TopicPartitionList::new();
    for (p, offset) in starts {
        tpl.add_partition_offset(topic, *p, *offset)?;
    }
    consumer.assign(&tpl)?;
    let mut out: BTreeMap<i32, Vec<Stored>> =
        starts.iter().map(|(p, _)| (*p, Vec::new())).collect();
    let mut at_end = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while at_end.len() < starts.len() {
        if Instant::now() > deadline {
            return Err(HarnessError::Other(format!(
                "reading {topic} did not reach the end in 120s"
            )));
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            // A broker that went away (a fault test killed it) is reported, then routed around.
            Some(Err(e))
                if e.rdkafka_error_code() == Some(RDKafkaErrorCode::BrokerTransportFailure) => {}
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                out.entry(m.partition()).or_default().push(stored(&m));
            }
        }
    }
    Ok(out)
}

fn stored(m: &rdkafka::message::BorrowedMessage<'_>) -> Stored {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    let timestamp = match m.timestamp() {
        Timestamp::NotAvailable => None,
        Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
    };
    Stored {
        offset: m.offset(),
        record: Record {
            partition: m.partition(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers,
            timestamp,
        },
    }
}

/// Whether an rdkafka error is the broker refusing for lack of permission.
pub fn is_authorization_error(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
        )
    )
}

/// Commits `offsets` for `group` as a real consumer of that group would (the group must have
/// no active members).
pub fn commit_offsets(
    config: &ClientConfig,
    group: &str,
    offsets: &[(&str, i32, i64)],
) -> Result<()> {
    let consumer: BaseConsumer = config
        .clone()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    for (topic, partition, offset) in offsets {
        tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    // A cluster that just started may not have loaded the group coordinator yet: ask again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match consumer.commit(&tpl, rdkafka::consumer::CommitMode::Sync) {
            Err(e) if coordinator_not_ready(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            result => return Ok(result?),
        }
    }
}

fn coordinator_not_ready(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::NotCoordinator
                | RDKafkaErrorCode::CoordinatorLoadInProgress
                | RDKafkaErrorCode::CoordinatorNotAvailable
        )
    )
}
