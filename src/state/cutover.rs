//! The cutover record in the migration's progress topic: which steps of `cutover` are done
//! (with the source's end offsets each was done at, so that a rerun knows whether the source
//! moved since), the cutover point once recorded — per partition the source's end, the
//! target's end and the time — and whether the cutover was abandoned afterwards. One record
//! under one key: the latest wins, a tombstone forgets it.

use serde::{Deserialize, Serialize};

use super::progress::ProgressKey;

/// A step of `cutover`, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CutoverStep {
    /// The verify checks that need no quiet source passed.
    Preflight,
    /// The source stood still for the quiet period, and no selected group consumed there.
    Quiet,
    /// Replicated to the source's end, and the final exact group sync committed.
    Drained,
    /// `verify` said READY.
    Verified,
}

impl CutoverStep {
    pub const ALL: [CutoverStep; 4] = [
        CutoverStep::Preflight,
        CutoverStep::Quiet,
        CutoverStep::Drained,
        CutoverStep::Verified,
    ];

    /// The step's name in `cutover`.
    pub fn label(self) -> &'static str {
        match self {
            CutoverStep::Preflight => "preflight",
            CutoverStep::Quiet => "source quiet",
            CutoverStep::Drained => "drain",
            CutoverStep::Verified => "verify",
        }
    }

    /// The step's name in `rollback`, which runs the gates in reverse.
    pub fn rollback_label(self) -> &'static str {
        match self {
            CutoverStep::Preflight => "preflight",
            CutoverStep::Quiet => "target quiet",
            CutoverStep::Drained => "drain to the source",
            CutoverStep::Verified => "verify in reverse",
        }
    }
}

/// One partition's end offset on the source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PartitionEnd {
    pub topic: String,
    pub partition: i32,
    pub end: i64,
}

/// One partition at the cutover point: every record below `source_end` on the source is on
/// the target below `target_end`; what the target holds from `target_end` on was produced
/// there after the cutover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PointPartition {
    pub topic: String,
    pub partition: i32,
    pub source_end: i64,
    pub target_end: i64,
    /// When the ends were read, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// The cutover point: where the target became the system of record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CutoverPoint {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub partitions: Vec<PointPartition>,
}

impl CutoverPoint {
    pub fn get(&self, topic: &str, partition: i32) -> Option<&PointPartition> {
        self.partitions
            .iter()
            .find(|p| p.topic == topic && p.partition == partition)
    }
}

/// The cutover record: steps done, the point, and an abandonment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutoverRecord {
    /// The migration's exact name.
    pub migration: String,
    /// Steps done, in order.
    #[serde(default)]
    pub steps: Vec<CutoverStep>,
    /// The source's end offsets when the last step was done.
    #[serde(default)]
    pub source_ends: Vec<PartitionEnd>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<CutoverPoint>,
    /// Set when the cutover was abandoned (`apply --abandon-cutover`) or rolled back: when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_at_ms: Option<i64>,
    /// A rollback's record: the point of the cutover it rolls back (its `at_ms`). A rollback
    /// record belongs to one cutover; the next cutover's rollback starts afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutover_at_ms: Option<i64>,
}

impl CutoverRecord {
    /// Whether the migration is cut over now: the point is recorded and not abandoned.
    pub fn is_cut_over(&self) -> bool {
        self.point.is_some() && self.abandoned_at_ms.is_none()
    }

    /// Whether `step` was done, and the source has not moved since (`ends` as read now).
    pub fn holds(&self, step: CutoverStep, ends: &[PartitionEnd]) -> bool {
        self.abandoned_at_ms.is_none()
            && self.steps.contains(&step)
            && (step == CutoverStep::Preflight || self.source_ends == ends)
    }

    /// The record with `step` done at `ends`.
    pub fn with_step(&self, step: CutoverStep, ends: &[PartitionEnd]) -> CutoverRecord {
        let mut next = self.clone();
        next.steps.retain(|s| *s < step);
        next.steps.push(step);
        next.source_ends = ends.to_vec();
        next
    }

    /// Key and value bytes of the record as the cutover's.
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        self.encode_as(&ProgressKey::Cutover)
    }

    /// Key and value bytes of the record under `key` (the cutover's or the rollback's).
    pub fn encode_as(&self, key: &ProgressKey) -> (Vec<u8>, Vec<u8>) {
        (key.encode(), serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A time in milliseconds since the Unix epoch as UTC, `2026-12-01 18:50:32Z`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::super::Progress;
    use super::*;

    fn ends(end: i64) -> Vec<PartitionEnd> {
        vec![PartitionEnd {
            topic: "orders".into(),
            partition: 0,
            end,
        }]
    }

    #[test]
    fn a_step_holds_while_the_source_stands_where_it_was_done() {
        let record = CutoverRecord::default()
            .with_step(CutoverStep::Preflight, &ends(10))
            .with_step(CutoverStep::Quiet, &ends(10))
            .with_step(CutoverStep::Drained, &ends(10));
        assert!(record.holds(CutoverStep::Drained, &ends(10)));
        assert!(!record.holds(CutoverStep::Drained, &ends(11)));
        // Preflight does not depend on the source standing still.
        assert!(record.holds(CutoverStep::Preflight, &ends(11)));
        assert!(!record.holds(CutoverStep::Verified, &ends(10)));
        // Doing a step again drops the later ones.
        let again = record.with_step(CutoverStep::Quiet, &ends(11));
        assert_eq!(again.steps, [CutoverStep::Preflight, CutoverStep::Quiet]);
        assert!(!again.is_cut_over());
    }

    #[test]
    fn the_record_folds_into_progress_and_an_abandonment_ends_the_cutover() {
        let mut record = CutoverRecord {
            migration: "orders".into(),
            point: Some(CutoverPoint {
                at_ms: 5,
                partitions: vec![PointPartition {
                    topic: "orders".into(),
                    partition: 0,
                    source_end: 10,
                    target_end: 12,
                    at_ms: 5,
                }],
            }),
            ..CutoverRecord::default()
        };
        let mut progress = Progress::default();
        let (key, value) = record.encode();
        progress.fold(0, Some(&key), Some(&value));
        let read = progress.cutover.clone().unwrap();
        assert!(read.is_cut_over());
        assert_eq!(read.point.unwrap().get("orders", 0).unwrap().target_end, 12);
        record.abandoned_at_ms = Some(9);
        let (key, value) = record.encode();
        progress.fold(1, Some(&key), Some(&value));
        assert!(!progress.cutover.as_ref().unwrap().is_cut_over());
        progress.fold(2, Some(&key), None);
        assert!(progress.cutover.is_none());
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(utc(1_795_978_232_000), "2026-11-29 18:50:32Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00Z");
    }
}
