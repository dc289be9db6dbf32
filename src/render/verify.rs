//! The verify report: a table of checks with their evidence, then the verdict line; the typed
//! findings worded as evidence lines.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use crate::verify::{Check, CheckStatus, Fact, Report};

use super::Paint;

/// Evidence lines shown per check in text; `--json` has them all.
const EVIDENCE_SHOWN: usize = 10;

/// The report as pretty JSON, with `format_version`.
pub fn verify_json(report: &Report) -> String {
    super::json::versioned(super::json::VERIFY_FORMAT_VERSION, &worded(report))
}

/// The report with each check's `evidence` holding every line: its findings worded, then the
/// lines it gave as text.
pub(super) fn worded(report: &Report) -> Report {
    let mut report = report.clone();
    for check in &mut report.checks {
        check.evidence = evidence_lines(check);
    }
    report
}

/// A check's evidence as lines: its findings worded, then the lines it gave as text.
pub fn evidence_lines(check: &Check) -> Vec<String> {
    check
        .findings
        .iter()
        .map(|f| fact_line(&f.fact))
        .chain(check.evidence.iter().cloned())
        .collect()
}

/// One finding as a line of evidence.
pub fn fact_line(fact: &Fact) -> String {
    match fact {
        Fact::NotStarted { migration } => format!(
            "replication has not started: no progress of migration \"{migration}\" on the target"
        ),
        Fact::Behind {
            topic,
            partition,
            lag,
            source_end,
            replicated_to,
        } => format!(
            "{topic} partition {partition}: {lag} record offset(s) behind (source last stable offset {source_end}, replicated to {})",
            replicated_to.map_or("nothing yet".to_string(), |o| o.to_string())
        ),
        Fact::EndMoved {
            topic,
            partition,
            before,
            after,
        } => format!(
            "{topic} partition {partition}: end offset {before} → {after} (+{})",
            after - before
        ),
        Fact::GroupOffsetWrong {
            group,
            topic,
            partition,
            source_offset,
            translated,
            committed,
        } => format!(
            "group \"{}\" {topic} partition {partition}: {}, {translated} is the exact translation of source offset {source_offset}", crate::quote::terminal(group),
            committed.map_or("nothing committed on the target".to_string(), |c| format!(
                "committed {c} on the target"
            ))
        ),
        Fact::GroupOffsetPending {
            group,
            topic,
            partition,
            source_offset,
        } => format!(
            "group \"{}\" {topic} partition {partition}: source offset {source_offset} is not replicated yet", crate::quote::terminal(group)
        ),
        Fact::GroupActiveOnSource { group, members } => format!(
            "group \"{}\" still has {members} member(s) on the source: its offsets move until they stop", crate::quote::terminal(group)
        ),
        Fact::GroupActiveOnBoth {
            group,
            members_on_source,
            members_on_target,
        } => format!(
            "group \"{}\" has members on both clusters ({members_on_source} on the source, {members_on_target} on the target)", crate::quote::terminal(group)
        ),
        Fact::GroupCutOver { group, why } => format!("group \"{}\" has cut over: {why}", crate::quote::terminal(group)),
        Fact::GroupOnTarget {
            group,
            members_on_target,
        } => format!(
            "group \"{}\" has cut over: {members_on_target} member(s) on the target only", crate::quote::terminal(group)
        ),
        Fact::RecordDiffers {
            topic,
            partition,
            record,
            fields,
            source_offset,
            target_offset,
        } => format!(
            "{topic} partition {partition}: record #{record} of the range differs in {} (source offset {source_offset}, target offset {target_offset})",
            fields.join(", ")
        ),
        Fact::CountDiffers {
            topic,
            partition,
            source_records,
            target_records,
            source_from,
            source_to,
            target_from,
            target_to,
            source_unmatched,
            target_unmatched,
        } => {
            let offset = |o: &Option<i64>| o.map_or("none".to_string(), |o| o.to_string());
            format!(
                "{topic} partition {partition}: {source_records} record(s) on the source, {target_records} on the target in the compared range (source offsets {source_from}..{source_to}, target offsets {target_from}..{target_to}); first unmatched: source offset {}, target offset {}",
                offset(source_unmatched),
                offset(target_unmatched)
            )
        }
        Fact::DigestDiffers {
            topic,
            partition,
            source_digest,
            target_digest,
            first,
            last,
        } => format!(
            "{topic} partition {partition}: digests differ (source {source_digest}, target {target_digest}) in records {first}..{last} of the range"
        ),
        Fact::NotCompared {
            topic,
            partition,
            below,
        } => format!(
            "{topic} partition {partition}: offsets below {below} are no longer on the source and were not compared"
        ),
        Fact::SchemaIdMissing {
            topic,
            partition,
            target_offset,
            field,
            id,
            records,
            in_source,
        } => format!(
            "{topic} partition {partition} target offset {target_offset}: the {field} references schema id {id}, which the target's registry does not hold ({}); {records} record(s) of the partition reference it",
            if *in_source {
                "the source's does"
            } else {
                "nor does the source's"
            }
        ),
        Fact::SchemaDiffers {
            id,
            subject,
            fields,
        } => format!(
            "schema id {id} (subject \"{}\"): the target's registry holds another schema under it (differing: {})",
            crate::quote::terminal(subject),
            fields.join(", ")
        ),
        Fact::SchemaMissing { id, subject } => format!(
            "schema id {id} (subject \"{}\") is in the source's registry, not in the target's",
            crate::quote::terminal(subject)
        ),
        Fact::RegistryNotMigrated { topic, ids } => format!(
            "the registry topic \"{topic}\" is not migrated (not selected by `topics`), and records reference {ids} schema id(s): migrate it, or register the schemas on the target under the same ids"
        ),
        Fact::RegistryUnreadable {
            side,
            topic,
            records,
            first_offset,
        } => format!(
            "{side}: {records} record(s) of \"{topic}\" are not in the registry's format and were skipped (the first at offset {first_offset})"
        ),
        Fact::SchemaIdRecords {
            id,
            subject,
            records,
        } => match subject {
            Some(subject) => format!(
                "schema id {id} (subject \"{}\"): {records} record(s)",
                crate::quote::terminal(subject)
            ),
            None => format!("schema id {id}: {records} record(s)"),
        },
        Fact::NotRegistryFramed {
            topic,
            field,
            records,
        } => format!(
            "{topic}: {records} {field}(s) start like framed ones, but none references a schema of the source's registry: not registry data, not checked"
        ),
        Fact::SchemaScan {
            records,
            framed_keys,
            framed_values,
            unframed,
        } => format!(
            "{records} record(s) read on the target: {framed_keys} key(s) and {framed_values} value(s) framed with a schema id, {unframed} record(s) with neither (skipped)"
        ),
    }
}

/// The report as a table and a verdict line.
pub fn verify_text(report: &Report, paint: Paint) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(["check", "result", "evidence"]);
    for check in &report.checks {
        let lines = evidence_lines(check);
        let mut evidence = check.summary.clone();
        for line in lines.iter().take(EVIDENCE_SHOWN) {
            let _ = write!(evidence, "\n• {line}");
        }
        if lines.len() > EVIDENCE_SHOWN {
            let _ = write!(
                evidence,
                "\n… and {} more (see --json)",
                lines.len() - EVIDENCE_SHOWN
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
    let failed = failed(report);
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
    format!("NOT READY ({})", failed(report).join(", "))
}

/// The names of the checks that failed.
fn failed(report: &Report) -> Vec<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.name)
        .collect()
}
