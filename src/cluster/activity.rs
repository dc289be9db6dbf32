//! Who is still using a cluster: the members of consumer groups (client id, host and the
//! topics assigned to them), and the producers still active on partitions (DescribeProducers,
//! asked of each partition's leader); and how much each partition holds on disk
//! (DescribeLogDirs, asked of every broker).

use std::collections::BTreeMap;

use rdkafka::consumer::Consumer;
use serde::Serialize;

use super::native::{describe_log_dirs, describe_producers, ActiveProducer, ReplicaSizes};
use super::{ClusterClient, ClusterError};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A member of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Member {
    pub client_id: String,
    pub host: String,
}

/// A consumer group as the brokers list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupActivity {
    pub group: String,
    /// Kafka's group state: Stable, Empty, PreparingRebalance, …
    pub state: String,
    pub members: Vec<GroupMember>,
}

/// A member of a consumer group and the topics assigned to it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupMember {
    pub member: Member,
    /// Sorted; empty when the group is not of the consumer protocol or nothing is assigned.
    pub topics: Vec<String>,
}

/// The topics a consumer-protocol member assignment (a version, then the message) names,
/// sorted; none when it cannot be read.
fn assigned_topics(bytes: &[u8]) -> Vec<String> {
    use kafka_protocol::messages::ConsumerProtocolAssignment;
    use kafka_protocol::protocol::Decodable;
    let mut buf = bytes::Bytes::copy_from_slice(bytes);
    if buf.len() < 2 {
        return Vec::new();
    }
    let version = i16::from_be_bytes([buf[0], buf[1]]).clamp(0, 3);
    let _ = bytes::Buf::get_i16(&mut buf);
    let mut topics: Vec<String> = ConsumerProtocolAssignment::decode(&mut buf, version)
        .map(|a| {
            a.assigned_partitions
                .into_iter()
                .map(|t| t.topic.0.to_string())
                .collect()
        })
        .unwrap_or_default();
    topics.sort();
    topics.dedup();
    topics
}

impl ClusterClient {
    /// The members of every group `selects` takes that has any, by group (both in the
    /// source's ids).
    pub async fn group_members(
        &self,
        selects: impl Fn(&str) -> bool,
    ) -> Result<BTreeMap<String, Vec<Member>>, ClusterError> {
        Ok(self
            .consumer_groups()
            .await?
            .into_iter()
            .filter(|g| !g.members.is_empty())
            .filter_map(|g| {
                let id = self.source_group(&g.group)?.into_owned();
                selects(&id).then(|| (id, g.members.into_iter().map(|m| m.member).collect()))
            })
            .collect())
    }

    /// Every consumer group the brokers list, with its state and its members, each with the
    /// topics assigned to it (for groups of the consumer protocol).
    pub async fn consumer_groups(&self) -> Result<Vec<GroupActivity>, ClusterError> {
        let consumer = self.consumer();
        tokio::task::spawn_blocking(move || {
            consumer.fetch_group_list(None, TIMEOUT).map(|list| {
                list.groups()
                    .iter()
                    .map(|g| {
                        let consumer_protocol = g.protocol_type() == "consumer";
                        let mut members: Vec<GroupMember> = g
                            .members()
                            .iter()
                            .map(|m| GroupMember {
                                member: Member {
                                    client_id: m.client_id().to_string(),
                                    host: m.client_host().to_string(),
                                },
                                topics: m
                                    .assignment()
                                    .filter(|_| consumer_protocol)
                                    .map(assigned_topics)
                                    .unwrap_or_default(),
                            })
                            .collect();
                        members.sort();
                        GroupActivity {
                            group: g.name().to_string(),
                            state: g.state().to_string(),
                            members,
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .await
        .map_err(|e| self.error("listing consumer group members", e.to_string()))?
        .map_err(|e| self.kafka_error("listing consumer group members", e))
    }

    /// The size on disk of each of `partitions` some broker reports (none without Describe on
    /// the cluster), asking every broker over a connection of its own with the cluster's
    /// security settings. An error says why the sizes are unknown.
    pub async fn log_sizes(
        &self,
        partitions: Vec<(String, i32)>,
    ) -> Result<BTreeMap<(String, i32), ReplicaSizes>, String> {
        let cluster = self
            .cluster_config()
            .ok_or("the client was made without the cluster's settings")?;
        let consumer = self.consumer();
        let brokers = tokio::task::spawn_blocking(move || {
            consumer
                .fetch_metadata(None, TIMEOUT)
                .map(|metadata| {
                    metadata
                        .brokers()
                        .iter()
                        .map(|b| format!("{}:{}", b.host(), b.port()))
                        .collect::<Vec<_>>()
                })
                .map_err(|e| format!("reading metadata: {e}"))
        })
        .await
        .map_err(|e| e.to_string())??;
        describe_log_dirs(cluster, &brokers, &partitions)
            .await
            .map_err(|e| e.to_string())
    }

    /// The producers still active on each of `partitions` (the source's names), asked of their
    /// leaders over connections of their own with the cluster's security settings (the client
    /// must have been made from the migration file). An error says why they are unknown.
    pub async fn active_producers(
        &self,
        partitions: Vec<(String, i32)>,
    ) -> Result<BTreeMap<(String, i32), Vec<ActiveProducer>>, String> {
        let partitions = self.cluster_keys(partitions);
        let cluster = self
            .cluster_config()
            .ok_or("the client was made without the cluster's settings")?;
        let consumer = self.consumer();
        let leaders = tokio::task::spawn_blocking(move || {
            let metadata = consumer
                .fetch_metadata(None, TIMEOUT)
                .map_err(|e| format!("reading metadata: {e}"))?;
            let brokers: BTreeMap<i32, String> = metadata
                .brokers()
                .iter()
                .map(|b| (b.id(), format!("{}:{}", b.host(), b.port())))
                .collect();
            let mut leaders: BTreeMap<String, Vec<(String, i32)>> = BTreeMap::new();
            for t in metadata.topics() {
                for p in t.partitions() {
                    let key = (t.name().to_string(), p.id());
                    if let (true, Some(broker)) =
                        (partitions.contains(&key), brokers.get(&p.leader()))
                    {
                        leaders.entry(broker.clone()).or_default().push(key);
                    }
                }
            }
            Ok::<_, String>(leaders)
        })
        .await
        .map_err(|e| e.to_string())??;
        describe_producers(cluster, &leaders)
            .await
            .map(|found| self.source_keys(found))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::messages::{ConsumerProtocolAssignment, TopicName};
    use kafka_protocol::protocol::{Encodable, StrBytes};

    use super::assigned_topics;

    #[test]
    fn a_members_assignment_names_its_topics() {
        let assignment = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_static_str("orders")))
                .with_partitions(vec![0, 1]),
            TopicPartition::default()
                .with_topic(TopicName(StrBytes::from_static_str("audit")))
                .with_partitions(vec![2]),
        ]);
        let mut bytes = bytes::BytesMut::new();
        bytes.extend_from_slice(&1i16.to_be_bytes());
        assignment.encode(&mut bytes, 1).unwrap();
        assert_eq!(assigned_topics(&bytes), ["audit", "orders"]);
        // Not an assignment: nothing, never a panic.
        assert!(assigned_topics(&[0]).is_empty());
        assert!(assigned_topics(&[0, 0, 0xff]).is_empty());
    }
}
