//! `verify`: the cutover checks once, or with a deadline again every few seconds until READY.

use std::time::Duration;

use tokio::time::Instant;

use crate::config::Migration;
use crate::verify::{self, QuietWatch, Report};

/// Pause between two rounds of `verify --watch`.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(10);

/// Runs the checks; with `watch`, again every [`WATCH_INTERVAL`] while not ready and the next
/// round would end before `watch` has passed, telling `again` each report that was not ready.
pub async fn verify(
    migration: &Migration,
    watch: Option<Duration>,
    again: &mut dyn FnMut(&Report),
) -> Report {
    let deadline = watch.map(|timeout| Instant::now() + timeout);
    let mut quiet = QuietWatch::new();
    loop {
        let report = verify::verify(migration, &mut quiet).await;
        match deadline {
            Some(deadline) if !report.ready && Instant::now() + WATCH_INTERVAL < deadline => {
                again(&report);
                tokio::time::sleep(WATCH_INTERVAL).await;
            }
            _ => return report,
        }
    }
}
