//! Where the migration stands: per partition, the source's last stable offset against the
//! migration's committed progress on the target.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::cluster::native::{IsolationLevel, OffsetSpec};
use crate::cluster::{ClusterClient, ClusterError, Role, Scope};
use crate::config::Migration;

use super::{read_progress, Settings};

/// Replication state of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub migration: String,
    pub partitions: Vec<PartitionStatus>,
}

impl Status {
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
    let source = ClusterClient::connect(
        Role::Source,
        &crate::auth::client_properties(migration.source()),
    )
    .await?;
    let selects = |t: &str| migration.topics.selects(t);
    let none = |_: &str| false;
    let inventory = source
        .inventory(&Scope {
            topic: &selects,
            group: &none,
        })
        .await?;
    let request: Vec<(String, i32, OffsetSpec)> = inventory
        .topics
        .values()
        .flat_map(|t| {
            t.partitions
                .keys()
                .map(move |p| (t.name.clone(), *p, OffsetSpec::Latest))
        })
        .collect();
    let ends = source
        .ext()
        .list_offsets(request, IsolationLevel::ReadCommitted)
        .await
        .map_err(|e| source.ext_error("listing end offsets", e))?;
    let settings = Arc::new(Settings::from_migration(migration, false));
    let progress = tokio::task::spawn_blocking(move || read_progress(&settings))
        .await
        .map_err(|e| source.error("reading the migration's progress", e.to_string()))?
        .map_err(|e| ClusterError {
            role: Role::Target,
            operation: "reading the migration's progress".into(),
            cause: e.to_string(),
            kind: crate::cluster::ErrorKind::Other,
            help: None,
        })?;
    let partitions = ends
        .into_iter()
        .map(|((topic, partition), end)| {
            let p = progress.get(&topic, partition);
            let replicated_to = p.and_then(|p| p.position).map(|pos| pos.next_source);
            let start = inventory
                .topics
                .get(&topic)
                .and_then(|t| t.partitions.get(&partition))
                .map_or(0, |x| x.log_start);
            PartitionStatus {
                lag: (end.offset - replicated_to.unwrap_or(start)).max(0),
                topic,
                partition,
                source_end: end.offset,
                replicated_to,
                records: p.map_or(0, |p| p.records),
                bytes: p.map_or(0, |p| p.bytes),
            }
        })
        .collect();
    Ok(Status {
        migration: migration.name.clone(),
        partitions,
    })
}
