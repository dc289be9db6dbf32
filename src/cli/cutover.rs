//! The `cutover` and `rollback` commands: run the gated sequence, drawing it, and map how it
//! ended to an exit code (0 switched, 2 a gate did not pass, 1 an error); and `apply` after the
//! cutover with failback, which replicates back to the source.

use std::time::Duration;

use crate::config::Migration;
use crate::render::{self, CutoverDisplay, Paint};

use super::ExitStatus;

/// `cutover [--json] [--timeout D]`, or `rollback` with `back`.
pub fn cutover(
    migration: &Migration,
    json: bool,
    timeout: Duration,
    back: bool,
) -> miette::Result<ExitStatus> {
    let rt = super::commands::runtime()?;
    let paint = if json {
        Paint::plain()
    } else {
        Paint::for_stdout()
    };
    let mut display = CutoverDisplay::new(paint, json);
    let outcome = if back {
        let rollback = crate::cutover::rollback::rollback(migration, timeout, &mut display);
        rt.block_on(rollback)?
    } else {
        rt.block_on(crate::cutover::cutover(migration, timeout, &mut display))?
    };
    if json {
        println!("{}", render::cutover_json(&outcome));
    } else {
        print!("{}", render::cutover_text(&outcome, paint));
    }
    Ok(if outcome.complete {
        ExitStatus::Success
    } else {
        ExitStatus::Attention
    })
}

/// `apply` once the migration is cut over, with failback enabled: replicate back to the
/// source until Ctrl-C (or caught up with `until_synced`), then translate groups back.
pub fn failback(
    rt: &tokio::runtime::Runtime,
    migration: &Migration,
    snapshot: &crate::survey::Snapshot,
    point: &crate::state::CutoverPoint,
    until_synced: bool,
) -> miette::Result<ExitStatus> {
    println!(
        "Migration \"{}\" was cut over at {}: failback replicates what producers write to the target back to the source{}…",
        migration.name,
        crate::state::cutover::utc(point.at_ms),
        if until_synced {
            " until the source has caught up"
        } else {
            "; press Ctrl-C to stop"
        }
    );
    let done = rt.block_on(crate::cutover::failback::run(
        migration,
        snapshot,
        point,
        until_synced,
    ))?;
    println!(
        "Failback: {} record(s) ({:.1} MiB) replicated back to the source over {} partition(s).",
        done.records,
        done.bytes as f64 / 1_048_576.0,
        done.partitions
    );
    for line in &done.groups {
        println!("  {line}");
    }
    Ok(ExitStatus::Success)
}
