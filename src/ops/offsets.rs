//! `offsets translate`: source positions kept outside Kafka (a stream processor's checkpoint,
//! an exactly-once sink's database) → the exact target offsets. While the source answers,
//! both logs are walked as the group translation walks them
//! ([`crate::groups::translate_offsets`]); when it does not, the offset map recorded at the
//! cutover (or by `export offset-map`) answers, and an exported map file answers with no
//! cluster at all. The report says which did.

use std::path::{Path, PathBuf};

use miette::miette;
use serde::Serialize;

use crate::cluster::{ClusterClient, Role};
use crate::config::files::{read_text, MAX_OFFSETS_FILE};
use crate::config::positions::{self, SourcePosition};
use crate::config::Migration;
use crate::groups::Translation;
use crate::state::offset_map::MapFile;
use crate::state::{Mapped, OffsetMap, Progress, Store};

/// What to translate, and from what.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Positions given on the command line.
    pub positions: Vec<SourcePosition>,
    /// A file of positions (Spark offsets JSON or CSV).
    pub file: Option<PathBuf>,
    /// An exported offset map to translate with, contacting no cluster.
    pub map_file: Option<PathBuf>,
    /// Translate with the recorded offset map even when the source answers.
    pub from_map: bool,
}

/// How the offsets were translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Both logs walked, read_committed, as the group translation walks them.
    Walked,
    /// The offset map recorded in the migration's state on the target.
    RecordedMap {
        /// When the map was taken, in milliseconds since the Unix epoch.
        at_ms: i64,
        /// Whether the map ends where replication stands now (nothing replicated since).
        current: bool,
        /// Why the logs were not walked: the source's error, or that the map was asked for.
        why: String,
    },
    /// An exported offset map file.
    MapFile {
        path: String,
        /// When the map was taken, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
}

/// How one position translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The exact target offset.
    Exact,
    /// Spark's -2 (earliest) or -1 (latest): the same on the target.
    Symbolic,
    /// Past what was replicated (or, from a map, what was replicated when it was taken).
    Pending,
    /// A partition the migration did not replicate (or the map does not hold).
    Unknown,
}

/// One position and where it lands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Translated {
    pub topic: String,
    pub partition: i32,
    pub source_offset: i64,
    pub status: Status,
    /// The target offset, when `status` is `exact` or `symbolic`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_offset: Option<i64>,
    /// Why there is no target offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Translated {
    /// The target position, when there is one.
    pub fn target(&self) -> Option<SourcePosition> {
        self.target_offset.map(|offset| SourcePosition {
            topic: self.topic.clone(),
            partition: self.partition,
            offset,
        })
    }
}

/// What `offsets translate` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OffsetsReport {
    pub migration: String,
    pub method: Method,
    pub offsets: Vec<Translated>,
}

impl OffsetsReport {
    /// Whether every position has a target offset.
    pub fn complete(&self) -> bool {
        self.offsets.iter().all(|t| t.target_offset.is_some())
    }
}

/// Translates the positions of `options` for `migration`.
pub async fn translate(migration: &Migration, options: &Options) -> miette::Result<OffsetsReport> {
    let mut wanted = options.positions.clone();
    if let Some(path) = &options.file {
        let text = read_text(path, MAX_OFFSETS_FILE).map_err(|e| miette!("{e}"))?;
        wanted.extend(positions::parse(&text).map_err(|e| miette!("{}: {e}", path.display()))?);
    }
    if wanted.is_empty() {
        return Err(miette!(
            help = "give --position TOPIC:PARTITION:OFFSET (repeatable) or --file FILE",
            "no positions to translate"
        ));
    }
    if let Some(path) = &options.map_file {
        let file = read_map_file(path)?;
        if file.migration != migration.name {
            return Err(miette!(
                "{} is the offset map of migration \"{}\", not of \"{}\"",
                path.display(),
                crate::quote::terminal(&file.migration),
                migration.name
            ));
        }
        let method = Method::MapFile {
            path: path.display().to_string(),
            at_ms: file.map.at_ms,
        };
        return Ok(from_map(migration, method, &file.map, &wanted));
    }
    let store = Store::of(migration);
    let progress = crate::cutover::offset_map::read(&store).await?;
    let why = if options.from_map {
        "the offset map was asked for (--from-map)".to_string()
    } else {
        match ClusterClient::of(migration, Role::Source).await {
            Ok(_) => return walked(migration, &progress, &wanted).await,
            Err(e) => format!("the source cannot be reached: {e}"),
        }
    };
    let Some(map) = progress.offset_map() else {
        return Err(miette!(
            help = "the map is recorded at cutover, or by `kafka-migrate export offset-map` while the source is reachable",
            "{why}, and migration \"{}\" has no offset map recorded on the target",
            migration.name
        ));
    };
    let method = Method::RecordedMap {
        at_ms: map.at_ms,
        current: map.current(&progress.heads()),
        why,
    };
    Ok(from_map(migration, method, &map, &wanted))
}

/// Reads an exported offset map.
pub fn read_map_file(path: &Path) -> miette::Result<MapFile> {
    let text = read_text(path, MAX_OFFSETS_FILE).map_err(|e| miette!("{e}"))?;
    MapFile::parse(&text).map_err(|e| miette!("{}: {e}", path.display()))
}

/// Translated by walking both logs.
async fn walked(
    migration: &Migration,
    progress: &Progress,
    wanted: &[SourcePosition],
) -> miette::Result<OffsetsReport> {
    let target = ClusterClient::of(migration, Role::Target).await?;
    let offsets: Vec<(String, i32, i64)> = wanted
        .iter()
        .filter(|p| !p.is_symbolic())
        .map(|p| (p.topic.clone(), p.partition, p.offset))
        .collect();
    let found = crate::groups::translate_offsets(migration, &offsets, progress, &target).await?;
    let offsets = wanted
        .iter()
        .map(|p| {
            let known = progress.get(&p.topic, p.partition).is_some();
            let found = found.get(&(p.topic.clone(), p.partition, p.offset));
            let mapped = match found {
                Some(Translation::Exact(t)) => Some(Mapped::Exact(*t)),
                Some(Translation::Pending) => Some(Mapped::Pending),
                None => None,
            };
            entry(p, known.then_some(mapped).flatten(), NOT_REPLICATED)
        })
        .collect();
    Ok(OffsetsReport {
        migration: migration.name.clone(),
        method: Method::Walked,
        offsets,
    })
}

/// Translated with `map`.
fn from_map(
    migration: &Migration,
    method: Method,
    map: &OffsetMap,
    wanted: &[SourcePosition],
) -> OffsetsReport {
    let offsets = wanted
        .iter()
        .map(|p| {
            let mapped = map
                .get(&p.topic, p.partition)
                .map(|m| m.translate(p.offset));
            entry(p, mapped, NOT_IN_MAP)
        })
        .collect();
    OffsetsReport {
        migration: migration.name.clone(),
        method,
        offsets,
    }
}

/// Why a partition has no translation, walking.
const NOT_REPLICATED: &str = "the migration has not replicated this partition";
/// Why a partition has no translation, from a map.
const NOT_IN_MAP: &str = "the offset map does not hold this partition";

/// One position's entry: `mapped` is where it landed, `None` for a partition it cannot
/// translate (`unknown`: why).
fn entry(p: &SourcePosition, mapped: Option<Mapped>, unknown: &str) -> Translated {
    let (status, target_offset, reason) = if p.is_symbolic() {
        (Status::Symbolic, Some(p.offset), None)
    } else {
        match mapped {
            Some(Mapped::Exact(t)) => (Status::Exact, Some(t), None),
            Some(Mapped::Pending) => (
                Status::Pending,
                None,
                Some(
                    "past what was replicated: records below it are not all on the target"
                        .to_string(),
                ),
            ),
            None => (Status::Unknown, None, Some(unknown.to_string())),
        }
    };
    Translated {
        topic: p.topic.clone(),
        partition: p.partition,
        source_offset: p.offset,
        status,
        target_offset,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::PartitionMap;

    #[test]
    fn a_map_translates_what_it_holds_and_says_why_not_the_rest() {
        let migration = crate::testing::migration("");
        let map = OffsetMap {
            at_ms: 3,
            partitions: vec![PartitionMap {
                topic: "orders".into(),
                partition: 0,
                alignments: vec![(0, 0), (10, 12)],
                runs: vec![(0, 0, 4), (4, 6, 6)],
            }],
        };
        let at = |topic: &str, partition, offset| SourcePosition {
            topic: topic.into(),
            partition,
            offset,
        };
        let wanted = [
            at("orders", 0, 5),
            at("orders", 0, 11),
            at("orders", 0, -1),
            at("orders", 1, 5),
        ];
        let method = Method::MapFile {
            path: "map.json".into(),
            at_ms: 3,
        };
        let report = from_map(&migration, method, &map, &wanted);
        let statuses: Vec<(Status, Option<i64>)> = report
            .offsets
            .iter()
            .map(|t| (t.status, t.target_offset))
            .collect();
        assert_eq!(
            statuses,
            [
                (Status::Exact, Some(7)),
                (Status::Pending, None),
                (Status::Symbolic, Some(-1)),
                (Status::Unknown, None),
            ]
        );
        assert_eq!(report.offsets[3].reason.as_deref(), Some(NOT_IN_MAP));
        assert!(!report.complete());
    }
}
