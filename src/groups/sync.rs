//! Consumer group offset sync: every selected group's committed source offsets, translated
//! exactly, committed for the group on the target — only while the target group has no
//! members (the diff leaves active groups out). Forward as the source group consumes, back
//! when it was rewound on the source. What the sync commits is recorded in the migration's
//! progress first, so that a target offset moved since is known to be the group's consumers'.
//! A group that has cut over (members on the target, or its target offset moved forward
//! since the sync committed it) is not synced again for as long as the [`GroupSync`] lives,
//! which also keeps the translations it found. A round from a fresh survey of both clusters
//! (`GroupSync::survey_round`) is in [`crate::survey`], which reads them.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{StreamExt, TryStreamExt};

use crate::cluster::{ClusterClient, ClusterError, Inventory, CONCURRENT_GROUP_REQUESTS};
use crate::config::Naming;
use crate::plan::{group_states, GroupOffsets, GroupState, OffsetTarget};
use crate::state::{cut_over_record, group_synced_record, Progress, Store, Synced, SyncedOffset};

use super::Known;

/// What a sync did for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSynced {
    pub group: String,
    pub committed: usize,
    pub pending: usize,
    /// Why the group was left alone: it has cut over.
    pub cut_over: Option<String>,
}

/// Group offset sync rounds of one `apply`: remembers the groups seen cut over, so that a
/// group whose consumers left the target again is still not synced — within the `apply`, and
/// across applies when recording (the groups are then written to the migration's progress).
#[derive(Debug, Default)]
pub struct GroupSync {
    cut_over: BTreeSet<String>,
    known: Known,
    /// What this apply's rounds committed, per group (recorded in the progress too; kept here
    /// while the progress read by the next round may not show it yet).
    synced: Synced,
    /// Where to record groups that cut over: the migration's progress topic.
    record: Option<Store>,
    /// How the target names the source's topics and groups.
    naming: Naming,
}

impl GroupSync {
    /// Rounds that record each group seen cut over in `migration`'s progress topic (when the
    /// built-in engine keeps one), where every later `apply` and `status` find it.
    pub fn recording(migration: &crate::config::Migration) -> GroupSync {
        GroupSync {
            record: Some(Store::of(migration)),
            naming: Naming::target(migration),
            ..GroupSync::default()
        }
    }

    /// The translations found in earlier rounds, for the survey of the next one.
    pub fn known(&self) -> &Known {
        &self.known
    }

    /// One round: the plan's translated `groups` (with both clusters' inventories of the
    /// selected groups) committed on the target, except for groups that have cut over — now,
    /// earlier in this apply, or as recorded in the built-in engine's `progress`.
    pub async fn round(
        &mut self,
        target: &ClusterClient,
        groups: &[GroupOffsets],
        source_inventory: &Inventory,
        target_inventory: &Inventory,
        progress: Option<&Progress>,
    ) -> Result<Vec<GroupSynced>, ClusterError> {
        let none = BTreeMap::new();
        let recorded = progress.map_or(&none, |p| &p.cut_over);
        let states = group_states(groups, source_inventory, target_inventory);
        let mut report = Vec::new();
        let mut newly = Vec::new();
        for s in states {
            if s.state == GroupState::CutOver
                && self.cut_over.insert(s.group.clone())
                && !recorded.contains_key(&s.group)
            {
                tracing::info!(group = %s.group, detail = %s.detail, "Group has cut over; its offsets are no longer synced.");
                newly.push(cut_over_record(&s.group, &s.detail));
            }
            if self.cut_over.contains(&s.group) {
                report.push(GroupSynced {
                    group: s.group,
                    committed: 0,
                    pending: 0,
                    cut_over: Some(s.detail),
                });
            }
        }
        if progress.is_some() {
            self.record(target, "recording cut-over groups", newly)
                .await?;
        }
        let live: Vec<GroupOffsets> = groups
            .iter()
            .filter(|g| !self.cut_over.contains(&g.group))
            .cloned()
            .collect();
        if let (Some(_), Some(progress)) = (&self.record, progress) {
            // What is about to be committed is recorded first: a target offset found later
            // anywhere else was moved by the group's consumers. A commit cut short leaves the
            // offset before it, which the record keeps too.
            let records = self.record_commits(&live, &progress.synced);
            self.record(target, "recording synced group offsets", records)
                .await?;
        }
        report.extend(sync_groups(target, &self.naming, &live).await?);
        report.sort_by(|a, b| a.group.cmp(&b.group));
        Ok(report)
    }

    /// Writes `records` to the migration's progress topic, when these rounds record.
    async fn record(
        &self,
        target: &ClusterClient,
        operation: &str,
        records: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(), ClusterError> {
        let Some(store) = self.record.clone().filter(|_| !records.is_empty()) else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || store.write(&records))
            .await
            .map_err(|e| target.error(operation, e.to_string()))?
            .map_err(|e| target.error(operation, e.to_string()))?;
        Ok(())
    }

    /// The group-synced records for the commits `groups` are about to get, each holding every
    /// partition the sync committed for the group (from `recorded` and this apply's rounds).
    fn record_commits(
        &mut self,
        groups: &[GroupOffsets],
        recorded: &Synced,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut records = Vec::new();
        for g in groups {
            let commits: Vec<SyncedOffset> = g
                .partitions
                .iter()
                .filter_map(|p| {
                    Some(SyncedOffset {
                        topic: p.topic.clone(),
                        partition: p.partition,
                        offset: p.to_commit()?,
                        previous: p.target_current,
                    })
                })
                .collect();
            if commits.is_empty() {
                continue;
            }
            let entries = self
                .synced
                .entry(g.group.clone())
                .or_insert_with(|| recorded.get(&g.group).cloned().unwrap_or_default());
            for c in commits {
                entries.insert((c.topic.clone(), c.partition), c);
            }
            records.push(group_synced_record(&g.group, entries));
        }
        records
    }
}

/// Commits the exact translations where the target holds another offset, for each group and
/// topic under the name `naming` gives it there.
pub async fn sync_groups(
    target: &ClusterClient,
    naming: &Naming,
    groups: &[GroupOffsets],
) -> Result<Vec<GroupSynced>, ClusterError> {
    // One commit per group (the Admin API takes one at a time), several at once.
    let commits: Vec<_> = groups
        .iter()
        .map(|g| async move {
            let mut commits = Vec::new();
            let mut pending = 0;
            for p in &g.partitions {
                if let Some(offset) = p.to_commit() {
                    let topic = naming.topics.target(&p.topic).into_owned();
                    commits.push((topic, p.partition, offset));
                } else if p.target == OffsetTarget::PendingReplication {
                    pending += 1;
                }
            }
            let committed = commits.len();
            if !commits.is_empty() {
                let id = naming.groups.target(&g.group).into_owned();
                target
                    .ext()
                    .alter_consumer_group_offsets(id.clone(), commits)
                    .await
                    .map_err(|e| {
                        target.ext_error(&format!("committing offsets of group \"{id}\""), e)
                    })?;
            }
            Ok(GroupSynced {
                group: g.group.clone(),
                committed,
                pending,
                cut_over: None,
            })
        })
        .collect();
    futures_util::stream::iter(commits)
        .buffered(CONCURRENT_GROUP_REQUESTS)
        .try_collect()
        .await
}
