//! The offset map: where every replicated source record of a partition landed on the target,
//! kept compact so that source offsets held outside Kafka (a stream processor's checkpoint, a
//! sink's database) can still be translated once the source is gone.
//!
//! Per partition the map holds the *alignments* replication recorded (its index entries, in
//! order, and last the position it reached: the map's end) and the *runs*: maximal stretches
//! where consecutive source offsets landed on consecutive target offsets — source `s..s+n` on
//! target `t..t+n`. Whatever breaks "offset + constant" (compaction gaps, aborted
//! transactions, transaction markers on the target) starts a new run, so a partition written
//! in transactions has about one run per transaction, not one per record.
//!
//! [`PartitionMap::translate`] answers exactly as the walk of both logs does
//! (`crate::groups::Translator`): a source offset lands on the first replicated record at or
//! above it, an offset at an alignment on that alignment's target offset, one at the end on
//! the end's, one past the end is pending.
//!
//! In the progress topic a partition's map is split into chunk records (at most
//! [`CHUNK_ENTRIES`] alignments and runs each, well under a record's size limit), all stamped
//! with the time the map was taken; a map counts only when every chunk of that time is there.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::progress::{Position, ProgressKey};

/// Alignments and runs per chunk record: about 35 bytes each as JSON, so a chunk stays near
/// 300 KiB, under the 1 MiB a record may have by default.
pub const CHUNK_ENTRIES: usize = 8_192;

/// Where a source offset lands on the target, as the map tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    Exact(i64),
    /// Past what was replicated when the map was taken.
    Pending,
}

/// One partition's map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartitionMap {
    pub topic: String,
    pub partition: i32,
    /// `[source offset, target offset]` where both logs lined up, by source offset; the last
    /// is the end: every source record below its source offset is on the target below its
    /// target offset.
    pub alignments: Vec<(i64, i64)>,
    /// `[source offset, target offset, records]`: source offsets `s..s+n` landed on target
    /// offsets `t..t+n`; by source offset.
    pub runs: Vec<(i64, i64, i64)>,
}

impl PartitionMap {
    /// Where replication stood when the map was taken.
    pub fn end(&self) -> Option<Position> {
        self.alignments.last().map(|&(s, t)| Position {
            next_source: s,
            next_target: t,
        })
    }

    /// The records the map covers.
    pub fn records(&self) -> i64 {
        self.runs.iter().map(|r| r.2).sum()
    }

    /// Where source offset `s` lands on the target (see the module doc).
    pub fn translate(&self, s: i64) -> Mapped {
        let Some(end) = self.end() else {
            return Mapped::Pending;
        };
        if s > end.next_source {
            return Mapped::Pending;
        }
        // The nearest alignment at or below `s`, else the first.
        let at = self.alignments.partition_point(|a| a.0 <= s);
        let anchor = self.alignments[at.saturating_sub(1)];
        if s <= anchor.0 {
            return Mapped::Exact(anchor.1);
        }
        // The first run holding a source offset at or above `s`.
        let run = self.runs.partition_point(|r| r.0 + r.2 <= s);
        Mapped::Exact(match self.runs.get(run) {
            Some(&(source, target, _)) if source >= s => target,
            Some(&(source, target, _)) => target + (s - source),
            None => end.next_target,
        })
    }
}

/// Builds a partition's runs from the pairs (source offset, target offset) of its replicated
/// records, handed over in order, stretch by stretch.
#[derive(Debug, Default)]
pub struct Runs {
    runs: Vec<(i64, i64, i64)>,
}

impl Runs {
    /// The next replicated records: `source[k]` landed on `target[k]`.
    pub fn push(&mut self, source: &[i64], target: &[i64]) {
        for (&s, &t) in source.iter().zip(target) {
            match self.runs.last_mut() {
                Some(run) if run.0 + run.2 == s && run.1 + run.2 == t => run.2 += 1,
                _ => self.runs.push((s, t, 1)),
            }
        }
    }

    pub fn into_runs(self) -> Vec<(i64, i64, i64)> {
        self.runs
    }
}

/// The map of every partition it was taken of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OffsetMap {
    /// When the map was taken, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub partitions: Vec<PartitionMap>,
}

impl OffsetMap {
    pub fn get(&self, topic: &str, partition: i32) -> Option<&PartitionMap> {
        self.partitions
            .iter()
            .find(|p| p.topic == topic && p.partition == partition)
    }

    /// Whether the map ends where replication stands now (`heads`: each partition's
    /// position): nothing was replicated since it was taken.
    pub fn current(&self, heads: &BTreeMap<(String, i32), Position>) -> bool {
        heads.len() == self.partitions.len()
            && self
                .partitions
                .iter()
                .all(|p| p.end().as_ref() == heads.get(&(p.topic.clone(), p.partition)))
    }

    /// The progress records that keep the map: per partition, its chunks.
    pub fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut records = Vec::new();
        for p in &self.partitions {
            let alignments: Vec<_> = p.alignments.chunks(CHUNK_ENTRIES).collect();
            let runs: Vec<_> = p.runs.chunks(CHUNK_ENTRIES).collect();
            let chunks = alignments.len().max(runs.len()).max(1);
            for chunk in 0..chunks {
                let value = Chunk {
                    at_ms: self.at_ms,
                    chunks: chunks as u32,
                    alignments: alignments.get(chunk).map_or(Vec::new(), |a| a.to_vec()),
                    runs: runs.get(chunk).map_or(Vec::new(), |r| r.to_vec()),
                };
                let key = ProgressKey::OffsetMap {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    chunk: chunk as u32,
                };
                records.push((key.encode(), serde_json::to_vec(&value).unwrap_or_default()));
            }
        }
        records
    }
}

/// The format of an exported offset map (`export offset-map`), which `offsets translate
/// --map` reads back: a major version it does not know is refused.
pub const FORMAT_VERSION: &str = "1.0";

/// An exported offset map: the migration's and its map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MapFile {
    /// The migration whose map this is.
    pub migration: String,
    #[serde(flatten)]
    pub map: OffsetMap,
}

impl MapFile {
    /// Reads an exported map (with its `format_version`).
    pub fn parse(text: &str) -> Result<MapFile, String> {
        #[derive(Deserialize)]
        struct Versioned {
            format_version: String,
            #[serde(flatten)]
            file: MapFile,
        }
        let read: Versioned =
            serde_json::from_str(text).map_err(|e| format!("not an offset map: {e}"))?;
        let major = |v: &str| v.split('.').next().map(str::to_string);
        if major(&read.format_version) != major(FORMAT_VERSION) {
            return Err(format!(
                "an offset map of format version {}, this version reads {}.x",
                crate::quote::terminal(&read.format_version),
                major(FORMAT_VERSION).unwrap_or_default()
            ));
        }
        Ok(read.file)
    }
}

/// One chunk record of a partition's map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    pub at_ms: i64,
    /// How many chunks the partition's map has.
    pub chunks: u32,
    #[serde(default)]
    pub alignments: Vec<(i64, i64)>,
    #[serde(default)]
    pub runs: Vec<(i64, i64, i64)>,
}

/// The chunks read from the progress topic, by partition and chunk number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunks {
    chunks: BTreeMap<(String, i32), BTreeMap<u32, Chunk>>,
}

impl Chunks {
    /// Folds one chunk record in (`None`: a tombstone).
    pub fn fold(&mut self, topic: &str, partition: i32, chunk: u32, value: Option<&[u8]>) {
        let key = (topic.to_string(), partition);
        match value.and_then(|v| serde_json::from_slice::<Chunk>(v).ok()) {
            Some(c) => {
                self.chunks.entry(key).or_default().insert(chunk, c);
            }
            None => {
                if let Some(p) = self.chunks.get_mut(&key) {
                    p.remove(&chunk);
                }
            }
        }
    }

    /// The latest map: the partitions whose every chunk of the latest time is there.
    pub fn map(&self) -> Option<OffsetMap> {
        let at_ms = self
            .chunks
            .values()
            .filter_map(|c| c.get(&0))
            .map(|c| c.at_ms)
            .max()?;
        let partitions = self
            .chunks
            .iter()
            .filter_map(|((topic, partition), chunks)| {
                let count = chunks.get(&0).filter(|c| c.at_ms == at_ms)?.chunks;
                let mut map = PartitionMap {
                    topic: topic.clone(),
                    partition: *partition,
                    alignments: Vec::new(),
                    runs: Vec::new(),
                };
                for n in 0..count {
                    let c = chunks.get(&n).filter(|c| c.at_ms == at_ms)?;
                    map.alignments.extend(&c.alignments);
                    map.runs.extend(&c.runs);
                }
                Some(map)
            })
            .collect();
        Some(OffsetMap { at_ms, partitions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source records 0..10 and 12, 13 (10 and 11 aborted) and 20 (14..20 compacted away)
    /// replicated in two transactions: 0..5 on 0..5 (marker at 5), 5..10 on 6..11, 12 and 13
    /// on 11, 12 (marker at 13), 20 on 14; the end at (21, 16) after the last marker. An
    /// index entry at (5, 6).
    fn map() -> PartitionMap {
        let mut runs = Runs::default();
        runs.push(&[0, 1, 2, 3, 4], &[0, 1, 2, 3, 4]);
        runs.push(&[5, 6, 7, 8, 9, 12, 13], &[6, 7, 8, 9, 10, 11, 12]);
        runs.push(&[20], &[14]);
        PartitionMap {
            topic: "orders".into(),
            partition: 0,
            alignments: vec![(0, 0), (5, 5), (21, 16)],
            runs: runs.into_runs(),
        }
    }

    #[test]
    fn consecutive_records_on_consecutive_offsets_make_one_run() {
        let m = map();
        assert_eq!(m.runs, vec![(0, 0, 5), (5, 6, 5), (12, 11, 2), (20, 14, 1)]);
        assert_eq!(m.records(), 13);
        assert_eq!(
            m.end(),
            Some(Position {
                next_source: 21,
                next_target: 16
            })
        );
    }

    #[test]
    fn an_offset_lands_on_the_first_replicated_record_at_or_above_it() {
        let m = map();
        let t = |s| m.translate(s);
        assert_eq!(t(0), Mapped::Exact(0));
        assert_eq!(t(3), Mapped::Exact(3));
        // At an alignment: its target offset (the marker), as the walk answers.
        assert_eq!(t(5), Mapped::Exact(5));
        assert_eq!(t(6), Mapped::Exact(7));
        assert_eq!(t(9), Mapped::Exact(10));
        // Inside the aborted transaction: the next committed record.
        assert_eq!(t(10), Mapped::Exact(11));
        assert_eq!(t(11), Mapped::Exact(11));
        assert_eq!(t(13), Mapped::Exact(12));
        // Inside the compaction gap: the record after it.
        assert_eq!(t(14), Mapped::Exact(14));
        assert_eq!(t(20), Mapped::Exact(14));
        // At the end, and past it.
        assert_eq!(t(21), Mapped::Exact(16));
        assert_eq!(t(22), Mapped::Pending);
        // Below the first alignment: where replication started.
        let mut later = map();
        later.alignments[0] = (2, 2);
        assert_eq!(later.translate(0), Mapped::Exact(2));
        let empty = PartitionMap {
            alignments: Vec::new(),
            runs: Vec::new(),
            ..map()
        };
        assert_eq!(empty.translate(0), Mapped::Pending);
    }

    #[test]
    fn a_map_round_trips_through_chunk_records() {
        let mut big = map();
        big.partition = 1;
        // More runs than a chunk holds: every other source offset.
        let mut runs = Runs::default();
        for i in 0..(CHUNK_ENTRIES as i64 * 2 + 5) {
            runs.push(&[i * 2], &[i]);
        }
        big.runs = runs.into_runs();
        let map = OffsetMap {
            at_ms: 7,
            partitions: vec![map(), big.clone()],
        };
        let records = map.records();
        assert_eq!(records.len(), 1 + 3);
        assert!(records.iter().all(|(_, v)| v.len() < 1 << 20));
        let mut chunks = Chunks::default();
        let fold = |chunks: &mut Chunks, records: &[(Vec<u8>, Vec<u8>)]| {
            for (key, value) in records {
                let Some(ProgressKey::OffsetMap {
                    topic,
                    partition,
                    chunk,
                }) = ProgressKey::decode(key)
                else {
                    panic!("not a map record");
                };
                chunks.fold(&topic, partition, chunk, Some(value));
            }
        };
        fold(&mut chunks, &records);
        assert_eq!(chunks.map(), Some(map.clone()));
        // A later map replaces it; a partition whose chunks are not all there is left out.
        let later = OffsetMap {
            at_ms: 9,
            partitions: vec![big],
        };
        let records = later.records();
        fold(&mut chunks, &records[..2]);
        assert_eq!(chunks.map().unwrap().partitions, Vec::new());
        fold(&mut chunks, &records[2..]);
        assert_eq!(chunks.map(), Some(later.clone()));
        let heads = BTreeMap::from([(
            ("orders".to_string(), 1),
            later.partitions[0].end().unwrap(),
        )]);
        assert!(later.current(&heads));
        assert!(!map.current(&heads));
    }

    #[test]
    fn an_exported_map_reads_back_unless_its_major_version_differs() {
        let file = MapFile {
            migration: "orders".into(),
            map: OffsetMap {
                at_ms: 5,
                partitions: vec![map()],
            },
        };
        let mut json = serde_json::to_value(&file).unwrap();
        json["format_version"] = FORMAT_VERSION.into();
        assert_eq!(MapFile::parse(&json.to_string()), Ok(file));
        json["format_version"] = "1.7".into();
        assert!(MapFile::parse(&json.to_string()).is_ok());
        json["format_version"] = "2.0".into();
        assert!(MapFile::parse(&json.to_string())
            .unwrap_err()
            .contains("format version 2.0"));
        assert!(MapFile::parse("{}")
            .unwrap_err()
            .starts_with("not an offset map"));
    }
}
