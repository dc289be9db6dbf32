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
    table.set_header(["topic", "partitions", "records replicated", "lag"]);
    for (topic, (partitions, lag, records)) in status.by_topic() {
        table.add_row([
            topic.to_string(),
            partitions.to_string(),
            records.to_string(),
            lag.to_string(),
        ]);
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
        "Migration \"{}\": {} partition(s), total lag {}.",
        status.migration,
        status.partitions.len(),
        status.total_lag()
    );
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
