//! Who is still using a cluster: the members of consumer groups (client id and host), and the
//! producers still active on partitions (DescribeProducers, asked of each partition's leader).

use std::collections::BTreeMap;

use rdkafka::consumer::Consumer;
use serde::Serialize;

use super::native::{describe_producers, ActiveProducer};
use super::{ClusterClient, ClusterError};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A member of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Member {
    pub client_id: String,
    pub host: String,
}

impl ClusterClient {
    /// The members of every group `selects` takes that has any, by group.
    pub async fn group_members(
        &self,
        selects: impl Fn(&str) -> bool,
    ) -> Result<BTreeMap<String, Vec<Member>>, ClusterError> {
        let consumer = self.consumer();
        let list = tokio::task::spawn_blocking(move || {
            consumer.fetch_group_list(None, TIMEOUT).map(|list| {
                list.groups()
                    .iter()
                    .map(|g| {
                        let mut members: Vec<Member> = g
                            .members()
                            .iter()
                            .map(|m| Member {
                                client_id: m.client_id().to_string(),
                                host: m.client_host().to_string(),
                            })
                            .collect();
                        members.sort();
                        (g.name().to_string(), members)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .await
        .map_err(|e| self.error("listing consumer group members", e.to_string()))?
        .map_err(|e| self.kafka_error("listing consumer group members", e))?;
        Ok(list
            .into_iter()
            .filter(|(g, members)| !members.is_empty() && selects(g))
            .collect())
    }

    /// The producers still active on each of `partitions`, asked of their leaders over
    /// connections of their own with the cluster's security settings (the client must have
    /// been made from the migration file). An error says why they are unknown.
    pub async fn active_producers(
        &self,
        partitions: Vec<(String, i32)>,
    ) -> Result<BTreeMap<(String, i32), Vec<ActiveProducer>>, String> {
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
            .map_err(|e| e.to_string())
    }
}
