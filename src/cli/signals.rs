//! Ctrl-C (SIGINT) and SIGTERM (an orchestrator stopping a container) as the operations see
//! them: a command that drains is cancelled by the first and ends at once on the second; any
//! other command ends at once on the first.

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// How a command takes the first signal.
#[derive(Debug, Clone, Copy)]
pub enum OnSignal {
    /// End at once.
    Exit,
    /// Cancel the operation, which finishes and returns; say `stopping` first, if anything,
    /// and `exiting` when a second signal ends it at once.
    Drain {
        stopping: Option<&'static str>,
        exiting: Option<&'static str>,
    },
}

/// What `apply` says on the first and the second signal.
pub const APPLY: OnSignal = OnSignal::Drain {
    stopping: Some(
        "Stopping: finishing the current batch and committing (Ctrl-C again to exit now)…",
    ),
    exiting: Some("Exiting now; the last uncommitted batch will be replicated again next time."),
};

/// Waits for the signal that ends the command at once, cancelling `cancel` on a first one
/// that drains: the exit code (128 + the signal's number).
pub async fn watch(on: OnSignal, cancel: CancellationToken) -> u8 {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut next = async || -> u8 {
        let term = async {
            match term.as_mut() {
                Some(term) => term.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => 130,
            _ = term => 143,
        }
    };
    let code = next().await;
    let OnSignal::Drain { stopping, exiting } = on else {
        return code;
    };
    if let Some(line) = stopping {
        eprintln!("{line}");
    }
    cancel.cancel();
    let code = next().await;
    if let Some(line) = exiting {
        eprintln!("{line}");
    }
    code
}
