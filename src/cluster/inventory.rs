//! What a cluster holds, as plain data: topics with partitions, offsets and configs, ACLs,
//! consumer groups. Read by [`super::read`], consumed by `plan::diff`; no I/O here.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::native::AclBinding;

/// Which side of the migration an inventory describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Source,
    Target,
}

impl Role {
    /// `source` or `target`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Target => "target",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything the planner needs to know about one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub role: Role,
    /// Number of brokers that answered metadata.
    pub brokers: usize,
    /// Non-internal topics the credentials can describe, by name.
    pub topics: BTreeMap<String, Topic>,
    /// Topics the cluster lists but the credentials may not describe or read, with the error.
    pub denied_topics: BTreeMap<String, String>,
    /// ACL bindings, or why they could not be listed (no authorizer, not allowed).
    pub acls: Acls,
    /// Consumer groups by id.
    pub groups: BTreeMap<String, Group>,
    /// Per topic and partition, the target offset up to which everything in the partition
    /// is this migration's own (its progress, or the end when only leftovers of a crashed
    /// run follow); empty on the source.
    pub replicated: BTreeMap<String, BTreeMap<i32, i64>>,
    /// The brokers' defaults that bear on topics.
    #[serde(default)]
    pub defaults: ClusterDefaults,
    /// Client quotas by entity, when they were read (`quotas { sync = true }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotas: Option<Vec<super::quotas::ClientQuota>>,
    /// SCRAM users and their mechanisms (never credentials), when they could be listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scram_users: Option<Vec<super::native::ScramUser>>,
    /// For a target with an `msk` block: what MSK's API (DescribeClusterV2) said it is, or
    /// why it was not asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msk: Option<super::msk_api::MskLookup>,
    /// On the source: what tells the applications living on the cluster apart (every topic,
    /// every group's protocol, the first keys of compacted topics), when the survey read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residents: Option<super::residents::Residents>,
}

/// What a cluster's brokers decide for every topic: the record size limit of topics without
/// their own, and which topic configs they know.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDefaults {
    /// The brokers' `message.max.bytes`: the largest record batch a topic without its own
    /// `max.message.bytes` accepts. None when the broker configs could not be read.
    pub message_max_bytes: Option<u64>,
    /// The brokers' `socket.request.max.bytes`: the largest request they read.
    pub socket_request_max_bytes: Option<u64>,
    /// Names of the topic configs the brokers know (from a topic's description). None when
    /// the cluster had no topic to describe.
    pub topic_configs: Option<BTreeSet<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Acls {
    Listed { bindings: Vec<AclBinding> },
    Unavailable { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub name: String,
    pub replication_factor: i32,
    pub partitions: BTreeMap<i32, Partition>,
    pub configs: BTreeMap<String, ConfigEntry>,
}

impl Topic {
    pub fn partition_count(&self) -> i32 {
        self.partitions.len() as i32
    }

    /// The effective value of a config, whatever its source.
    pub fn config_value(&self, key: &str) -> Option<&str> {
        self.configs.get(key).and_then(|c| c.value.as_deref())
    }

    /// The largest record batch the topic accepts: its effective `max.message.bytes`.
    pub fn max_message_bytes(&self) -> Option<u64> {
        self.config_value("max.message.bytes")?.parse().ok()
    }

    /// Configs set on the topic itself (not inherited defaults).
    pub fn dynamic_configs(&self) -> impl Iterator<Item = (&String, &ConfigEntry)> {
        self.configs
            .iter()
            .filter(|(_, c)| c.source == ConfigSource::Topic)
    }

    /// Whether `cleanup.policy` includes `compact`.
    pub fn is_compacted(&self) -> bool {
        self.config_value("cleanup.policy")
            .is_some_and(|p| p.split(',').any(|v| v.trim() == "compact"))
    }

    /// Whether any partition holds records (end offset above log start).
    pub fn has_records(&self) -> bool {
        self.partitions.values().any(|p| p.end > p.log_start)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// First offset still in the log.
    pub log_start: i64,
    /// High watermark: the offset the next record will get.
    pub end: i64,
    /// Last stable offset (end as a read_committed consumer sees it).
    pub last_stable: i64,
}

/// Where a config value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// Set on the topic itself.
    Topic,
    /// Inherited: a broker or cluster default, or Kafka's built-in default.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// None for sensitive values the broker does not return.
    pub value: Option<String>,
    pub source: ConfigSource,
    pub sensitive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Kafka's group state: Empty, Stable, PreparingRebalance, Dead, …
    pub state: String,
    /// Number of active members.
    pub members: usize,
    /// Committed offsets by topic and partition.
    pub offsets: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl Group {
    pub fn is_active(&self) -> bool {
        self.members > 0
    }
}

impl Inventory {
    /// The inventory told in the source's names (`topic` and `group`: the source's name of a
    /// cluster's name, none for names of nothing on the source), so that it compares with the
    /// source's by name. Topics without a source name keep theirs; committed offsets of them
    /// are left out.
    pub fn in_source_names(
        mut self,
        topic: impl Fn(&str) -> Option<String>,
        group: impl Fn(&str) -> Option<String>,
    ) -> Inventory {
        let source_name = |name: String| topic(&name).unwrap_or(name);
        self.topics = std::mem::take(&mut self.topics)
            .into_values()
            .map(|mut t| {
                t.name = source_name(std::mem::take(&mut t.name));
                (t.name.clone(), t)
            })
            .collect();
        self.denied_topics = std::mem::take(&mut self.denied_topics)
            .into_iter()
            .map(|(name, why)| (source_name(name), why))
            .collect();
        self.groups = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|(id, mut g)| {
                g.offsets = std::mem::take(&mut g.offsets)
                    .into_iter()
                    .filter_map(|(t, o)| Some((topic(&t)?, o)))
                    .collect();
                (group(&id).unwrap_or(id), g)
            })
            .collect();
        self
    }

    /// Every partition of the inventory's topics, by topic name and partition number, sorted.
    pub fn partitions(&self) -> Vec<(String, i32)> {
        self.topics
            .values()
            .flat_map(|t| t.partitions.keys().map(move |p| (t.name.clone(), *p)))
            .collect()
    }

    /// A digest of what a plan's metadata actions depend on: topics, partition counts,
    /// replication factors, topic-level configs, ACLs, client quotas (when read) and the
    /// records this migration wrote.
    /// Offsets and group positions move all the time and are left out.
    pub fn fingerprint(&self) -> String {
        /// Partition count, replication factor and topic-level configs of a topic.
        type TopicShape<'a> = (i32, i32, BTreeMap<&'a str, Option<&'a str>>);
        #[derive(Serialize)]
        struct Shape<'a> {
            brokers: usize,
            topics: BTreeMap<&'a str, TopicShape<'a>>,
            denied: Vec<&'a str>,
            acls: &'a Acls,
            #[serde(skip_serializing_if = "Option::is_none")]
            quotas: Option<&'a Vec<super::quotas::ClientQuota>>,
        }
        let shape = Shape {
            brokers: self.brokers,
            topics: self
                .topics
                .values()
                .map(|t| {
                    let configs = t
                        .dynamic_configs()
                        .map(|(k, c)| (k.as_str(), c.value.as_deref()))
                        .collect();
                    (
                        t.name.as_str(),
                        (t.partition_count(), t.replication_factor, configs),
                    )
                })
                .collect(),
            denied: self.denied_topics.keys().map(String::as_str).collect(),
            acls: &self.acls,
            quotas: self.quotas.as_ref(),
        };
        let bytes = serde_json::to_vec(&shape).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}
