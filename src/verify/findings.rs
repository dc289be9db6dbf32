//! Typed evidence of the checks: what a finding concerns (topic, partition, group) and its
//! figures (offsets, counts), so that a program reads fields instead of parsing lines of text.
//! Holds data only: `render` words each finding.

use serde::Serialize;

/// How a finding weighs in its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The check fails because of it.
    Failure,
    /// Deserves a look; the check does not fail because of it.
    Warning,
    /// Information.
    Note,
}

/// One piece of a check's evidence, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub level: Level,
    #[serde(flatten)]
    pub fact: Fact,
}

/// What a finding says, by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// `lag`: the target holds no progress of the migration: replication has not started.
    NotStarted { migration: String },
    /// `lag`: a partition behind the source's last stable offset by more than
    /// `cutover.max_lag`.
    Behind {
        topic: String,
        partition: i32,
        /// Source offsets not yet replicated.
        lag: i64,
        /// The source's last stable offset.
        source_end: i64,
        /// Source offset up to which records are on the target (absent: nothing yet).
        replicated_to: Option<i64>,
    },
    /// `source quiet`: a partition's end offset moved between two observations.
    EndMoved {
        topic: String,
        partition: i32,
        before: i64,
        after: i64,
    },
    /// `consumer groups`: the offset committed on the target (absent: none) is not the exact
    /// translation of the group's source offset.
    GroupOffsetWrong {
        group: String,
        topic: String,
        partition: i32,
        source_offset: i64,
        /// The exact translation of `source_offset` on the target.
        translated: i64,
        committed: Option<i64>,
    },
    /// `consumer groups`: the records below the group's source offset are not replicated yet.
    GroupOffsetPending {
        group: String,
        topic: String,
        partition: i32,
        source_offset: i64,
    },
    /// `consumer groups`: the group still has members on the source, so its offsets move.
    GroupActiveOnSource { group: String, members: usize },
    /// `consumer groups`: the group has members on both clusters.
    GroupActiveOnBoth {
        group: String,
        members_on_source: usize,
        members_on_target: usize,
    },
    /// `consumer groups`: the group has cut over, as recorded or seen in its offsets (`why`).
    GroupCutOver { group: String, why: String },
    /// `consumer groups`: the group has cut over: members on the target only.
    GroupOnTarget {
        group: String,
        members_on_target: usize,
    },
    /// `data parity`: the first record of a compared range that differs, and in which fields
    /// ("key", "value", "headers", "timestamp").
    RecordDiffers {
        topic: String,
        partition: i32,
        /// Its place in the compared range, from 1.
        record: u64,
        fields: Vec<&'static str>,
        source_offset: i64,
        target_offset: i64,
    },
    /// `data parity`: the compared ranges hold different numbers of records.
    CountDiffers {
        topic: String,
        partition: i32,
        source_records: u64,
        target_records: u64,
        /// The compared ranges, `[from, to)` on each cluster.
        source_from: i64,
        source_to: i64,
        target_from: i64,
        target_to: i64,
        /// The offset of the first record without a match on each side (absent: none).
        source_unmatched: Option<i64>,
        target_unmatched: Option<i64>,
    },
    /// `data parity`: the digests of a chunk of records differ (records `first..=last` of the
    /// compared range, from 1); digests are the first 8 bytes, in hex.
    DigestDiffers {
        topic: String,
        partition: i32,
        source_digest: String,
        target_digest: String,
        first: u64,
        last: u64,
    },
    /// `data parity`: source offsets below `below` are gone from the source and were not
    /// compared.
    NotCompared {
        topic: String,
        partition: i32,
        below: i64,
    },
    /// `schema ids`: records of a target partition whose key or value (`field`) is framed
    /// with a schema id the target's registry does not hold: the first one's offset on the
    /// target, how many, and whether the source's registry holds the id.
    SchemaIdMissing {
        topic: String,
        partition: i32,
        target_offset: i64,
        field: &'static str,
        id: i32,
        records: u64,
        in_source: bool,
    },
    /// `schema ids`: the target's registry holds another schema under the id than the
    /// source's; `fields` says what differs ("schema", "schemaType", "references").
    SchemaDiffers {
        id: i32,
        subject: String,
        fields: Vec<&'static str>,
    },
    /// `schema ids`: the registry topic is migrated, and an id of the source's registry is not
    /// in the target's.
    SchemaMissing { id: i32, subject: String },
    /// `schema ids`: the migration does not move the registry topic, while records reference
    /// `ids` schema ids (a failure when the target's registry lacks one or holds another
    /// schema under one).
    RegistryNotMigrated { topic: String, ids: usize },
    /// `schema ids`: records of a registry topic not in the registry's format, skipped as the
    /// registries skip them.
    RegistryUnreadable {
        side: &'static str,
        topic: String,
        records: usize,
        first_offset: i64,
    },
    /// `schema ids`: records read whose key or value references the id, and its subject.
    SchemaIdRecords {
        id: i32,
        subject: Option<String>,
        records: u64,
    },
    /// `schema ids`: a topic's keys or values start like framed ones, but none references an
    /// id of the source's registry: not registry data, not checked.
    NotRegistryFramed {
        topic: String,
        field: &'static str,
        records: u64,
    },
    /// `schema ids`: the records read, their keys and values framed with a schema id, and
    /// those with neither framed.
    SchemaScan {
        records: u64,
        framed_keys: u64,
        framed_values: u64,
        unframed: u64,
    },
}
