//! Where the migration stands: per partition, the source's last stable offset against the
//! migration's committed progress on the target.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::native::IsolationLevel;
use crate::cluster::{ClusterClient, ClusterError, Inventory, Role, Scope};
use crate::config::Migration;

use crate::state::{Progress, Store};

/// Replication state of one partition.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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
    /// Records replicated per second over the last minute of the migration's progress
    /// (absent: fewer than two progress records in that minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_per_second: Option<f64>,
}

/// The whole migration's replication state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub migration: String,
    pub partitions: Vec<PartitionStatus>,
    /// Whether a run of the built-in engine writes progress now (a position written within
    /// the last 10 seconds and no clean stop since). Absent when the engine does not say
    /// (MirrorMaker 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<bool>,
    /// When the built-in engine last wrote a position, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_progress_at_ms: Option<i64>,
}

impl Status {
    /// Whether anything of the migration was replicated.
    pub fn started(&self) -> bool {
        self.partitions.iter().any(|p| p.replicated_to.is_some())
    }

    pub fn total_lag(&self) -> i64 {
        self.partitions.iter().map(|p| p.lag).sum()
    }

    /// Records replicated per second over the last minute, over every partition that tells.
    pub fn records_per_second(&self) -> Option<f64> {
        rate_sum(self.partitions.iter().map(|p| p.records_per_second))
    }

    /// Per topic: partitions, lag, records replicated, records per second.
    pub fn by_topic(&self) -> BTreeMap<&str, TopicStatus> {
        let mut out: BTreeMap<&str, TopicStatus> = BTreeMap::new();
        for p in &self.partitions {
            let e = out.entry(p.topic.as_str()).or_default();
            e.partitions += 1;
            e.lag += p.lag;
            e.records += p.records;
            e.records_per_second = rate_sum([e.records_per_second, p.records_per_second]);
        }
        out
    }
}

/// One topic's partitions summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicStatus {
    pub partitions: usize,
    pub lag: i64,
    pub records: u64,
    /// None when no partition tells its rate.
    pub records_per_second: Option<f64>,
}

/// The sum of the rates that are known; None when none is.
fn rate_sum(rates: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    rates
        .into_iter()
        .flatten()
        .fold(None, |sum, r| Some(sum.unwrap_or(0.0) + r))
}

/// Reads the source's end offsets and the migration's progress.
pub async fn status(migration: &Migration) -> Result<Status, ClusterError> {
    let source = ClusterClient::of(migration, Role::Source).await?;
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
    // The selected topics, and those the engine replicates besides (the internal topics of
    // the applications that move with them, see `plan::units`).
    let selects = |t: &str| migration.topics.selects(t) || progress.has_topic(t);
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
                    records_per_second: progress
                        .activity
                        .records_per_second(&(topic.clone(), *partition)),
                }
            })
            .collect();
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let activity = &progress.activity;
        Status {
            migration: migration.to_string(),
            partitions,
            running: activity.last_position_ms.map(|_| activity.running(now_ms)),
            last_progress_at_ms: activity.last_position_ms,
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
