//! Consumer group offset sync: every selected group's committed source offsets, translated
//! exactly, committed for the group on the target — only while the target group has no
//! members (the diff leaves active groups out). Forward as the source group consumes, back
//! when it was rewound on the source. What the sync commits is recorded in the migration's
//! progress first, so that a target offset moved since is known to be the group's consumers'.
//! A group that has cut over (members on the target, or its target offset moved forward
//! since the sync committed it) is not synced again for as long as the [`GroupSync`] lives,
//! which also keeps the translations it found.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::ConsumerContext;

use futures_util::{StreamExt, TryStreamExt};

use crate::cluster::{ClusterClient, ClusterError, Inventory, CONCURRENT_GROUP_REQUESTS};
use crate::plan::{GroupOffsets, OffsetTarget};
use crate::replicate::{group_synced_record, Progress, Synced, SyncedOffset};

use super::state::{group_states, GroupState};
use super::{TranslateError, Translation, Translator, Wanted};

/// Translations found earlier, by topic, partition and source offset. Only offsets of
/// records already on the target are kept: those never change, so later rounds need not walk
/// the logs for groups that did not move.
pub type Known = Arc<Mutex<BTreeMap<(String, i32, i64), i64>>>;

/// Fills in the target offset of every group partition that can be translated now, from
/// `known` where it holds the offset, and adds what it translates to `known`.
pub fn translate_groups<C: ConsumerContext + 'static>(
    groups: &mut [GroupOffsets],
    progress: &Progress,
    translator: &mut Translator<C>,
    known: &Known,
) -> Result<(), TranslateError> {
    let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
    // One walk per partition for all the offsets groups committed in it.
    let mut wanted: BTreeMap<(&str, i32), Vec<i64>> = BTreeMap::new();
    for g in groups.iter() {
        for p in &g.partitions {
            if !known.contains_key(&(p.topic.clone(), p.partition, p.source_offset)) {
                wanted
                    .entry((p.topic.as_str(), p.partition))
                    .or_default()
                    .push(p.source_offset);
            }
        }
    }
    let wanted: Vec<Wanted<'_>> = wanted
        .into_iter()
        .filter_map(|((topic, partition), offsets)| {
            Some(Wanted {
                topic,
                partition,
                progress: progress.get(topic, partition)?,
                offsets,
            })
        })
        .collect();
    let mut translated = translator.translate(&wanted)?;
    // Offsets of records already on the target never change: keep them for later rounds.
    translated.retain(|(topic, partition, s), t| match t {
        Translation::Exact(t)
            if progress
                .get(topic, *partition)
                .and_then(|p| p.position)
                .is_some_and(|head| *t < head.next_target) =>
        {
            known.insert((topic.clone(), *partition, *s), *t);
            false
        }
        _ => true,
    });
    for g in groups.iter_mut() {
        for p in &mut g.partitions {
            let key = (p.topic.clone(), p.partition, p.source_offset);
            let t = known
                .get(&key)
                .copied()
                .map(Translation::Exact)
                .or_else(|| translated.get(&key).copied());
            if let Some(Translation::Exact(offset)) = t {
                p.target = OffsetTarget::Translated { offset };
            }
        }
    }
    Ok(())
}

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
    /// Where to record groups that cut over: the engine settings of the migration.
    record: Option<std::sync::Arc<crate::replicate::Settings>>,
}

impl GroupSync {
    /// Rounds that record each group seen cut over in `migration`'s progress topic (when the
    /// built-in engine keeps one), where every later `apply` and `status` find it.
    pub fn recording(migration: &crate::config::Migration) -> GroupSync {
        GroupSync {
            record: Some(std::sync::Arc::new(
                crate::replicate::Settings::from_migration(migration, false),
            )),
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
        progress: Option<&crate::replicate::Progress>,
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
                newly.push(crate::replicate::cut_over_record(&s.group, &s.detail));
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
        report.extend(sync_groups(target, &live).await?);
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
        let Some(settings) = self.record.clone().filter(|_| !records.is_empty()) else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || crate::replicate::write_progress(&settings, &records))
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

/// Commits the exact translations where the target holds another offset.
pub async fn sync_groups(
    target: &ClusterClient,
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
                    commits.push((p.topic.clone(), p.partition, offset));
                } else if p.target == OffsetTarget::PendingReplication {
                    pending += 1;
                }
            }
            let committed = commits.len();
            if !commits.is_empty() {
                target
                    .ext()
                    .alter_consumer_group_offsets(g.group.clone(), commits)
                    .await
                    .map_err(|e| {
                        target.ext_error(&format!("committing offsets of group \"{}\"", g.group), e)
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
