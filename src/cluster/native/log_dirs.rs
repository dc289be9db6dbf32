//! DescribeLogDirs (Kafka API 35, version 1, Kafka 1.1 to 4.x): the size on disk of each
//! partition replica a broker holds, asked of every broker. librdkafka has no call for it, so it
//! goes over the tool's own protocol connection ([`crate::cluster::wire`]), as
//! DescribeProducers does. Version 1 answers an unauthorised caller (no Describe on the
//! cluster) with nothing rather than an error: a partition no broker reported has no size.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

use crate::config::ClusterConfig;

/// Taken by every broker from Kafka 1.1 on, 4.x included (only version 0 was removed).
const VERSION: i16 = 1;

/// The replicas of one partition on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ReplicaSizes {
    /// The largest replica's size in bytes (the leader's, unless a follower is ahead).
    pub largest: u64,
    /// Every replica's size added up, in bytes.
    pub total: u64,
    /// Replicas reported.
    pub replicas: u32,
}

/// Why the log sizes could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("DescribeLogDirs to {broker}: {message}")]
pub struct LogDirsError {
    pub broker: String,
    pub message: String,
}

/// The replicas' sizes of each of `partitions` that some broker reported, asking each of
/// `brokers` (addresses) once with `cluster`'s security settings.
pub async fn describe_log_dirs(
    cluster: &ClusterConfig,
    brokers: &[String],
    partitions: &[(String, i32)],
) -> Result<BTreeMap<(String, i32), ReplicaSizes>, LogDirsError> {
    let mut out: BTreeMap<(String, i32), ReplicaSizes> = BTreeMap::new();
    let request = request(partitions);
    for broker in brokers {
        let fail = |message: String| LogDirsError {
            broker: broker.clone(),
            message,
        };
        let response = super::ask_broker(cluster, broker, &request, VERSION)
            .await
            .map_err(fail)?;
        for (key, size) in replicas(response) {
            let entry = out.entry(key).or_default();
            entry.largest = entry.largest.max(size);
            entry.total += size;
            entry.replicas += 1;
        }
    }
    Ok(out)
}

/// One request for `partitions`, grouped by topic.
fn request(partitions: &[(String, i32)]) -> DescribeLogDirsRequest {
    DescribeLogDirsRequest::default().with_topics(Some(
        super::by_topic(partitions)
            .into_iter()
            .map(|(topic, partitions)| {
                DescribableLogDirTopic::default()
                    .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
                    .with_partitions(partitions)
            })
            .collect(),
    ))
}

/// The size of each replica in `response`: one per partition and log directory, leaving out
/// directories in error (offline) and the future replica of a move between directories.
fn replicas(response: DescribeLogDirsResponse) -> Vec<((String, i32), u64)> {
    let mut out = Vec::new();
    for dir in response.results.into_iter().filter(|d| d.error_code == 0) {
        for topic in dir.topics {
            let name = topic.name.0.to_string();
            for p in topic.partitions.into_iter().filter(|p| !p.is_future_key) {
                out.push((
                    (name.clone(), p.partition_index),
                    p.partition_size.max(0) as u64,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_log_dirs_response::{
        DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
    };

    use super::*;

    fn dir(error_code: i16, partitions: Vec<(i32, i64, bool)>) -> DescribeLogDirsResult {
        DescribeLogDirsResult::default()
            .with_error_code(error_code)
            .with_topics(vec![DescribeLogDirsTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("t")))
                .with_partitions(
                    partitions
                        .into_iter()
                        .map(|(index, size, future)| {
                            DescribeLogDirsPartition::default()
                                .with_partition_index(index)
                                .with_partition_size(size)
                                .with_is_future_key(future)
                        })
                        .collect(),
                )])
    }

    #[test]
    fn the_request_names_the_partitions_by_topic() {
        let req = request(&[("ab".into(), 0), ("ab".into(), 2)]);
        let topics = req.topics.unwrap();
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0].partitions, vec![0, 2]);
    }

    #[test]
    fn offline_directories_and_future_replicas_are_left_out() {
        let response = DescribeLogDirsResponse::default().with_results(vec![
            dir(0, vec![(0, 100, false), (1, 7, true)]),
            dir(56, vec![(1, 999, false)]),
        ]);
        assert_eq!(replicas(response), vec![(("t".to_string(), 0), 100)]);
    }
}
