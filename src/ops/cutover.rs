//! `cutover` and `rollback`: the gated sequences of `crate::cutover` over a snapshot of both
//! clusters, each draining with the engine that replicates that way — the built-in engine
//! forward, failback back — and drawn by an observer as its steps end.

use std::time::Duration;

use crate::apply::Engine;
use crate::config::Migration;
use crate::cutover::{self, Observer, Outcome};

use super::engines;

/// Cuts `migration` over to the target, giving the quiet gate until `timeout` from now; a
/// `dry_run` checks every gate and records nothing.
pub async fn cutover(
    migration: &Migration,
    timeout: Duration,
    dry_run: bool,
    observer: &mut dyn Observer,
) -> miette::Result<Outcome> {
    let snapshot = crate::survey::snapshot(migration).await?;
    let mut engine = engines::built_in(migration, &snapshot, None);
    let outcome = cutover::cutover(
        migration,
        &snapshot,
        &mut engine,
        timeout,
        dry_run,
        observer,
    );
    Ok(outcome.await?)
}

/// Rolls `migration` back to the source, giving the quiet gate until `timeout` from now.
pub async fn rollback(
    migration: &Migration,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> miette::Result<Outcome> {
    let snapshot = crate::survey::snapshot(migration).await?;
    let point = cutover::cut_over(snapshot.engine_progress()).and_then(|c| c.point.clone());
    let mut engine = point.map(|point| engines::failback(migration, point));
    let engine = engine.as_mut().map(|e| e as &mut dyn Engine);
    let outcome = cutover::rollback::rollback(migration, &snapshot, engine, timeout, observer);
    Ok(outcome.await?)
}
