//! The migration's progress, as records in a compacted topic on the target.
//!
//! Per source partition one *position* record says how far replication got: every source
//! record below `next_source` is on the target below `next_target`. Written in the same
//! transaction as the data (exactly-once), it is where a restarted run resumes. Every
//! [`INDEX_INTERVAL`] source offsets a position is also kept as an *index* record under its own
//! key, so that exact consumer-offset translation can start near any committed offset. A
//! *cut-over* record per consumer group says that its consumers moved to the target, so that
//! no later `apply` syncs its offsets again. A *group-synced* record per consumer group keeps
//! the offsets the sync last committed for it on the target (and the ones before), so that a
//! target offset that moved since is known to be the group's consumers', not the tool's. A
//! *writers* record per task count a run used says
//! which transactional ids may hold a transaction of the migration, so that every later run
//! fences them all before it reads progress (see `fence`). One *cutover* record keeps where
//! `cutover` got to and, once recorded, the cutover point ([`super::cutover`]). One
//! *identity* record keeps the cluster ids of the source and target ([`super::identity`]).
//! *Offset-map* records keep, chunk by chunk, where each replicated source record landed
//! ([`super::offset_map`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cutover::CutoverRecord;
use super::identity::Identity;

/// Source offsets between two index records of a partition (at most).
pub const INDEX_INTERVAL: i64 = 10_000;

/// A point where source and target line up: every source record below `next_source` was
/// written to the target below `next_target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub next_source: i64,
    pub next_target: i64,
}

/// Key of a progress record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProgressKey {
    Position {
        topic: String,
        partition: i32,
    },
    Index {
        topic: String,
        partition: i32,
        next_source: i64,
    },
    CutOver {
        group: String,
    },
    /// The offsets the group sync committed for `group` on the target.
    GroupSynced {
        group: String,
    },
    /// A run of the built-in engine with `tasks` transactional ids (`0..tasks`) started.
    Writers {
        tasks: usize,
    },
    /// A run of the built-in engine ended: it no longer writes.
    Released,
    /// Where `cutover` got to, and the cutover point once recorded (see [`super::cutover`]).
    Cutover,
    /// Where `rollback` got to, and the rollback point once recorded.
    Rollback,
    /// The source and target cluster ids the migration replicates between (see
    /// [`super::identity`]).
    Identity,
    /// One chunk of a partition's offset map (see [`super::offset_map`]).
    OffsetMap {
        topic: String,
        partition: i32,
        chunk: u32,
    },
}

/// One partition of a group-synced record: what the sync committed there last, and what the
/// target held before (a commit recorded but cut short leaves either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<i64>,
}

impl SyncedOffset {
    /// Whether `current` on the target is where the sync left it (the offset it committed, or
    /// the one before when the commit may not have happened).
    pub fn left(&self, current: i64) -> bool {
        current == self.offset || Some(current) == self.previous
    }
}

/// Value of a group-synced record: every partition the sync ever committed for the group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSyncedValue {
    pub partitions: Vec<SyncedOffset>,
}

/// The offsets the group sync committed, by group, topic and partition.
pub type Synced = BTreeMap<String, BTreeMap<(String, i32), SyncedOffset>>;

/// The key and value of the record keeping what the sync committed for `group`.
pub fn group_synced_record(
    group: &str,
    partitions: &BTreeMap<(String, i32), SyncedOffset>,
) -> (Vec<u8>, Vec<u8>) {
    let key = ProgressKey::GroupSynced {
        group: group.to_string(),
    };
    let value = GroupSyncedValue {
        partitions: partitions.values().cloned().collect(),
    };
    (key.encode(), serde_json::to_vec(&value).unwrap_or_default())
}

/// Value of a writers record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritersValue {
    /// The migration's exact name: two names that map to one progress topic are told apart.
    pub migration: String,
    /// The process that announced itself ([`process_label`]), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
}

/// A writers record as read: how many transactional ids a run used, which migration wrote it
/// and where it is in the progress topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WritersSeen {
    pub migration: String,
    pub offset: i64,
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub at_ms: Option<i64>,
}

impl WritersSeen {
    /// The run as told to an operator: `kafka-migrate apply (pid 7 on host-a), 2026-12-07 …`.
    pub fn describe(&self) -> String {
        // Read back from the progress topic, which anything may write: shown as data.
        let by = self.by.as_deref().map_or_else(
            || "a run that did not name itself".to_string(),
            |by| crate::quote::terminal(by).into_owned(),
        );
        match self.at_ms {
            Some(at) => format!("{by}, started {}", super::cutover::utc(at)),
            None => by.to_string(),
        }
    }
}

/// This process as a writers record names it: the command it runs, its pid and host.
pub fn process_label() -> String {
    const COMMANDS: [&str; 3] = ["apply", "cutover", "rollback"];
    let command = std::env::args()
        .skip(1)
        .find(|a| COMMANDS.contains(&a.as_str()))
        .map_or_else(
            || "kafka-migrate".to_string(),
            |c| format!("kafka-migrate {c}"),
        );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".to_string());
    format!("{command} (pid {} on {host})", std::process::id())
}

/// The records that forget what the sync recorded of `group`: not cut over, nothing committed
/// (an empty value folds as a removal).
pub fn forget_group(group: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let key = |k: ProgressKey| k.encode();
    vec![
        (
            key(ProgressKey::CutOver {
                group: group.to_string(),
            }),
            Vec::new(),
        ),
        (
            key(ProgressKey::GroupSynced {
                group: group.to_string(),
            }),
            Vec::new(),
        ),
    ]
}

/// How many of the latest writers records [`Progress::runs`] keeps.
pub const RUNS_KEPT: usize = 16;

/// Value of a released record: the run that announced itself at `announced` ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    /// The offset of the run's writers record.
    pub announced: i64,
}

/// The key and value of the record saying that the run announced at `announced` ended.
pub fn released_record(announced: i64) -> (Vec<u8>, Vec<u8>) {
    (
        ProgressKey::Released.encode(),
        serde_json::to_vec(&Released { announced }).unwrap_or_default(),
    )
}

/// Value of a cut-over record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutOverValue {
    /// Why the group counts as cut over, as seen when it was recorded.
    pub detail: String,
}

/// The key and value of the record saying that `group` has cut over.
pub fn cut_over_record(group: &str, detail: &str) -> (Vec<u8>, Vec<u8>) {
    let key = ProgressKey::CutOver {
        group: group.to_string(),
    };
    let value = CutOverValue {
        detail: detail.to_string(),
    };
    (key.encode(), serde_json::to_vec(&value).unwrap_or_default())
}

/// The key and value of the record saying that a run of `migration` uses `tasks` transactional
/// ids.
pub fn writers_record(migration: &str, tasks: usize) -> (Vec<u8>, Vec<u8>) {
    let value = WritersValue {
        migration: migration.to_string(),
        by: Some(process_label()),
        at_ms: Some(super::cutover::now_ms()),
    };
    (
        ProgressKey::Writers { tasks }.encode(),
        serde_json::to_vec(&value).unwrap_or_default(),
    )
}

/// Value of a progress record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressValue {
    pub position: Position,
    /// Records replicated so far for the partition (position records only).
    #[serde(default)]
    pub records: u64,
    /// Bytes of keys and values replicated so far (position records only).
    #[serde(default)]
    pub bytes: u64,
}

impl ProgressKey {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn decode(bytes: &[u8]) -> Option<ProgressKey> {
        serde_json::from_slice(bytes).ok()
    }
}

impl ProgressValue {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
    pub fn decode(bytes: &[u8]) -> Option<ProgressValue> {
        serde_json::from_slice(bytes).ok()
    }
}

/// Progress of one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionProgress {
    pub position: Option<Position>,
    pub records: u64,
    pub bytes: u64,
    /// Index positions, ordered by source offset.
    pub index: Vec<Position>,
    /// Whether the target offset before the position's `next_target` holds a record this
    /// migration wrote and committed, as the built-in engine's positions do. MirrorMaker 2's
    /// positions are the target's end, which may follow transaction markers.
    #[serde(default)]
    pub position_follows_record: bool,
}

impl PartitionProgress {
    /// The nearest known alignment at or below `source_offset` (index or current position).
    pub fn anchor(&self, source_offset: i64) -> Option<Position> {
        self.index
            .iter()
            .chain(self.position.iter())
            .filter(|p| p.next_source <= source_offset)
            .max_by_key(|p| p.next_source)
            .copied()
    }

    /// The source offsets of index records no translation needs once the source's log starts at
    /// `log_start`: every one below the last at or below it (which stays, the anchor of offsets
    /// from the log start on). Their records can be tombstoned.
    pub fn obsolete_index(&self, log_start: i64) -> Vec<i64> {
        let kept = self.index.partition_point(|i| i.next_source <= log_start);
        self.index[..kept.saturating_sub(1)]
            .iter()
            .map(|i| i.next_source)
            .collect()
    }

    /// Whether an index record is due for `next`: none yet, or [`INDEX_INTERVAL`] source offsets
    /// since the last one.
    pub fn index_due(&self, next: &Position) -> bool {
        index_due_after(self.index.last().map(|p| p.next_source), next.next_source)
    }
}

/// Whether an index record is due at source offset `next_source` when the last one was at
/// `last` (none yet: due).
pub fn index_due_after(last: Option<i64>, next_source: i64) -> bool {
    last.is_none_or(|last| next_source - last >= INDEX_INTERVAL)
}

/// The progress records of a partition's new position (`value`), with an index record of
/// `indexed` (the alignment its batch started from) when one is due: key and value bytes.
pub fn position_records(
    topic: &str,
    partition: i32,
    value: ProgressValue,
    indexed: Option<Position>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let position = ProgressKey::Position {
        topic: topic.to_string(),
        partition,
    };
    let mut records = vec![(position.encode(), value.encode())];
    if let Some(start) = indexed {
        let entry = ProgressValue {
            position: start,
            records: 0,
            bytes: 0,
        };
        records.push((
            index_key(topic, partition, start.next_source),
            entry.encode(),
        ));
    }
    records
}

/// An index record alone: both logs agree at `at` (the position is left as it is).
pub fn index_record(topic: &str, partition: i32, at: Position) -> (Vec<u8>, Vec<u8>) {
    let entry = ProgressValue {
        position: at,
        records: 0,
        bytes: 0,
    };
    (index_key(topic, partition, at.next_source), entry.encode())
}

/// The key of a partition's index record at `next_source` (a tombstone under it deletes the
/// record).
pub fn index_key(topic: &str, partition: i32, next_source: i64) -> Vec<u8> {
    ProgressKey::Index {
        topic: topic.to_string(),
        partition,
        next_source,
    }
    .encode()
}

/// The progress records saying that both logs of a partition line up at `at`, where no
/// record was replicated yet (a starting point): a position and an index entry.
pub fn alignment_records(topic: &str, partition: i32, at: Position) -> Vec<(Vec<u8>, Vec<u8>)> {
    let value = ProgressValue {
        position: at,
        records: 0,
        bytes: 0,
    };
    position_records(topic, partition, value, Some(at))
}

/// Progress of every partition, as folded from the progress topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub partitions: BTreeMap<(String, i32), PartitionProgress>,
    /// Groups recorded as cut over, with why.
    #[serde(default)]
    pub cut_over: BTreeMap<String, String>,
    /// Writers records by task count: the latest of each.
    #[serde(default)]
    pub writers: BTreeMap<usize, WritersSeen>,
    /// The last run that said it ended.
    #[serde(default)]
    pub released: Option<Released>,
    /// The latest writers records in the order they were written, whatever their task count
    /// (the last [`RUNS_KEPT`]).
    #[serde(default, skip)]
    pub runs: Vec<(usize, WritersSeen)>,
    /// What the group sync committed on the target, per group.
    #[serde(default)]
    pub synced: Synced,
    /// The cutover's steps and point, once `cutover` started.
    #[serde(default)]
    pub cutover: Option<CutoverRecord>,
    /// The rollback's steps and point, once `rollback` started.
    #[serde(default)]
    pub rollback: Option<CutoverRecord>,
    /// The clusters the migration replicates between, once a run recorded them.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// When the records were written, as far as the read told (see [`Progress::fold_at`]).
    #[serde(default)]
    pub activity: Activity,
    /// The offset map's chunks (see [`Progress::offset_map`]).
    #[serde(default, skip)]
    pub offset_map: super::offset_map::Chunks,
}

/// When the progress was written: how fast it moves and whether a run writes it now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// When the newest position was written, in milliseconds since the Unix epoch.
    pub last_position_ms: Option<i64>,
    /// When a run last said it ended, in milliseconds since the Unix epoch.
    pub stopped_ms: Option<i64>,
    /// Per partition, (write time, records replicated) of its positions written within
    /// [`RATE_WINDOW_MS`] of its newest, oldest first.
    #[serde(skip)]
    samples: BTreeMap<(String, i32), Vec<(i64, u64)>>,
}

/// The window over which the replication rate is measured.
pub const RATE_WINDOW_MS: i64 = 60_000;

/// A run writes positions at least this often (idle tasks rewrite theirs): a run whose last
/// position is older stopped, or stalled.
pub const RUNNING_WITHIN_MS: i64 = 10_000;

impl Activity {
    /// Whether a run of the built-in engine writes progress now (at `now_ms`): a position
    /// written within [`RUNNING_WITHIN_MS`] and no clean stop recorded since.
    pub fn running(&self, now_ms: i64) -> bool {
        self.last_position_ms.is_some_and(|last| {
            now_ms - last <= RUNNING_WITHIN_MS && self.stopped_ms.is_none_or(|s| s < last)
        })
    }

    /// Records replicated per second on `partition` over the last [`RATE_WINDOW_MS`] of its
    /// positions, up to the newest position of any partition; None when fewer than two
    /// positions fall in the window.
    pub fn records_per_second(&self, partition: &(String, i32)) -> Option<f64> {
        let newest = self.last_position_ms?;
        let samples: Vec<&(i64, u64)> = self
            .samples
            .get(partition)?
            .iter()
            .filter(|(at, _)| *at >= newest - RATE_WINDOW_MS)
            .collect();
        let (first, last) = (samples.first()?, samples.last()?);
        let elapsed_ms = (newest - first.0).max(last.0 - first.0);
        (elapsed_ms > 0 && samples.len() > 1)
            .then(|| last.1.saturating_sub(first.1) as f64 * 1000.0 / elapsed_ms as f64)
    }

    fn position(&mut self, partition: (String, i32), at_ms: i64, records: u64) {
        self.last_position_ms = Some(self.last_position_ms.map_or(at_ms, |l| l.max(at_ms)));
        let samples = self.samples.entry(partition).or_default();
        samples.push((at_ms, records));
        samples.retain(|(at, _)| *at >= at_ms - RATE_WINDOW_MS);
    }
}

impl Progress {
    /// The cutover record, once the migration was cut over (not rolled back or abandoned).
    pub fn cut_over(&self) -> Option<&CutoverRecord> {
        self.cutover.as_ref().filter(|c| c.is_cut_over())
    }

    /// [`Progress::fold`], for a record written at `timestamp_ms` (when the read tells it):
    /// positions and clean stops also tell the [`Activity`].
    pub fn fold_at(
        &mut self,
        offset: i64,
        timestamp_ms: Option<i64>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        self.fold(offset, key, value);
        let (Some(at), Some(key)) = (timestamp_ms, key.and_then(ProgressKey::decode)) else {
            return;
        };
        match key {
            ProgressKey::Released => {
                self.activity.stopped_ms = Some(self.activity.stopped_ms.map_or(at, |s| s.max(at)))
            }
            ProgressKey::Position { topic, partition } => {
                if let Some(v) = value.and_then(ProgressValue::decode) {
                    self.activity.position((topic, partition), at, v.records);
                }
            }
            _ => {}
        }
    }

    /// Folds one record of the progress topic in, as read at `offset` (unknown records are
    /// skipped).
    pub fn fold(&mut self, offset: i64, key: Option<&[u8]>, value: Option<&[u8]>) {
        let Some(key) = key.and_then(ProgressKey::decode) else {
            return;
        };
        if let ProgressKey::GroupSynced { group } = &key {
            match value.and_then(|v| serde_json::from_slice::<GroupSyncedValue>(v).ok()) {
                Some(v) => self.synced.insert(
                    group.clone(),
                    v.partitions
                        .into_iter()
                        .map(|p| ((p.topic.clone(), p.partition), p))
                        .collect(),
                ),
                None => self.synced.remove(group),
            };
        } else if let ProgressKey::Writers { tasks } = &key {
            match value.and_then(|v| serde_json::from_slice::<WritersValue>(v).ok()) {
                Some(v) => {
                    let seen = WritersSeen {
                        migration: v.migration,
                        offset,
                        by: v.by,
                        at_ms: v.at_ms,
                    };
                    self.runs.push((*tasks, seen.clone()));
                    if self.runs.len() > RUNS_KEPT {
                        self.runs.remove(0);
                    }
                    self.writers.insert(*tasks, seen)
                }
                None => self.writers.remove(tasks),
            };
        } else if key == ProgressKey::Released {
            self.released = value.and_then(|v| serde_json::from_slice(v).ok());
        } else if key == ProgressKey::Cutover {
            self.cutover = value.and_then(|v| serde_json::from_slice(v).ok());
        } else if key == ProgressKey::Identity {
            self.identity = Identity::decode(value);
        } else if let ProgressKey::OffsetMap {
            topic,
            partition,
            chunk,
        } = &key
        {
            self.offset_map.fold(topic, *partition, *chunk, value);
        } else if key == ProgressKey::Rollback {
            self.rollback = value.and_then(|v| serde_json::from_slice(v).ok());
        } else if let ProgressKey::CutOver { group } = &key {
            match value.and_then(|v| serde_json::from_slice::<CutOverValue>(v).ok()) {
                Some(v) => self.cut_over.insert(group.clone(), v.detail),
                None => self.cut_over.remove(group),
            };
        } else if let Some(value) = value.and_then(ProgressValue::decode) {
            self.apply(&key, &value);
        } else if let (
            ProgressKey::Index {
                topic,
                partition,
                next_source,
            },
            None,
        ) = (&key, value)
        {
            if let Some(p) = self.partitions.get_mut(&(topic.clone(), *partition)) {
                p.index.retain(|i| i.next_source != *next_source);
            }
        }
    }

    /// Folds one position or index record in (later records win for position keys).
    fn apply(&mut self, key: &ProgressKey, value: &ProgressValue) {
        match key {
            ProgressKey::Position { topic, partition } => {
                let p = self
                    .partitions
                    .entry((topic.clone(), *partition))
                    .or_default();
                p.position = Some(value.position);
                p.records = value.records;
                p.bytes = value.bytes;
                p.position_follows_record = true;
            }
            ProgressKey::Index {
                topic, partition, ..
            } => {
                let p = self
                    .partitions
                    .entry((topic.clone(), *partition))
                    .or_default();
                if let Err(at) = p.index.binary_search(&value.position) {
                    p.index.insert(at, value.position);
                }
            }
            ProgressKey::CutOver { .. }
            | ProgressKey::GroupSynced { .. }
            | ProgressKey::Writers { .. }
            | ProgressKey::Released
            | ProgressKey::Cutover
            | ProgressKey::Rollback
            | ProgressKey::Identity
            | ProgressKey::OffsetMap { .. } => {}
        }
    }

    /// The number of transactional ids (`0..n`) that runs of the migration have used, as far
    /// as writers records tell.
    pub fn writers(&self) -> usize {
        self.writers.keys().copied().max().unwrap_or(0)
    }

    /// The run that announced itself last.
    pub fn last_writer(&self) -> Option<&WritersSeen> {
        self.runs.last().map(|(_, w)| w)
    }

    /// The run that announced itself last before offset `mine`, unless it said it ended: a
    /// run that may still be writing.
    /// With how many transactional ids it ran (none: at-least-once).
    pub fn unreleased_before(&self, mine: i64) -> Option<(usize, &WritersSeen)> {
        // This process's own announcements (failback's preparation) hold nothing against it.
        let me = process_label();
        let (tasks, before) = self
            .runs
            .iter()
            .rfind(|(_, w)| w.offset < mine && w.by.as_deref() != Some(me.as_str()))?;
        let ended = self
            .released
            .as_ref()
            .is_some_and(|r| r.announced >= before.offset);
        (!ended).then_some((*tasks, before))
    }

    /// The name of another migration whose runs wrote to this progress topic (two names that
    /// differ only by `.` and `_` map to one topic), if any.
    pub fn foreign_writer(&self, migration: &str) -> Option<&str> {
        self.writers
            .values()
            .map(|w| w.migration.as_str())
            .find(|m| *m != migration)
    }

    /// Whether the progress holds any position: a migration replicated before writers
    /// records existed has positions but no writers record.
    pub fn has_positions(&self) -> bool {
        self.partitions.values().any(|p| p.position.is_some())
    }

    /// Whether the migration recorded progress for a partition of `topic`.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.partitions
            .range((topic.to_string(), i32::MIN)..=(topic.to_string(), i32::MAX))
            .next()
            .is_some()
    }

    /// The offset map recorded last (see [`super::offset_map`]).
    pub fn offset_map(&self) -> Option<super::offset_map::OffsetMap> {
        self.offset_map.map()
    }

    /// Each partition's position: where replication stands.
    pub fn heads(&self) -> BTreeMap<(String, i32), Position> {
        self.partitions
            .iter()
            .filter_map(|(k, p)| Some((k.clone(), p.position?)))
            .collect()
    }

    pub fn get(&self, topic: &str, partition: i32) -> Option<&PartitionProgress> {
        self.partitions.get(&(topic.to_string(), partition))
    }

    /// Per topic and partition, the target offset up to which this migration wrote.
    pub fn replicated(&self) -> BTreeMap<String, BTreeMap<i32, i64>> {
        let mut out: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
        for ((topic, partition), p) in &self.partitions {
            if let Some(pos) = p.position {
                out.entry(topic.clone())
                    .or_default()
                    .insert(*partition, pos.next_target);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(s: i64, t: i64) -> Position {
        Position {
            next_source: s,
            next_target: t,
        }
    }

    #[test]
    fn keys_and_values_round_trip() {
        let key = ProgressKey::Index {
            topic: "orders".into(),
            partition: 3,
            next_source: 42,
        };
        assert_eq!(ProgressKey::decode(&key.encode()), Some(key));
        let value = ProgressValue {
            position: pos(10, 12),
            records: 9,
            bytes: 100,
        };
        assert_eq!(ProgressValue::decode(&value.encode()), Some(value));
        assert_eq!(ProgressKey::decode(b"not json"), None);
    }

    #[test]
    fn folding_keeps_the_latest_position_and_every_index_entry() {
        let mut progress = Progress::default();
        let at = |s, t| ProgressValue {
            position: pos(s, t),
            records: s as u64,
            bytes: 0,
        };
        let position = ProgressKey::Position {
            topic: "t".into(),
            partition: 0,
        };
        let index = |s| ProgressKey::Index {
            topic: "t".into(),
            partition: 0,
            next_source: s,
        };
        progress.apply(&index(5), &at(5, 6));
        progress.apply(&position, &at(5, 6));
        progress.apply(&index(20_000), &at(20_000, 20_010));
        progress.apply(&position, &at(25_000, 25_012));
        progress.apply(&index(5), &at(5, 6)); // replayed: no duplicate
        let p = progress.get("t", 0).unwrap();
        assert_eq!(p.position, Some(pos(25_000, 25_012)));
        // The engine's positions follow a record it wrote (translation walks rely on it).
        assert!(p.position_follows_record);
        assert_eq!(p.index, vec![pos(5, 6), pos(20_000, 20_010)]);
        assert_eq!(p.anchor(4), None);
        assert_eq!(p.anchor(19_999), Some(pos(5, 6)));
        assert_eq!(p.anchor(24_000), Some(pos(20_000, 20_010)));
        assert_eq!(p.anchor(30_000), Some(pos(25_000, 25_012)));
        assert_eq!(progress.replicated()["t"][&0], 25_012);
    }

    #[test]
    fn index_entries_below_the_source_log_start_are_obsolete_but_the_last_one() {
        let mut p = PartitionProgress::default();
        assert!(p.obsolete_index(50_000).is_empty());
        p.index = vec![pos(0, 0), pos(10_000, 10_003), pos(20_000, 20_007)];
        assert!(p.obsolete_index(0).is_empty());
        assert!(p.obsolete_index(9_999).is_empty());
        assert_eq!(p.obsolete_index(10_000), vec![0]);
        assert_eq!(p.obsolete_index(25_000), vec![0, 10_000]);
        // A tombstone removes the entry; what stays still anchors the log start on.
        let mut progress = Progress::default();
        progress.partitions.insert(("t".into(), 0), p);
        for next_source in progress.get("t", 0).unwrap().obsolete_index(25_000) {
            let key = ProgressKey::Index {
                topic: "t".into(),
                partition: 0,
                next_source,
            };
            progress.fold(0, Some(&key.encode()), None);
        }
        let p = progress.get("t", 0).unwrap();
        assert_eq!(p.index, vec![pos(20_000, 20_007)]);
        assert_eq!(p.anchor(25_000), Some(pos(20_000, 20_007)));
    }

    #[test]
    fn an_index_entry_is_due_every_interval() {
        let mut p = PartitionProgress::default();
        assert!(p.index_due(&pos(0, 0)));
        p.index.push(pos(100, 100));
        assert!(!p.index_due(&pos(100 + INDEX_INTERVAL - 1, 0)));
        assert!(p.index_due(&pos(100 + INDEX_INTERVAL, 0)));
    }

    #[test]
    fn cut_over_records_fold_in_and_a_tombstone_removes_them() {
        let mut progress = Progress::default();
        let (key, value) = cut_over_record("billing", "2 member(s) on the target");
        progress.fold(0, Some(&key), Some(&value));
        assert_eq!(
            progress.cut_over.get("billing").map(String::as_str),
            Some("2 member(s) on the target")
        );
        // Position records still fold as before; unknown records are skipped.
        let position = ProgressKey::Position {
            topic: "orders".into(),
            partition: 0,
        };
        let at = ProgressValue {
            position: pos(5, 7),
            records: 5,
            bytes: 50,
        };
        progress.fold(1, Some(&position.encode()), Some(&at.encode()));
        progress.fold(2, Some(b"{\"kind\":\"something_else\"}"), Some(b"{}"));
        assert_eq!(progress.get("orders", 0).unwrap().position, Some(pos(5, 7)));
        progress.fold(3, Some(&key), None);
        assert!(progress.cut_over.is_empty());
    }

    #[test]
    fn writers_records_say_how_many_transactional_ids_runs_used() {
        let mut progress = Progress::default();
        assert_eq!(progress.writers(), 0);
        let (key, value) = writers_record("orders.eu", 6);
        progress.fold(10, Some(&key), Some(&value));
        let (key, value) = writers_record("orders.eu", 1);
        progress.fold(20, Some(&key), Some(&value));
        // A smaller run later does not hide the larger one: each count has its own key.
        assert_eq!(progress.writers(), 6);
        assert_eq!(progress.writers[&1].offset, 20);
        assert_eq!(progress.writers[&6].migration, "orders.eu");
        assert!(!progress.has_positions());
    }

    #[test]
    fn a_forgotten_group_is_neither_cut_over_nor_synced() {
        let mut progress = Progress::default();
        let (key, value) = cut_over_record("billing", "consumed on the target");
        progress.fold(1, Some(&key), Some(&value));
        let offset = SyncedOffset {
            topic: "t".into(),
            partition: 0,
            offset: 5,
            previous: None,
        };
        let (key, value) = group_synced_record("billing", &[(("t".to_string(), 0), offset)].into());
        progress.fold(2, Some(&key), Some(&value));
        assert!(
            progress.cut_over.contains_key("billing") && progress.synced.contains_key("billing")
        );
        for (i, (key, value)) in forget_group("billing").into_iter().enumerate() {
            progress.fold(3 + i as i64, Some(&key), Some(&value));
        }
        assert!(progress.cut_over.is_empty() && progress.synced.is_empty());
    }

    #[test]
    fn a_run_is_known_to_have_ended_once_it_says_so() {
        // Another process's announcement of a run with `tasks` ids.
        let elsewhere = |tasks: usize| {
            let value = WritersValue {
                migration: "m".into(),
                by: Some("kafka-migrate apply (pid 1 on elsewhere)".into()),
                at_ms: Some(0),
            };
            (
                ProgressKey::Writers { tasks }.encode(),
                serde_json::to_vec(&value).unwrap(),
            )
        };
        let mut progress = Progress::default();
        let (key, value) = elsewhere(0);
        progress.fold(10, Some(&key), Some(&value));
        let (key, value) = elsewhere(0);
        progress.fold(20, Some(&key), Some(&value));
        // The run announced at 20 (with as many ids) sees the one at 10 still holding.
        let (tasks, run) = progress.unreleased_before(20).unwrap();
        assert_eq!((tasks, run.offset), (0, 10));
        assert!(run
            .describe()
            .starts_with("kafka-migrate apply (pid 1 on elsewhere)"));
        assert_eq!(progress.last_writer().unwrap().offset, 20);
        let (key, value) = released_record(10);
        progress.fold(21, Some(&key), Some(&value));
        assert!(progress.unreleased_before(20).is_none());
        // An older release does not end a later run.
        let (key, value) = elsewhere(0);
        progress.fold(30, Some(&key), Some(&value));
        assert_eq!(progress.unreleased_before(40).unwrap().1.offset, 30);
        // This process's own announcement holds nothing against it.
        let (key, value) = writers_record("m", 2);
        progress.fold(40, Some(&key), Some(&value));
        assert_eq!(progress.unreleased_before(50).unwrap().1.offset, 30);
        assert!(progress.last_writer().unwrap().describe().contains("(pid"));
    }

    #[test]
    fn group_synced_records_keep_what_the_sync_left_on_the_target() {
        let mut progress = Progress::default();
        let entry = SyncedOffset {
            topic: "orders".into(),
            partition: 2,
            offset: 40,
            previous: Some(25),
        };
        let (key, value) =
            group_synced_record("billing", &[(("orders".into(), 2), entry.clone())].into());
        progress.fold(0, Some(&key), Some(&value));
        let kept = &progress.synced["billing"][&("orders".to_string(), 2)];
        assert_eq!(kept, &entry);
        assert!(kept.left(40) && kept.left(25));
        assert!(!kept.left(41));
        progress.fold(1, Some(&key), None);
        assert!(progress.synced.is_empty());
    }
}
