//! Reading what `init` writes about the source: its inventory (topics, configs, groups, ACLs)
//! through [`ClusterClient`], the names of the internal topics the inventory leaves out, its
//! SCRAM users (names and mechanisms) and the release its brokers are at least.

use crate::cluster::inventory::Acls;
use crate::cluster::native::ScramUser;
use crate::cluster::{ClusterClient, ClusterError, Role, Scope};
use std::collections::{BTreeMap, BTreeSet};

/// What the source holds, as far as `init` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// Brokers that answered metadata.
    pub brokers: usize,
    /// Every topic the cluster lists, internal ones included, sorted.
    pub topics: Vec<String>,
    /// Topics listed but not describable with the credentials.
    pub denied: Vec<String>,
    /// Partitions of the topics to migrate.
    pub partitions: usize,
    /// Replication factors of the topics to migrate.
    pub replication_factors: BTreeSet<i32>,
    /// Configs set on topics to migrate: name and how many topics set it.
    pub configs: BTreeMap<String, usize>,
    /// Consumer group ids to migrate, sorted.
    pub groups: Vec<String>,
    /// Consumer groups left out, with why, sorted.
    pub groups_left_out: Vec<(String, String)>,
    /// Number of ACL bindings, or why they could not be listed.
    pub acls: Result<usize, String>,
    /// SCRAM users with their mechanisms (never credentials), or why they could not be listed.
    pub scram_users: Result<Vec<ScramUser>, String>,
    /// The release the brokers are at least, such as "Apache Kafka ≥ 3.9", or why it could
    /// not be told.
    pub release: Result<String, String>,
    /// Applications whose state lives in the source's topics (Streams applications, Connect
    /// clusters, schema registries).
    pub residents: Vec<crate::cluster::residents::Resident>,
}

impl Discovered {
    /// One line: what was found.
    pub fn summary(&self) -> String {
        let acls = match &self.acls {
            Ok(n) => format!("{n} ACL binding(s)"),
            Err(_) => "ACLs not readable".to_string(),
        };
        format!(
            "{} broker(s), {} topic(s), {} consumer group(s), {acls}",
            self.brokers,
            self.topics.len(),
            self.groups.len()
        )
    }
}

/// A client of the source cluster of `migration`, and its inventory of every topic and group.
pub(super) async fn source(
    migration: &crate::config::Migration,
) -> Result<(ClusterClient, crate::cluster::Inventory), ClusterError> {
    let client = ClusterClient::of(migration, Role::Source).await?;
    let everything = |_: &str| true;
    let inventory = client
        .inventory(&Scope {
            topic: &everything,
            group: &everything,
        })
        .await?;
    Ok((client, inventory))
}

/// Reads the source cluster of `migration`.
pub async fn discover(migration: &crate::config::Migration) -> Result<Discovered, ClusterError> {
    let (client, inventory) = source(migration).await?;
    // The inventory leaves Kafka's internal topics out; the file lists them in a comment.
    let topics = client.topic_names().await?;
    let residents = crate::cluster::residents::recognise(
        &super::residents::read(migration, &client, &inventory).await?,
    );
    let migrated = || {
        inventory
            .topics
            .values()
            .filter(|t| super::internal_reason(&t.name).is_none())
    };
    let scram_users = client
        .ext()
        .describe_user_scram_credentials()
        .await
        .map_err(|e| e.message);
    let release = crate::cluster::release::broker_apis(
        Role::Source,
        &crate::cluster::factory::properties(migration, Role::Source),
    )
    .await
    .map_err(|e| e.cause)
    .and_then(|apis| {
        crate::cluster::release::describe(&apis).ok_or_else(|| "no broker answered".to_string())
    });
    let mut configs = BTreeMap::new();
    for topic in migrated() {
        for (name, _) in topic.dynamic_configs() {
            *configs.entry(name.clone()).or_insert(0) += 1;
        }
    }
    Ok(Discovered {
        brokers: inventory.brokers,
        topics,
        denied: inventory.denied_topics.keys().cloned().collect(),
        partitions: migrated().map(|t| t.partitions.len()).sum(),
        replication_factors: migrated().map(|t| t.replication_factor).collect(),
        configs,
        groups: inventory
            .groups
            .iter()
            .filter(|(_, g)| super::group_left_out(g.offsets.keys().map(String::as_str)).is_none())
            .map(|(id, _)| id.clone())
            .collect(),
        groups_left_out: inventory
            .groups
            .iter()
            .filter_map(|(id, g)| {
                Some((
                    id.clone(),
                    super::group_left_out(g.offsets.keys().map(String::as_str))?,
                ))
            })
            .collect(),
        acls: match inventory.acls {
            Acls::Listed { bindings } => Ok(bindings.len()),
            Acls::Unavailable { reason } => Err(reason),
        },
        scram_users,
        release,
        residents,
    })
}
