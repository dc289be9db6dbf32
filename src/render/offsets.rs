//! `offsets translate`: the target offsets as text, as JSON, or in the form the positions
//! came in (Spark offsets JSON, CSV); and the offset map `export offset-map` writes.

use std::fmt::Write;

use crate::config::positions::{spark_json, Form, SourcePosition};
use crate::ops::offsets::{Method, OffsetsReport, Status, Translated};
use crate::quote;
use crate::state::cutover::utc;
use crate::state::offset_map::{MapFile, FORMAT_VERSION};

use super::Paint;

/// The format of `offsets translate --json`.
pub const OFFSETS_FORMAT_VERSION: &str = "1.0";

/// How the offsets were translated, one line.
pub fn offsets_method_line(report: &OffsetsReport) -> String {
    match &report.method {
        Method::Walked => format!(
            "Translated {} position(s) of migration \"{}\" by walking both clusters' logs.",
            report.offsets.len(),
            report.migration
        ),
        Method::RecordedMap { at_ms, current, why } => format!(
            "Translated {} position(s) of migration \"{}\" with the offset map recorded at {}{} ({}).",
            report.offsets.len(),
            report.migration,
            utc(*at_ms),
            if *current {
                ""
            } else {
                ", before replication went on: positions past it are pending"
            },
            quote::terminal(why)
        ),
        Method::MapFile { path, at_ms } => format!(
            "Translated {} position(s) of migration \"{}\" with the offset map in {} (taken at {}).",
            report.offsets.len(),
            report.migration,
            quote::terminal(path),
            utc(*at_ms)
        ),
    }
}

/// The report as text: how, then a line per position.
pub fn offsets_text(report: &OffsetsReport, paint: Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", offsets_method_line(report));
    for t in &report.offsets {
        let _ = writeln!(out, "  {}", position_line(t, paint));
    }
    out
}

/// `orders partition 0: 42 → 57`, or why there is no target offset.
fn position_line(t: &Translated, paint: Paint) -> String {
    let at = format!(
        "{} partition {}: {}",
        quote::terminal(&t.topic),
        t.partition,
        t.source_offset
    );
    match (t.status, t.target_offset) {
        (Status::Exact, Some(target)) => format!("{at} → {}", paint.bold(&target.to_string())),
        (Status::Symbolic, Some(_)) => format!(
            "{at} → {} (Spark's {}: the same on the target)",
            t.source_offset,
            if t.source_offset == -2 {
                "earliest"
            } else {
                "latest"
            }
        ),
        (status, _) => format!(
            "{at} → {} {}",
            paint.blocker(match status {
                Status::Pending => "pending:",
                _ => "unknown:",
            }),
            t.reason.as_deref().unwrap_or_default()
        ),
    }
}

/// The positions that have no target offset, a line each (for standard error when the
/// target offsets are printed in a form that has no place for them).
pub fn offsets_not_translated(report: &OffsetsReport) -> Vec<String> {
    report
        .offsets
        .iter()
        .filter(|t| t.target_offset.is_none())
        .map(|t| position_line(t, Paint::plain()))
        .collect()
}

/// The target positions in `form`: those with a target offset.
pub fn offsets_in_form(report: &OffsetsReport, form: Form) -> String {
    let targets: Vec<SourcePosition> = report
        .offsets
        .iter()
        .filter_map(Translated::target)
        .collect();
    match form {
        Form::Spark => format!("{}\n", spark_json(&targets)),
        Form::Csv => {
            let mut out = String::from("topic,partition,offset\n");
            for p in targets {
                let _ = writeln!(out, "{},{},{}", p.topic, p.partition, p.offset);
            }
            out
        }
    }
}

/// The report as JSON (with `format_version`).
pub fn offsets_json(report: &OffsetsReport) -> String {
    super::json::versioned(OFFSETS_FORMAT_VERSION, report)
}

/// The offset map as `export offset-map` writes it (with `format_version`).
pub fn offset_map_json(file: &MapFile) -> String {
    super::json::versioned(FORMAT_VERSION, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> OffsetsReport {
        let t =
            |partition, source_offset, status, target_offset, reason: Option<&str>| Translated {
                topic: "orders".into(),
                partition,
                source_offset,
                status,
                target_offset,
                reason: reason.map(str::to_string),
            };
        OffsetsReport {
            migration: "m".into(),
            method: Method::RecordedMap {
                at_ms: 0,
                current: true,
                why: "the source cannot be reached: refused".into(),
            },
            offsets: vec![
                t(0, 42, Status::Exact, Some(57), None),
                t(1, -2, Status::Symbolic, Some(-2), None),
                t(
                    2,
                    9,
                    Status::Pending,
                    None,
                    Some("past what was replicated"),
                ),
            ],
        }
    }

    #[test]
    fn the_text_says_how_and_each_position() {
        assert_eq!(
            offsets_text(&report(), Paint::plain()),
            "Translated 3 position(s) of migration \"m\" with the offset map recorded at 1970-01-01 00:00:00Z (the source cannot be reached: refused).\n  orders partition 0: 42 → 57\n  orders partition 1: -2 → -2 (Spark's earliest: the same on the target)\n  orders partition 2: 9 → pending: past what was replicated\n"
        );
        assert_eq!(
            offsets_not_translated(&report()),
            ["orders partition 2: 9 → pending: past what was replicated"]
        );
    }

    #[test]
    fn target_offsets_print_back_in_the_form_they_came_in() {
        assert_eq!(
            offsets_in_form(&report(), Form::Spark),
            "{\"orders\":{\"0\":57,\"1\":-2}}\n"
        );
        assert_eq!(
            offsets_in_form(&report(), Form::Csv),
            "topic,partition,offset\norders,0,57\norders,1,-2\n"
        );
        let json: serde_json::Value = serde_json::from_str(&offsets_json(&report())).unwrap();
        assert_eq!(json["format_version"], OFFSETS_FORMAT_VERSION);
        assert_eq!(json["method"]["kind"], "recorded_map");
        assert_eq!(json["offsets"][0]["target_offset"], 57);
        assert!(json["offsets"][2].get("target_offset").is_none());
    }
}
