//! Where the migration stands: per partition, the source's last stable offset against the
//! migration's committed progress on the target.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::native::IsolationLevel;
use crate::cluster::{ClusterClient, ClusterError, Inventory, Role, Scope};
use crate::config::Migration;

use crate::state::{Progress, Store};

/// Replication state of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PartitionStatus {
    pub topic: String,
    pub partition: i32,
    /// The source's last stable offset (the end as a read_committed consumer sees it).
    pub source_end: i64,
    /// Source offset up to which records are on the target (absent: not started).
    pub replicated_to: Option<i64>,
    /// Source offsets not yet replicated.
    pub lag: i64,
    pub records: u64,
    pub bytes: u64,
}

/// The whole migration's replication state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub migration: String,
    pub partitions: Vec<PartitionStatus>,
}

impl Status {
    /// Whether anything of the migration was replicated.
    pub fn started(&self) -> bool {
        self.partitions.iter().any(|p| p.replicated_to.is_some())
    }

    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().map(|p| p.lag).sum()
    }

    /// Per topic: partitions, lag, records replicated.
    pub fn by_topic(&self) -> BTreeMap<&str, (usize, i64, u64)> {
        let mut out: BTreeMap<&str, (usize, i64, u64)> = BTreeMap::new();
        for p in &self.partitions {
            let e = out.entry(p.topic.as_str()).or_default();
            e.0 += 1;
            e.1 += p.lag;
            e.2 += p.records;
        }
        out
    }
}

/// Reads the source's end offsets and the migration's progress.
pub async fn status(migration: &Migration) -> Result<Status, ClusterError> {
    let source = ClusterClient::of(migration, Role::Source).await?;
    let selects = |t: &str| migration.topics.selects(t);
    let none = |_: &str| false;
    let inventory = source
        .inventory(&Scope {
            topic: &selects,
            group: &none,
        })
        .await?;
    let ends = source
        .end_offsets(inventory.partitions(), IsolationLevel::ReadCommitted)
        .await?;
    let store = Store::of(migration);
    let progress = tokio::task::spawn_blocking(move || store.read())
        .await
        .map_err(|e| source.error("reading the migration's progress", e.to_string()))?
        .map_err(|e| {
            ClusterError::other(
                Role::Target,
                "reading the migration's progress",
                e.to_string(),
            )
        })?;
    crate::survey::identity::check_recorded(migration, &source, &progress).await?;
    Ok(Status::from_parts(
        &migration.name,
        &inventory,
        &ends,
        &progress,
    ))
}

impl Status {
    /// The status from the source's inventory, its last stable offsets (`ends`, by topic and
    /// partition) and the migration's progress.
    pub fn from_parts(
        migration: &str,
        source: &Inventory,
        ends: &BTreeMap<(String, i32), i64>,
        progress: &Progress,
    ) -> Status {
        let partitions = ends
            .iter()
            .map(|((topic, partition), end)| {
                let p = progress.get(topic, *partition);
                let replicated_to = p.and_then(|p| p.position).map(|pos| pos.next_source);
                let start = source
                    .topics
                    .get(topic)
                    .and_then(|t| t.partitions.get(partition))
                    .map_or(0, |x| x.log_start);
                PartitionStatus {
                    lag: (end - replicated_to.unwrap_or(start)).max(0),
                    topic: topic.clone(),
                    partition: *partition,
                    source_end: *end,
                    replicated_to,
                    records: p.map_or(0, |p| p.records),
                    bytes: p.map_or(0, |p| p.bytes),
                }
            })
            .collect();
        Status {
            migration: migration.to_string(),
            partitions,
        }
    }

    /// The status from a survey's inventory: its last stable offsets are the ends.
    pub fn from_inventory(migration: &str, source: &Inventory, progress: &Progress) -> Status {
        let ends = source
            .topics
            .values()
            .flat_map(|t| {
                t.partitions
                    .iter()
                    .map(|(p, part)| ((t.name.clone(), *p), part.last_stable))
            })
            .collect();
        Status::from_parts(migration, source, &ends, progress)
    }
}
