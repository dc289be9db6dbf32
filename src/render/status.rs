//! `status`: the lag per topic and partition, and where each consumer group stands — as
//! tables, or as JSON.

use std::fmt::Write;

use crate::apply::MigrationStatus;
use crate::plan::GroupStatus;

/// The status as JSON (with `format_version`): the replication status, with the groups and
/// the cutover beside it.
pub fn status_json(view: &MigrationStatus) -> String {
    super::json::versioned(super::json::STATUS_FORMAT_VERSION, view)
}

/// The status as tables: per topic, the partitions behind, a total, the cutover, then the
/// groups.
pub fn status_text(view: &MigrationStatus) -> String {
    let (status, groups) = (&view.status, &view.groups);
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "topic",
        "partitions",
        "records replicated",
        "records/s",
        "lag",
    ]);
    for (topic, t) in status.by_topic() {
        table.add_row([
            topic.to_string(),
            t.partitions.to_string(),
            t.records.to_string(),
            rate(t.records_per_second),
            t.lag.to_string(),
        ]);
    }
    if let Some(column) = table.column_mut(3) {
        column.set_cell_alignment(comfy_table::CellAlignment::Right);
    }
    let mut out = format!("{table}\n");
    for p in status.partitions.iter().filter(|p| p.lag > 0) {
        let _ = writeln!(
            out,
            "  {} partition {}: {} behind (source end {}, replicated to {})",
            p.topic,
            p.partition,
            p.lag,
            p.source_end,
            p.replicated_to
                .map_or("nothing".to_string(), |o| o.to_string())
        );
    }
    let _ = writeln!(
        out,
        "Migration \"{}\": {} partition(s), total lag {}, {} records/s over the last minute.",
        status.migration,
        status.partitions.len(),
        status.total_lag(),
        rate(status.records_per_second()),
    );
    match (status.running, status.last_progress_at_ms) {
        (Some(true), _) => out.push_str("An apply is replicating now.\n"),
        (Some(false), Some(at)) => {
            let _ = writeln!(
                out,
                "No apply is replicating now: the last progress was written at {}.",
                crate::state::cutover::utc(at)
            );
        }
        _ => {}
    }
    if let Some(at) = view.cut_over_at_ms {
        let _ = writeln!(
            out,
            "Cut over at {}: the target is the system of record.",
            crate::state::cutover::utc(at)
        );
    }
    if !groups.is_empty() {
        out.push_str(&groups_text(groups));
    }
    out
}

/// A rate in records per second, or `-` when unknown.
fn rate(records_per_second: Option<f64>) -> String {
    records_per_second.map_or("-".to_string(), |r| format!("{r:.1}"))
}

/// Consumer groups: a table of each group's state, then the count per state.
fn groups_text(groups: &[GroupStatus]) -> String {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["group", "state", "partitions", "detail"]);
    let mut counts = std::collections::BTreeMap::new();
    for g in groups {
        *counts.entry(g.state).or_insert(0) += 1;
        table.add_row([
            crate::quote::terminal(&g.group).into_owned(),
            g.state.label().to_string(),
            g.partitions.to_string(),
            g.detail.clone(),
        ]);
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(state, n)| format!("{n} {}", state.label()))
        .collect();
    format!("\n{table}\nConsumer groups: {}.\n", counts.join(", "))
}
