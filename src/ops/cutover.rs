//! `cutover` and `rollback`: the gated sequences of `crate::cutover`, each drawn by an
//! observer as its steps end.

use std::time::Duration;

use crate::config::Migration;
use crate::cutover::{self, Observer, Outcome};

/// Cuts `migration` over to the target, giving the quiet gate until `timeout` from now.
pub async fn cutover(
    migration: &Migration,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> miette::Result<Outcome> {
    Ok(cutover::cutover(migration, timeout, observer).await?)
}

/// Rolls `migration` back to the source, giving the quiet gate until `timeout` from now.
pub async fn rollback(
    migration: &Migration,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> miette::Result<Outcome> {
    Ok(cutover::rollback::rollback(migration, timeout, observer).await?)
}
