//! Data parity: the replicated range of each partition holds, on the target, the same records
//! in the same order as on the source. Both clusters are read (read_committed, by assignment)
//! from alignments the engine recorded in its progress; every record's key, value, headers and
//! timestamp feed an order-sensitive 128-bit XXH3 digest, kept per chunk of records so that a
//! difference is located and described record by record. The digest detects differences, not
//! tampering: both clusters belong to the operator, and a non-cryptographic hash keeps the
//! check as fast as reading.
//!
//! `full` compares everything from the first alignment both clusters still hold up to the
//! replicated position; `sample` compares the tail (from the latest alignment) and a few
//! bounded windows starting at random alignments.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use xxhash_rust::xxh3::Xxh3;

use crate::cluster::factory;
use crate::cluster::inventory::Inventory;
use crate::config::DataCheck;
use crate::state::{Position, Progress, Range, RangeReader, ReadError};

use super::{Check, Fact, Findings};

pub const NAME: &str = "data parity";

/// Records per chunk digest.
const CHUNK: u64 = 1024;
/// Random windows per partition in `sample` mode (besides the tail).
const SAMPLE_WINDOWS: usize = 2;
/// Records per random window.
const SAMPLE_RECORDS: u64 = 1_000;
/// How long a read may go without a record or reaching its end.
const STALL: Duration = Duration::from_secs(60);

/// Records `[from, to)` of one partition, at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRange {
    pub topic: String,
    pub partition: i32,
    pub from: i64,
    pub to: i64,
    pub limit: Option<u64>,
    /// Whether timestamps count (not when the target topic stamps its own append time).
    pub timestamps: bool,
}

/// A source range and the target range that must hold the same records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub source: DigestRange,
    pub target: DigestRange,
    /// Source offsets below `source.from` that are gone from the source and not compared.
    pub truncated_below: Option<i64>,
}

/// The digest of one range as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionDigest {
    pub records: u64,
    pub bytes: u64,
    /// Digest over the chunk digests.
    pub digest: [u8; 16],
    /// Per chunk of [`CHUNK`] records: first offset and digest.
    pub chunks: Vec<(i64, [u8; 16])>,
}

#[derive(Debug, thiserror::Error)]
pub enum ParityError {
    #[error("creating a {side} reader failed: {source}")]
    Client {
        side: &'static str,
        #[source]
        source: KafkaError,
    },
    #[error(transparent)]
    Read(Box<ReadError>),
}

impl From<ReadError> for ParityError {
    fn from(e: ReadError) -> ParityError {
        ParityError::Read(Box::new(e))
    }
}

/// A seed for the sample windows.
pub fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The windows to compare, in rounds: every round holds at most one window per partition.
/// `target` is told in the source's names; each target window is read under the name
/// `rename` gives its topic there.
pub fn ranges(
    mode: DataCheck,
    source: &Inventory,
    target: &Inventory,
    rename: &crate::config::Rename,
    progress: &Progress,
    seed: u64,
) -> Vec<Vec<Window>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rounds: Vec<Vec<Window>> = Vec::new();
    for (name, topic) in &source.topics {
        let Some(there) = target.topics.get(name) else {
            continue;
        };
        let timestamps = there.config_value("message.timestamp.type") != Some("LogAppendTime");
        let target_name = rename.target(name).into_owned();
        for (partition, part) in &topic.partitions {
            let (Some(p), Some(target_part)) = (
                progress.get(name, *partition),
                there.partitions.get(partition),
            ) else {
                continue;
            };
            let Some(head) = p.position else { continue };
            // Alignments both clusters still hold, oldest first.
            let mut alignments: Vec<Position> = p
                .index
                .iter()
                .copied()
                .filter(|a| {
                    a.next_source >= part.log_start
                        && a.next_target >= target_part.log_start
                        && a.next_source < head.next_source
                })
                .collect();
            alignments.dedup_by_key(|a| a.next_source);
            let Some(first) = alignments.first().copied() else {
                continue;
            };
            let truncated_below = p
                .index
                .first()
                .filter(|a| a.next_source < first.next_source)
                .map(|_| first.next_source);
            let window = |from: Position, limit: Option<u64>| Window {
                source: DigestRange {
                    topic: name.clone(),
                    partition: *partition,
                    from: from.next_source,
                    to: head.next_source,
                    limit,
                    timestamps,
                },
                target: DigestRange {
                    topic: target_name.clone(),
                    partition: *partition,
                    from: from.next_target,
                    to: head.next_target,
                    limit,
                    timestamps,
                },
                truncated_below,
            };
            let windows = match mode {
                DataCheck::None => Vec::new(),
                DataCheck::Full => vec![window(first, None)],
                DataCheck::Sample => {
                    // The tail, where the newest (and any crash-recovered) records are, in
                    // full: at most one index interval plus a batch.
                    let last = alignments.pop().unwrap_or(first);
                    let mut windows = vec![window(last, None)];
                    for _ in 0..SAMPLE_WINDOWS.min(alignments.len()) {
                        let at = alignments.swap_remove(rng.usize(..alignments.len()));
                        windows.push(window(at, Some(SAMPLE_RECORDS)));
                    }
                    windows
                }
            };
            for (round, w) in windows.into_iter().enumerate() {
                if rounds.len() <= round {
                    rounds.push(Vec::new());
                }
                rounds[round].push(w);
            }
        }
    }
    rounds
}

/// What the windows of `mode` cover, in words.
pub fn coverage(mode: DataCheck, seed: u64) -> String {
    match mode {
        DataCheck::Sample => format!(
            "sampled: the tail and up to {SAMPLE_WINDOWS} windows of {SAMPLE_RECORDS} records per partition, seed {seed}"
        ),
        _ => "every replicated record".to_string(),
    }
}

/// Reads both clusters round by round (the two sides in parallel) and compares.
pub fn compare(
    source: &BTreeMap<String, String>,
    target: &BTreeMap<String, String>,
    migration: &str,
    rounds: &[Vec<Window>],
    mode: DataCheck,
    seed: u64,
) -> Result<Check, ParityError> {
    let mut f = Findings::default();
    let mut not_compared: Vec<(String, i32, i64)> = Vec::new();
    let (mut records, mut bytes, mut partitions) = (0u64, 0u64, std::collections::BTreeSet::new());
    for round in rounds {
        let source_ranges: Vec<DigestRange> = round.iter().map(|w| w.source.clone()).collect();
        let target_ranges: Vec<DigestRange> = round.iter().map(|w| w.target.clone()).collect();
        let (s, t) = std::thread::scope(|scope| {
            let s = scope.spawn(|| digest_partitions(source, migration, "source", &source_ranges));
            let t = digest_partitions(target, migration, "target", &target_ranges);
            (s.join().unwrap_or_else(|_| Ok(Vec::new())), t)
        });
        let (s, t) = (s?, t?);
        for ((w, s), t) in round.iter().zip(&s).zip(&t) {
            partitions.insert((w.source.topic.clone(), w.source.partition));
            records += s.records;
            bytes += s.bytes + t.bytes;
            if s.records == t.records && s.digest == t.digest {
                continue;
            }
            f.failures
                .push(locate(source, target, migration, w, s, t)?.into());
        }
        for w in round.iter().filter(|w| w.truncated_below.is_some()) {
            if let Some(below) = w.truncated_below {
                not_compared.push((w.source.topic.clone(), w.source.partition, below));
            }
        }
    }
    // Ordered as their lines read ("{topic} partition {partition}: …"), once each.
    not_compared
        .sort_by_key(|(topic, partition, below)| (topic.clone(), format!("{partition}:"), *below));
    not_compared.dedup();
    f.notes = not_compared
        .into_iter()
        .map(|(topic, partition, below)| {
            Fact::NotCompared {
                topic,
                partition,
                below,
            }
            .into()
        })
        .collect();
    let how = coverage(mode, seed);
    let n = partitions.len();
    Ok(f.check(
        NAME,
        format!(
            "{records} record(s) ({:.1} MiB read) identical in {n} partition(s); {how}",
            bytes as f64 / 1_048_576.0
        ),
        |d| format!("{d} of {n} partition(s) differ"),
    ))
}

/// Where two digests of one window part: the first differing record and field.
fn locate(
    source: &BTreeMap<String, String>,
    target: &BTreeMap<String, String>,
    migration: &str,
    w: &Window,
    s: &PartitionDigest,
    t: &PartitionDigest,
) -> Result<Fact, ParityError> {
    let (topic, partition) = (w.source.topic.clone(), w.source.partition);
    let chunk = s
        .chunks
        .iter()
        .zip(&t.chunks)
        .position(|(a, b)| a.1 != b.1)
        .unwrap_or(s.chunks.len().min(t.chunks.len()));
    let from =
        |d: &PartitionDigest, range: &DigestRange| d.chunks.get(chunk).map_or(range.to, |c| c.0);
    let read = |props, side, range: &DigestRange, from: i64| {
        let mut range = range.clone();
        range.from = from;
        range.limit = Some(CHUNK);
        read_records(props, migration, side, &range)
    };
    let source_records = read(source, "source", &w.source, from(s, &w.source))?;
    let target_records = read(target, "target", &w.target, from(t, &w.target))?;
    let index = chunk as u64 * CHUNK;
    for (i, pair) in source_records.iter().zip(target_records.iter()).enumerate() {
        let fields = pair.0.differences(pair.1, w.source.timestamps);
        if !fields.is_empty() {
            return Ok(Fact::RecordDiffers {
                topic,
                partition,
                record: index + i as u64 + 1,
                fields,
                source_offset: pair.0.offset,
                target_offset: pair.1.offset,
            });
        }
    }
    if s.records != t.records {
        let k = source_records.len().min(target_records.len());
        let next = |records: &[Fields]| records.get(k).map(|r| r.offset);
        return Ok(Fact::CountDiffers {
            topic,
            partition,
            source_records: s.records,
            target_records: t.records,
            source_from: w.source.from,
            source_to: w.source.to,
            target_from: w.target.from,
            target_to: w.target.to,
            source_unmatched: next(&source_records),
            target_unmatched: next(&target_records),
        });
    }
    Ok(Fact::DigestDiffers {
        topic,
        partition,
        source_digest: hex(&s.digest[..8]),
        target_digest: hex(&t.digest[..8]),
        first: index + 1,
        last: index + CHUNK,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `ranges` of one cluster (at most one per partition) and digests them.
pub fn digest_partitions(
    props: &BTreeMap<String, String>,
    migration: &str,
    side: &'static str,
    ranges: &[DigestRange],
) -> Result<Vec<PartitionDigest>, ParityError> {
    struct State {
        chunk: Xxh3,
        in_chunk: u64,
        all: Xxh3,
        out: PartitionDigest,
    }
    let mut states: Vec<State> = ranges
        .iter()
        .map(|_| State {
            chunk: Xxh3::new(),
            in_chunk: 0,
            all: Xxh3::new(),
            out: PartitionDigest::default(),
        })
        .collect();
    let close = |s: &mut State| {
        if s.in_chunk > 0 {
            let d = s.chunk.digest128().to_le_bytes();
            s.chunk.reset();
            s.all.update(&d);
            if let Some(last) = s.out.chunks.last_mut() {
                last.1 = d;
            }
            s.in_chunk = 0;
        }
    };
    read_ranges(props, migration, side, ranges, |i, m| {
        let s = &mut states[i];
        if s.in_chunk == 0 {
            s.out.chunks.push((m.offset(), [0; 16]));
        }
        s.out.bytes += feed(&mut s.chunk, m, ranges[i].timestamps);
        s.out.records += 1;
        s.in_chunk += 1;
        if s.in_chunk == CHUNK {
            close(s);
        }
    })?;
    Ok(states
        .into_iter()
        .map(|mut s| {
            close(&mut s);
            s.out.digest = s.all.digest128().to_le_bytes();
            s.out
        })
        .collect())
}

/// Feeds one record into a digest, every field length-prefixed so that no two different
/// records feed the same bytes; returns the record's size.
fn feed(hasher: &mut Xxh3, m: &BorrowedMessage<'_>, timestamps: bool) -> u64 {
    fn field(hasher: &mut Xxh3, bytes: Option<&[u8]>) {
        match bytes {
            None => hasher.update(&[0u8]),
            Some(b) => {
                hasher.update(&[1u8]);
                hasher.update(&(b.len() as u64).to_le_bytes());
                hasher.update(b);
            }
        }
    }
    field(hasher, m.key());
    field(hasher, m.payload());
    let mut size = m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len);
    match m.headers() {
        None => hasher.update(&0u64.to_le_bytes()),
        Some(headers) => {
            hasher.update(&(headers.count() as u64).to_le_bytes());
            for h in headers.iter() {
                field(hasher, Some(h.key.as_bytes()));
                field(hasher, h.value);
                size += h.key.len() + h.value.map_or(0, <[u8]>::len);
            }
        }
    }
    if timestamps {
        hasher.update(&m.timestamp().to_millis().unwrap_or(-1).to_le_bytes());
    }
    size as u64
}

/// One record's fields, kept to say how two records differ.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fields {
    offset: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp: Option<i64>,
}

impl Fields {
    fn of(m: &BorrowedMessage<'_>) -> Fields {
        Fields {
            offset: m.offset(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers: m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                        .collect()
                })
                .unwrap_or_default(),
            timestamp: m.timestamp().to_millis(),
        }
    }

    fn differences(&self, other: &Fields, timestamps: bool) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.key != other.key {
            out.push("key");
        }
        if self.value != other.value {
            out.push("value");
        }
        if self.headers != other.headers {
            out.push("headers");
        }
        if timestamps && self.timestamp != other.timestamp {
            out.push("timestamp");
        }
        out
    }
}

fn read_records(
    props: &BTreeMap<String, String>,
    migration: &str,
    side: &'static str,
    range: &DigestRange,
) -> Result<Vec<Fields>, ParityError> {
    let mut out = Vec::new();
    read_ranges(
        props,
        migration,
        side,
        std::slice::from_ref(range),
        |_, m| {
            out.push(Fields::of(m));
        },
    )?;
    Ok(out)
}

/// Reads every range (at most one per partition) with one read_committed consumer, handing
/// each record in range to `on_record` with the index of its range.
pub(super) fn read_ranges(
    props: &BTreeMap<String, String>,
    migration: &str,
    side: &'static str,
    ranges: &[DigestRange],
    on_record: impl FnMut(usize, &BorrowedMessage<'_>),
) -> Result<(), ParityError> {
    let mut config = factory::reader_config(props, migration, "verify");
    config
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "8388608")
        .set("queued.max.messages.kbytes", "65536");
    let consumer =
        factory::reader(&config).map_err(|source| ParityError::Client { side, source })?;
    let ranges: Vec<Range> = ranges
        .iter()
        .map(|r| Range {
            limit: r.limit.map_or(usize::MAX, |l| l as usize),
            ..Range::to_end(&r.topic, r.partition, r.from, r.to)
        })
        .collect();
    RangeReader::new(side, consumer, STALL).read(&ranges, on_record)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::inventory::Role;
    use crate::state::PartitionProgress;
    use crate::testing::{inventory, topic};

    fn progress(topic: &str, index: &[(i64, i64)], head: (i64, i64)) -> Progress {
        let mut p = Progress::default();
        p.partitions.insert(
            (topic.to_string(), 0),
            PartitionProgress {
                position: Some(Position {
                    next_source: head.0,
                    next_target: head.1,
                }),
                records: 0,
                bytes: 0,
                position_follows_record: true,
                index: index
                    .iter()
                    .map(|(s, t)| Position {
                        next_source: *s,
                        next_target: *t,
                    })
                    .collect(),
            },
        );
        p
    }

    fn clusters() -> (Inventory, Inventory) {
        (
            inventory(
                Role::Source,
                vec![topic("t", 1, &[], 50_000)],
                vec![],
                vec![],
            ),
            inventory(
                Role::Target,
                vec![topic("t", 1, &[], 49_000)],
                vec![],
                vec![],
            ),
        )
    }

    #[test]
    fn full_compares_from_the_first_alignment_to_the_position() {
        let (s, t) = clusters();
        let p = progress(
            "t",
            &[(0, 0), (10_000, 9_800), (20_000, 19_700)],
            (30_000, 29_600),
        );
        let rounds = ranges(DataCheck::Full, &s, &t, &Default::default(), &p, 1);
        assert_eq!(rounds.len(), 1);
        let w = &rounds[0][0];
        assert_eq!((w.source.from, w.source.to), (0, 30_000));
        assert_eq!((w.target.from, w.target.to), (0, 29_600));
        assert_eq!(w.source.limit, None);
        assert_eq!(w.truncated_below, None);
    }

    #[test]
    fn sample_takes_the_tail_in_full_and_bounded_windows_at_alignments() {
        let (s, t) = clusters();
        let index: Vec<(i64, i64)> = (0..10).map(|i| (i * 3_000, i * 2_900)).collect();
        let p = progress("t", &index, (30_000, 29_000));
        let rounds = ranges(DataCheck::Sample, &s, &t, &Default::default(), &p, 7);
        assert_eq!(rounds.len(), 1 + SAMPLE_WINDOWS);
        let tail = &rounds[0][0];
        assert_eq!((tail.source.from, tail.target.from), (27_000, 26_100));
        assert_eq!(tail.source.limit, None);
        for round in &rounds[1..] {
            let w = &round[0];
            assert_eq!(w.source.limit, Some(SAMPLE_RECORDS));
            assert!(index.contains(&(w.source.from, w.target.from)));
            assert_ne!(w.source.from, 27_000);
        }
        assert_ne!(rounds[1][0].source.from, rounds[2][0].source.from);
    }

    #[test]
    fn alignments_gone_from_either_cluster_are_skipped_and_reported() {
        let (mut s, t) = clusters();
        s.topics
            .get_mut("t")
            .unwrap()
            .partitions
            .get_mut(&0)
            .unwrap()
            .log_start = 12_000;
        let p = progress(
            "t",
            &[(0, 0), (10_000, 9_800), (20_000, 19_700)],
            (30_000, 29_600),
        );
        let rounds = ranges(DataCheck::Full, &s, &t, &Default::default(), &p, 1);
        let w = &rounds[0][0];
        assert_eq!((w.source.from, w.target.from), (20_000, 19_700));
        assert_eq!(w.truncated_below, Some(20_000));
    }

    #[test]
    fn log_append_time_targets_are_compared_without_timestamps() {
        let (s, _) = clusters();
        let t = inventory(
            Role::Target,
            vec![topic(
                "t",
                1,
                &[("message.timestamp.type", "LogAppendTime")],
                10,
            )],
            vec![],
            vec![],
        );
        let p = progress("t", &[(0, 0)], (10, 10));
        let rounds = ranges(DataCheck::Full, &s, &t, &Default::default(), &p, 1);
        assert!(!rounds[0][0].source.timestamps);
    }

    #[test]
    fn nothing_replicated_means_nothing_to_compare() {
        let (s, t) = clusters();
        assert!(ranges(
            DataCheck::Full,
            &s,
            &t,
            &Default::default(),
            &Progress::default(),
            1
        )
        .is_empty());
        let p = progress("t", &[(0, 0)], (0, 0));
        assert!(ranges(DataCheck::Sample, &s, &t, &Default::default(), &p, 1).is_empty());
    }
}
