//! `init --report`: what the source holds and how it is used, measured before migrating — per
//! topic its partitions, replication factor, size on disk, retention and throughput over a
//! sampling window (end offsets and log sizes read at its start and at its end), the producers
//! writing to it and the consumer groups reading it. Reads the source only; decides nothing
//! (the MSK sizing is `plan::msk::sizing`'s, the sequence `ops::report`'s).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cluster::native::{IsolationLevel, ReplicaSizes};
use crate::cluster::{ClusterClient, ClusterError, Member};

/// What `init --report` found on the source.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SourceReport {
    /// Brokers that answered metadata.
    pub brokers: usize,
    /// How long the throughput was measured, in seconds (as asked, and as it took).
    pub sample_seconds: f64,
    /// Every topic reported (the internal ones left out), sorted by name.
    pub topics: Vec<TopicReport>,
    /// Internal topics left out, as `init` leaves them out, with why.
    pub internal_topics: Vec<LeftOut>,
    /// Topics the credentials may not describe, with the error.
    pub denied_topics: Vec<LeftOut>,
    /// What could not be read (log sizes, producers, consumer groups), with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

/// A topic left out of the report, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LeftOut {
    pub topic: String,
    pub reason: String,
}

/// One topic of the source.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TopicReport {
    pub topic: String,
    pub partitions: u32,
    pub replication_factor: i32,
    /// Bytes on disk of one replica of each partition (the largest), added up; None when the
    /// brokers did not report every partition (DescribeLogDirs needs Describe on the cluster).
    pub size_bytes: Option<u64>,
    /// Bytes on disk of every replica added up.
    pub size_on_disk_bytes: Option<u64>,
    /// Records the partitions hold (end offset − log start offset, added up).
    pub records: u64,
    /// `retention.ms` (-1: kept forever), if the broker returned it.
    pub retention_ms: Option<i64>,
    /// `retention.bytes` per partition (-1: no limit), if the broker returned it.
    pub retention_bytes: Option<i64>,
    /// `cleanup.policy`, such as "delete" or "compact".
    pub cleanup_policy: Option<String>,
    /// Records written per second over the sampling window (end offsets at its start and end).
    pub records_per_second: f64,
    /// Bytes written per second over the window; None when the log sizes are unknown.
    pub bytes_per_second: Option<f64>,
    /// How `bytes_per_second` was found.
    pub bytes_rate_from: BytesRateFrom,
    /// The producers the partitions' leaders know (idempotent or transactional ones: brokers
    /// keep no state of others), by producer id.
    pub producers: Vec<TopicProducer>,
    /// The consumer groups reading the topic: with members assigned to it, or offsets
    /// committed on it.
    pub consumer_groups: Vec<ConsumerGroup>,
}

/// How a topic's bytes per second were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BytesRateFrom {
    /// The growth of its log over the window (one replica of each partition).
    LogSizeChange,
    /// Records per second × its average record size (its size ÷ the records it holds): the log
    /// shrank during the window (retention or compaction removed segments).
    AverageRecordSize,
    /// Its log sizes are unknown.
    Unknown,
}

/// A producer writing to a topic, as the partitions' leaders know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TopicProducer {
    pub producer_id: i64,
    pub producer_epoch: i32,
    /// The partitions it wrote to, sorted.
    pub partitions: Vec<i32>,
    /// When it last wrote to any of them, in milliseconds since the Unix epoch (-1: unknown).
    pub last_write_ms: i64,
    /// Whether it wrote during the sampling window.
    pub wrote_during_sample: bool,
}

/// A consumer group reading a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ConsumerGroup {
    pub group: String,
    /// Kafka's group state: Stable, Empty, …
    pub state: String,
    /// The members assigned the topic (client id and host), sorted.
    pub members: Vec<Member>,
    /// Whether the group committed offsets on the topic.
    pub committed_offsets: bool,
}

/// What the report adds up.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    pub topics: usize,
    /// Partitions of the topics reported (leaders).
    pub partitions: u64,
    /// Partition replicas on the source (partitions × their replication factor).
    pub replicas: u64,
    /// Bytes of one replica of each partition; None when a topic's size is unknown.
    pub size_bytes: Option<u64>,
    pub size_on_disk_bytes: Option<u64>,
    pub records_per_second: f64,
    /// Bytes written per second, the topics of unknown size left out.
    pub bytes_in_per_second: f64,
    /// Bytes read per second, estimated: each topic's bytes in × the consumer groups reading
    /// it.
    pub bytes_out_per_second: f64,
    /// Distinct producer ids writing to the topics.
    pub producers: usize,
    /// Distinct consumer groups reading them.
    pub consumer_groups: usize,
}

impl SourceReport {
    /// The totals over every topic reported.
    pub fn totals(&self) -> Totals {
        let sum = |f: &dyn Fn(&TopicReport) -> Option<u64>| -> Option<u64> {
            self.topics.iter().map(f).sum()
        };
        Totals {
            topics: self.topics.len(),
            partitions: self.topics.iter().map(|t| u64::from(t.partitions)).sum(),
            replicas: self
                .topics
                .iter()
                .map(|t| u64::from(t.partitions) * t.replication_factor.max(1) as u64)
                .sum(),
            size_bytes: sum(&|t| t.size_bytes),
            size_on_disk_bytes: sum(&|t| t.size_on_disk_bytes),
            records_per_second: self.topics.iter().map(|t| t.records_per_second).sum(),
            bytes_in_per_second: self.topics.iter().filter_map(|t| t.bytes_per_second).sum(),
            bytes_out_per_second: self
                .topics
                .iter()
                .filter_map(|t| Some(t.bytes_per_second? * t.consumer_groups.len() as f64))
                .sum(),
            producers: self
                .topics
                .iter()
                .flat_map(|t| t.producers.iter().map(|p| p.producer_id))
                .collect::<BTreeSet<_>>()
                .len(),
            consumer_groups: self
                .topics
                .iter()
                .flat_map(|t| t.consumer_groups.iter().map(|g| g.group.as_str()))
                .collect::<BTreeSet<_>>()
                .len(),
        }
    }
}

/// One reading of the partitions: end offsets and, if readable, log sizes.
struct Reading {
    at: Instant,
    ends: BTreeMap<(String, i32), i64>,
    sizes: Result<BTreeMap<(String, i32), ReplicaSizes>, String>,
}

async fn read(
    client: &ClusterClient,
    partitions: &[(String, i32)],
) -> Result<Reading, ClusterError> {
    let ends = client
        .end_offsets(partitions.to_vec(), IsolationLevel::ReadUncommitted)
        .await?;
    let sizes = client.log_sizes(partitions.to_vec()).await;
    Ok(Reading {
        at: Instant::now(),
        ends,
        sizes,
    })
}

/// Reads the source of `migration` and measures its throughput over `sample`.
pub async fn gather(
    migration: &crate::config::Migration,
    sample: Duration,
) -> Result<SourceReport, ClusterError> {
    let (client, inventory) = super::discover::source(migration).await?;
    let internal_topics: Vec<LeftOut> = client
        .topic_names()
        .await?
        .into_iter()
        .filter_map(|topic| {
            let reason = super::internal_reason(&topic)?.to_string();
            Some(LeftOut { topic, reason })
        })
        .collect();
    let topics: Vec<&crate::cluster::inventory::Topic> = inventory
        .topics
        .values()
        .filter(|t| super::internal_reason(&t.name).is_none())
        .collect();
    let partitions: Vec<(String, i32)> = topics
        .iter()
        .flat_map(|t| t.partitions.keys().map(|p| (t.name.clone(), *p)))
        .collect();
    let started_ms = crate::state::cutover::now_ms();
    let first = read(&client, &partitions).await?;
    tokio::time::sleep(sample.saturating_sub(first.at.elapsed())).await;
    let last = read(&client, &partitions).await?;
    let seconds = last.at.duration_since(first.at).as_secs_f64().max(0.001);
    let mut unread = Vec::new();
    if let Err(e) = &last.sizes {
        unread.push(format!("log sizes (DescribeLogDirs): {e}"));
    }
    let producers = client.active_producers(partitions.clone()).await;
    let producers = producers.unwrap_or_else(|e| {
        unread.push(format!("producers (DescribeProducers): {e}"));
        BTreeMap::new()
    });
    let groups = client.consumer_groups().await.unwrap_or_else(|e| {
        unread.push(format!("consumer group members: {e}"));
        Vec::new()
    });
    let empty = BTreeMap::new();
    let measured = Measured {
        seconds,
        first_ends: &first.ends,
        last_ends: &last.ends,
        first_sizes: first.sizes.as_ref().unwrap_or(&empty),
        last_sizes: last.sizes.as_ref().unwrap_or(&empty),
    };
    Ok(SourceReport {
        brokers: inventory.brokers,
        sample_seconds: seconds,
        topics: topics
            .iter()
            .map(|t| {
                let mut report = measured.topic(t);
                report.producers = topic_producers(&t.name, &producers, started_ms);
                report.consumer_groups = consumer_groups(&t.name, &groups, &inventory.groups);
                report
            })
            .collect(),
        internal_topics,
        denied_topics: inventory
            .denied_topics
            .iter()
            .map(|(topic, reason)| LeftOut {
                topic: topic.clone(),
                reason: reason.clone(),
            })
            .collect(),
        unread,
    })
}

/// The two readings of a sampling window.
struct Measured<'a> {
    seconds: f64,
    first_ends: &'a BTreeMap<(String, i32), i64>,
    last_ends: &'a BTreeMap<(String, i32), i64>,
    first_sizes: &'a BTreeMap<(String, i32), ReplicaSizes>,
    last_sizes: &'a BTreeMap<(String, i32), ReplicaSizes>,
}

impl Measured<'_> {
    /// `topic`'s sizes, retention and rates (no clients yet).
    fn topic(&self, topic: &crate::cluster::inventory::Topic) -> TopicReport {
        let keys: Vec<(String, i32)> = topic
            .partitions
            .keys()
            .map(|p| (topic.name.clone(), *p))
            .collect();
        let written: i64 = keys
            .iter()
            .map(|k| {
                let first = self.first_ends.get(k).copied().unwrap_or(0);
                (self.last_ends.get(k).copied().unwrap_or(first) - first).max(0)
            })
            .sum();
        let records: u64 = topic
            .partitions
            .iter()
            .map(|(p, part)| {
                let end = self
                    .last_ends
                    .get(&(topic.name.clone(), *p))
                    .copied()
                    .unwrap_or(part.end);
                (end - part.log_start).max(0) as u64
            })
            .sum();
        let sizes = |map: &BTreeMap<(String, i32), ReplicaSizes>| -> Option<Vec<ReplicaSizes>> {
            keys.iter().map(|k| map.get(k).copied()).collect()
        };
        let (first, last) = (sizes(self.first_sizes), sizes(self.last_sizes));
        let records_per_second = written as f64 / self.seconds;
        let (bytes_per_second, bytes_rate_from) = bytes_rate(
            first.as_deref(),
            last.as_deref(),
            records_per_second,
            records,
            self.seconds,
        );
        let config = |key: &str| topic.config_value(key).and_then(|v| v.parse().ok());
        TopicReport {
            topic: topic.name.clone(),
            partitions: topic.partitions.len() as u32,
            replication_factor: topic.replication_factor,
            size_bytes: last.as_ref().map(|l| l.iter().map(|s| s.largest).sum()),
            size_on_disk_bytes: last.as_ref().map(|l| l.iter().map(|s| s.total).sum()),
            records,
            retention_ms: config("retention.ms"),
            retention_bytes: config("retention.bytes"),
            cleanup_policy: topic.config_value("cleanup.policy").map(str::to_string),
            records_per_second,
            bytes_per_second,
            bytes_rate_from,
            producers: Vec::new(),
            consumer_groups: Vec::new(),
        }
    }
}

/// A topic's bytes per second from its partitions' sizes at the start (`first`) and end
/// (`last`) of a window of `seconds`: the growth of the logs when none shrank; else
/// `records_per_second` × the average record size at the end (`records` held); unknown
/// without sizes.
pub fn bytes_rate(
    first: Option<&[ReplicaSizes]>,
    last: Option<&[ReplicaSizes]>,
    records_per_second: f64,
    records: u64,
    seconds: f64,
) -> (Option<f64>, BytesRateFrom) {
    let (Some(first), Some(last)) = (first, last) else {
        return (None, BytesRateFrom::Unknown);
    };
    if first.iter().zip(last).all(|(f, l)| l.largest >= f.largest) {
        let grown: u64 = first
            .iter()
            .zip(last)
            .map(|(f, l)| l.largest - f.largest)
            .sum();
        return (Some(grown as f64 / seconds), BytesRateFrom::LogSizeChange);
    }
    let size: u64 = last.iter().map(|s| s.largest).sum();
    let average = if records == 0 {
        0.0
    } else {
        size as f64 / records as f64
    };
    (
        Some(records_per_second * average),
        BytesRateFrom::AverageRecordSize,
    )
}

/// The producers of `topic`'s partitions, one per producer id, sorted by id.
fn topic_producers(
    topic: &str,
    producers: &BTreeMap<(String, i32), Vec<crate::cluster::native::ActiveProducer>>,
    started_ms: i64,
) -> Vec<TopicProducer> {
    let mut by_id: BTreeMap<i64, TopicProducer> = BTreeMap::new();
    for ((t, partition), list) in producers {
        if t != topic {
            continue;
        }
        for p in list {
            let entry = by_id.entry(p.producer_id).or_insert(TopicProducer {
                producer_id: p.producer_id,
                producer_epoch: p.producer_epoch,
                partitions: Vec::new(),
                last_write_ms: -1,
                wrote_during_sample: false,
            });
            entry.producer_epoch = entry.producer_epoch.max(p.producer_epoch);
            entry.partitions.push(*partition);
            entry.last_write_ms = entry.last_write_ms.max(p.last_timestamp_ms);
            entry.wrote_during_sample = entry.last_write_ms >= started_ms;
        }
    }
    by_id.into_values().collect()
}

/// The groups reading `topic`: those with members assigned it, and those that committed
/// offsets on it, sorted by group.
fn consumer_groups(
    topic: &str,
    groups: &[crate::cluster::GroupActivity],
    committed: &BTreeMap<String, crate::cluster::inventory::Group>,
) -> Vec<ConsumerGroup> {
    let mut out: BTreeMap<String, ConsumerGroup> = BTreeMap::new();
    for g in groups {
        let members: Vec<Member> = g
            .members
            .iter()
            .filter(|m| m.topics.iter().any(|t| t == topic))
            .map(|m| m.member.clone())
            .collect();
        if !members.is_empty() {
            out.insert(
                g.group.clone(),
                ConsumerGroup {
                    group: g.group.clone(),
                    state: g.state.clone(),
                    members,
                    committed_offsets: false,
                },
            );
        }
    }
    for (id, g) in committed {
        if g.offsets.contains_key(topic) {
            out.entry(id.clone())
                .or_insert_with(|| ConsumerGroup {
                    group: id.clone(),
                    state: g.state.clone(),
                    members: Vec::new(),
                    committed_offsets: false,
                })
                .committed_offsets = true;
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(list: &[u64]) -> Vec<ReplicaSizes> {
        list.iter()
            .map(|&s| ReplicaSizes {
                largest: s,
                total: 3 * s,
                replicas: 3,
            })
            .collect()
    }

    #[test]
    fn bytes_per_second_come_from_the_logs_growth_unless_one_shrank() {
        // Two partitions grew by 1,000 and 3,000 bytes in 2 s.
        assert_eq!(
            bytes_rate(
                Some(&sizes(&[10_000, 20_000])),
                Some(&sizes(&[11_000, 23_000])),
                40.0,
                340,
                2.0
            ),
            (Some(2_000.0), BytesRateFrom::LogSizeChange)
        );
        // Retention deleted a segment of the second: 40 records/s × 34,000 / 340 bytes.
        assert_eq!(
            bytes_rate(
                Some(&sizes(&[10_000, 30_000])),
                Some(&sizes(&[11_000, 23_000])),
                40.0,
                340,
                2.0
            ),
            (Some(4_000.0), BytesRateFrom::AverageRecordSize)
        );
        assert_eq!(
            bytes_rate(None, Some(&sizes(&[1])), 40.0, 340, 2.0),
            (None, BytesRateFrom::Unknown)
        );
    }
}
