//! Reading an [`Inventory`] from a live cluster through the Admin API, in batches: one metadata
//! request for all topics, config descriptions and offset listings a few hundred partitions at
//! a time, one group listing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use rdkafka::admin::{AdminOptions, ConfigSource as RdConfigSource, ResourceSpecifier};
use rdkafka::consumer::Consumer;
use rdkafka::metadata::Metadata;

use super::client::{ClusterClient, ClusterError};
use super::inventory::{
    Acls, ClusterDefaults, ConfigEntry, ConfigSource, Group, Inventory, Partition, Topic,
};
use super::native::{IsolationLevel, OffsetSpec};

const TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts after a retriable error (leader moved, coordinator loading).
const RETRIES: u64 = 8;
/// Group offset listings or commits in flight at once.
pub const CONCURRENT_GROUP_REQUESTS: usize = 16;
/// Topics per DescribeConfigs request.
const CONFIG_BATCH: usize = 500;

/// What to read: the topics and groups the migration selects.
pub struct Scope<'a> {
    pub topic: &'a (dyn Fn(&str) -> bool + Sync),
    pub group: &'a (dyn Fn(&str) -> bool + Sync),
}

impl ClusterClient {
    /// Reads topics, partitions, offsets, configs, ACLs and consumer groups within `scope`.
    /// Topics and groups are selected and told in the source's names (see
    /// [`ClusterClient::source_topic`]).
    pub async fn inventory(&self, scope: &Scope<'_>) -> Result<Inventory, ClusterError> {
        let selects_topic = |t: &str| self.source_topic(t).is_some_and(|s| (scope.topic)(&s));
        let selects_group = |g: &str| self.source_group(g).is_some_and(|s| (scope.group)(&s));
        let scope = &Scope {
            topic: &selects_topic,
            group: &selects_group,
        };
        let metadata = self.metadata().await?;
        let mut topics = BTreeMap::new();
        let mut denied_topics = BTreeMap::new();
        for t in metadata.topics() {
            if t.name().starts_with("__") || !(scope.topic)(t.name()) {
                continue;
            }
            if let Some(err) = t.error() {
                denied_topics.insert(
                    t.name().to_string(),
                    rdkafka::types::RDKafkaErrorCode::from(err).to_string(),
                );
                continue;
            }
            let replication_factor = t
                .partitions()
                .first()
                .map_or(0, |p| p.replicas().len() as i32);
            topics.insert(
                t.name().to_string(),
                Topic {
                    name: t.name().to_string(),
                    replication_factor,
                    partitions: t
                        .partitions()
                        .iter()
                        .map(|p| {
                            (
                                p.id(),
                                Partition {
                                    log_start: 0,
                                    end: 0,
                                    last_stable: 0,
                                },
                            )
                        })
                        .collect(),
                    configs: BTreeMap::new(),
                },
            );
        }
        let brokers = metadata.brokers().len();
        self.read_configs(&mut topics).await?;
        self.read_offsets(&mut topics).await?;
        let broker = match metadata.brokers().first() {
            Some(b) => self.broker_configs(b.id()).await,
            None => BTreeMap::new(),
        };
        let acls = self.read_acls(&broker).await;
        let any_topic = metadata.topics().first().map(|t| t.name().to_string());
        let defaults = self.read_defaults(&broker, &topics, any_topic).await;
        let groups = self.read_groups(scope).await?;
        let inventory = Inventory {
            role: self.role(),
            brokers,
            topics,
            denied_topics,
            acls,
            groups,
            replicated: BTreeMap::new(),
            defaults,
            quotas: None,
            scram_users: None,
            msk: None,
            residents: None,
        };
        Ok(inventory.in_source_names(
            |t| self.source_topic(t).map(Cow::into_owned),
            |g| self.source_group(g).map(Cow::into_owned),
        ))
    }

    /// Deletes `topics` (a topic already gone is not an error).
    /// `topics` are the cluster's own names (see [`ClusterClient::cluster_topic`]).
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<(), ClusterError> {
        if topics.is_empty() {
            return Ok(());
        }
        let opts = AdminOptions::new()
            .request_timeout(Some(TIMEOUT))
            .operation_timeout(Some(TIMEOUT));
        let results = self
            .admin()
            .delete_topics(topics, &opts)
            .await
            .map_err(|e| self.kafka_error("deleting topics", e))?;
        for result in results {
            match result {
                Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
                Err((topic, code)) => {
                    return Err(self.error(&format!("deleting topic \"{topic}\""), code.to_string()))
                }
            }
        }
        Ok(())
    }

    /// The name of every topic the cluster lists, Kafka's internal ones included, sorted.
    pub async fn topic_names(&self) -> Result<Vec<String>, ClusterError> {
        let metadata = self.metadata().await?;
        let mut names: Vec<String> = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The configs of broker `id` that have a value; empty when they cannot be described.
    async fn broker_configs(&self, id: i32) -> BTreeMap<String, String> {
        let spec = ResourceSpecifier::Broker(id);
        let opts = AdminOptions::new().request_timeout(Some(TIMEOUT));
        match self.admin().describe_configs([&spec], &opts).await {
            Ok(results) => results
                .into_iter()
                .flatten()
                .flat_map(|r| r.entries)
                .filter_map(|e| Some((e.name, e.value?)))
                .collect(),
            Err(e) => {
                tracing::debug!(error = %e, "Broker configs could not be described.");
                BTreeMap::new()
            }
        }
    }

    /// The record size limits of the brokers, and the topic configs they know: those of a
    /// described topic, or of `any_topic` (whatever the migration selects) when none is.
    async fn read_defaults(
        &self,
        broker: &BTreeMap<String, String>,
        topics: &BTreeMap<String, Topic>,
        any_topic: Option<String>,
    ) -> ClusterDefaults {
        let number = |key: &str| broker.get(key).and_then(|v| v.parse().ok());
        let mut topic_configs = topics
            .values()
            .find(|t| !t.configs.is_empty())
            .map(|t| t.configs.keys().cloned().collect());
        if let (None, Some(name)) = (&topic_configs, any_topic) {
            let mut one = BTreeMap::from([(
                name.clone(),
                Topic {
                    name,
                    replication_factor: 0,
                    partitions: BTreeMap::new(),
                    configs: BTreeMap::new(),
                },
            )]);
            if self.read_configs(&mut one).await.is_ok() {
                topic_configs = one
                    .into_values()
                    .find(|t| !t.configs.is_empty())
                    .map(|t| t.configs.into_keys().collect());
            }
        }
        ClusterDefaults {
            message_max_bytes: number("message.max.bytes"),
            socket_request_max_bytes: number("socket.request.max.bytes"),
            topic_configs,
        }
    }

    async fn metadata(&self) -> Result<Metadata, ClusterError> {
        let consumer = self.consumer();
        tracing::debug!(cluster = %self.role(), "Requesting metadata.");
        tokio::task::spawn_blocking(move || consumer.fetch_metadata(None, TIMEOUT))
            .await
            .map_err(|e| self.error("reading metadata", e.to_string()))?
            .map_err(|e| self.kafka_error("reading metadata", e))
    }

    async fn read_configs(&self, topics: &mut BTreeMap<String, Topic>) -> Result<(), ClusterError> {
        let names: Vec<String> = topics.keys().cloned().collect();
        let opts = AdminOptions::new().request_timeout(Some(TIMEOUT));
        for batch in names.chunks(CONFIG_BATCH) {
            let specs: Vec<ResourceSpecifier<'_>> =
                batch.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
            tracing::debug!(cluster = %self.role(), topics = batch.len(), "Describing topic configs.");
            let results = self
                .admin()
                .describe_configs(specs.iter(), &opts)
                .await
                .map_err(|e| self.kafka_error("describing topic configs", e))?;
            for (name, result) in batch.iter().zip(results) {
                let resource = result.map_err(|code| {
                    self.error(
                        &format!("describing configs of topic \"{name}\""),
                        code.to_string(),
                    )
                })?;
                if let Some(topic) = topics.get_mut(name) {
                    topic.configs = resource
                        .entries
                        .into_iter()
                        .map(|e| {
                            let source = match e.source {
                                RdConfigSource::DynamicTopic => ConfigSource::Topic,
                                _ => ConfigSource::Default,
                            };
                            (
                                e.name,
                                ConfigEntry {
                                    value: e.value,
                                    source,
                                    sensitive: e.is_sensitive,
                                },
                            )
                        })
                        .collect();
                }
            }
        }
        Ok(())
    }

    async fn read_offsets(&self, topics: &mut BTreeMap<String, Topic>) -> Result<(), ClusterError> {
        let partitions: Vec<(String, i32)> = topics
            .values()
            .flat_map(|t| t.partitions.keys().map(move |p| (t.name.clone(), *p)))
            .collect();
        if partitions.is_empty() {
            return Ok(());
        }
        let ext = self.ext();
        let ext_role = self.role();
        // Leaders of new partitions may still be moving: retriable errors are tried again.
        let list = |spec: OffsetSpec, isolation: IsolationLevel| {
            let request: Vec<(String, i32, OffsetSpec)> = partitions
                .iter()
                .map(|(t, p)| (t.clone(), *p, spec))
                .collect();
            let ext = &ext;
            async move {
                let mut attempt = 0;
                loop {
                    tracing::debug!(
                        cluster = %ext_role,
                        partitions = request.len(),
                        ?spec,
                        ?isolation,
                        "Listing offsets."
                    );
                    match ext.list_offsets(request.clone(), isolation).await {
                        Err(e) if e.is_retriable() && attempt < RETRIES => {
                            attempt += 1;
                            tracing::debug!(error = %e, attempt, "Retrying an offset listing.");
                            tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                        }
                        other => return other,
                    }
                }
            }
        };
        let start = list(OffsetSpec::Earliest, IsolationLevel::ReadUncommitted)
            .await
            .map_err(|e| self.ext_error("listing log start offsets", e))?;
        let end = list(OffsetSpec::Latest, IsolationLevel::ReadUncommitted)
            .await
            .map_err(|e| self.ext_error("listing end offsets", e))?;
        let stable = list(OffsetSpec::Latest, IsolationLevel::ReadCommitted)
            .await
            .map_err(|e| self.ext_error("listing last stable offsets", e))?;
        for topic in topics.values_mut() {
            for (p, partition) in topic.partitions.iter_mut() {
                let key = (topic.name.clone(), *p);
                partition.log_start = start.get(&key).map_or(0, |o| o.offset);
                partition.end = end.get(&key).map_or(0, |o| o.offset);
                partition.last_stable = stable.get(&key).map_or(partition.end, |o| o.offset);
            }
        }
        Ok(())
    }

    /// ACL bindings, or why there are none to read. librdkafka drops the error a broker
    /// without an authorizer returns for DescribeAcls, so the broker's `authorizer.class.name`
    /// (among `broker`'s configs) is looked at first.
    async fn read_acls(&self, broker: &BTreeMap<String, String>) -> Acls {
        if broker
            .get("authorizer.class.name")
            .is_some_and(|a| a.is_empty())
        {
            return Acls::Unavailable {
                reason: "the cluster has no authorizer (authorizer.class.name is empty)".into(),
            };
        }
        match self.ext().describe_acls().await {
            Ok(mut bindings) => {
                bindings.sort();
                Acls::Listed { bindings }
            }
            Err(e) => Acls::Unavailable {
                reason: e.to_string(),
            },
        }
    }

    /// Every consumer group with its protocol type (`consumer`, `connect`, or empty).
    pub async fn group_protocols(&self) -> Result<BTreeMap<String, String>, ClusterError> {
        Ok(self
            .list_groups()
            .await?
            .into_iter()
            .map(|g| (g.id, g.protocol))
            .collect())
    }

    async fn read_groups(
        &self,
        scope: &Scope<'_>,
    ) -> Result<BTreeMap<String, Group>, ClusterError> {
        let list = self.list_groups().await?;
        // One offset listing per group (the Admin API takes one at a time), several at once.
        let reads = list
            .into_iter()
            .filter(|g| (scope.group)(&g.id))
            .map(
                |Listed {
                     id, state, members, ..
                 }| async move {
                    let committed = self.group_offsets(&id).await?;
                    let mut offsets: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
                    for ((topic, partition), offset) in committed {
                        offsets.entry(topic).or_default().insert(partition, offset);
                    }
                    let group = Group {
                        state,
                        members,
                        offsets,
                    };
                    Ok::<_, ClusterError>((id, group))
                },
            )
            .collect::<Vec<_>>();
        let groups = futures_util::stream::iter(reads)
            .buffer_unordered(CONCURRENT_GROUP_REQUESTS)
            .try_collect()
            .await?;
        Ok(groups)
    }

    /// Every group the cluster lists, asked again while a coordinator loads.
    async fn list_groups(&self) -> Result<Vec<Listed>, ClusterError> {
        // A coordinator still loading (a broker that just started) is asked again.
        let consumer = self.consumer();
        tokio::task::spawn_blocking(move || {
            let mut attempt = 0;
            loop {
                match consumer.fetch_group_list(None, TIMEOUT) {
                    Err(e) if attempt < RETRIES && coordinator_busy(&e) => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(250 * attempt));
                    }
                    other => {
                        return other.map(|l| {
                            l.groups()
                                .iter()
                                .map(|g| Listed {
                                    id: g.name().to_string(),
                                    state: g.state().to_string(),
                                    members: g.members().len(),
                                    protocol: g.protocol_type().to_string(),
                                })
                                .collect::<Vec<_>>()
                        })
                    }
                }
            }
        })
        .await
        .map_err(|e| self.error("listing consumer groups", e.to_string()))?
        .map_err(|e| self.kafka_error("listing consumer groups", e))
    }

    /// Committed offsets of group `id`, asked again while its coordinator is busy.
    async fn group_offsets(&self, id: &str) -> Result<BTreeMap<(String, i32), i64>, ClusterError> {
        let mut attempt = 0;
        loop {
            match self.ext().list_consumer_group_offsets(id.to_string()).await {
                Err(e) if e.is_retriable() && attempt < RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(250 * attempt)).await;
                }
                other => {
                    return other.map_err(|e| {
                        self.ext_error(&format!("reading offsets of group \"{id}\""), e)
                    })
                }
            }
        }
    }
}

/// A group as the cluster lists it.
struct Listed {
    id: String,
    state: String,
    members: usize,
    protocol: String,
}

/// Errors of a group coordinator that is loading or moving: worth asking again.
fn coordinator_busy(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::*;
    matches!(
        e.rdkafka_error_code(),
        Some(
            CoordinatorLoadInProgress | CoordinatorNotAvailable | NotCoordinator | RequestTimedOut
        )
    )
}
