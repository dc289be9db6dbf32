//! The `verify` command: run the cutover checks once, or until ready with `--watch`.

use std::time::{Duration, Instant};

use miette::IntoDiagnostic;

use crate::config::Migration;
use crate::render::{self, Paint};
use crate::verify::{self, QuietWatch, Report};

use super::ExitStatus;

/// Pause between two rounds of `--watch`.
const WATCH_INTERVAL: Duration = Duration::from_secs(10);

/// `verify [--json] [--watch --timeout D]`.
pub fn verify(
    migration: &Migration,
    json: bool,
    watch: Option<Duration>,
) -> miette::Result<ExitStatus> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let deadline = watch.map(|timeout| Instant::now() + timeout);
    let mut quiet = QuietWatch::new();
    if !json {
        eprintln!(
            "Checking both clusters; the source must stay quiet for {} (cutover.quiet_period)…",
            migration.cutover.quiet_period
        );
    }
    let report = loop {
        let report = rt.block_on(verify::verify(migration, &mut quiet));
        match deadline {
            Some(deadline) if !report.ready && Instant::now() + WATCH_INTERVAL < deadline => {
                if !json {
                    eprintln!(
                        "{}; checking again in {}s…",
                        not_ready_line(&report),
                        WATCH_INTERVAL.as_secs()
                    );
                }
                std::thread::sleep(WATCH_INTERVAL);
            }
            _ => break report,
        }
    };
    if json {
        println!("{}", render::verify_json(&report));
    } else {
        print!("{}", render::verify_text(&report, Paint::for_stdout()));
    }
    Ok(if report.ready {
        ExitStatus::Success
    } else if report.complete() {
        ExitStatus::Attention
    } else {
        ExitStatus::Error
    })
}

fn not_ready_line(report: &Report) -> String {
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.status == verify::CheckStatus::Fail)
        .map(|c| c.name)
        .collect();
    format!("NOT READY ({})", failed.join(", "))
}
