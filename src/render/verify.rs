//! The verify report: a table of checks with their evidence, then the verdict line.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::verify::{CheckStatus, Report};

use super::Paint;

/// Evidence lines shown per check in text; `--json` has them all.
const EVIDENCE_SHOWN: usize = 10;

/// The report as pretty JSON.
pub fn verify_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The report as a table and a verdict line.
pub fn verify_text(report: &Report, paint: Paint) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(["check", "result", "evidence"]);
    for check in &report.checks {
        let mut evidence = check.summary.clone();
        for line in check.evidence.iter().take(EVIDENCE_SHOWN) {
            let _ = write!(evidence, "\n• {line}");
        }
        if check.evidence.len() > EVIDENCE_SHOWN {
            let _ = write!(
                evidence,
                "\n… and {} more (see --json)",
                check.evidence.len() - EVIDENCE_SHOWN
            );
        }
        let result = match check.status {
            CheckStatus::Pass => paint.create("PASS"),
            CheckStatus::Warn => paint.update("WARN"),
            CheckStatus::Fail => paint.blocker("FAIL"),
            CheckStatus::Skip => paint.dim("SKIP"),
        };
        table.add_row([check.name.to_string(), result, evidence]);
    }
    let mut out = format!("{table}\n");
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name)
        .collect();
    if report.ready {
        let _ = writeln!(
            out,
            "{}",
            paint.create(&format!(
                "{}: migration \"{}\"",
                report.verdict, report.migration
            ))
        );
    } else {
        let _ = writeln!(
            out,
            "{}",
            paint.blocker(&format!(
                "{}: {} check(s) failed: {}",
                report.verdict,
                failed.len(),
                failed.join(", ")
            ))
        );
    }
    if let Some(at) = report.cut_over_at_ms {
        let _ = writeln!(
            out,
            "Cut over at {}: the target is the system of record (`kafka-migrate rollback` goes back).",
            crate::state::cutover::utc(at)
        );
    }
    out
}

/// What `verify` says before it checks.
pub fn verify_start_line(migration: &crate::config::Migration) -> String {
    format!(
        "Checking both clusters; the source must stay quiet for {} (cutover.quiet_period)…",
        migration.cutover.quiet_period
    )
}

/// A report that is not ready, in a line: the checks that failed.
pub fn not_ready_line(report: &Report) -> String {
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name)
        .collect();
    format!("NOT READY ({})", failed.join(", "))
}
