//! The apply supervisor: runs the engine over the selected partitions and, while it runs,
//! follows topics and partitions created on the source (re-planning and applying every
//! `replication.refresh_interval`), syncs group offsets, reads the source's end offsets for
//! the lag and keeps the metrics; it tells an [`Observer`] what happens and draws nothing
//! itself. Cancelling it (the first Ctrl-C or SIGTERM) drains and commits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::{metrics, Live, Outcome};
use crate::cluster::native::IsolationLevel;
use crate::cluster::{ClusterClient, ClusterError, Role};
use crate::config::Migration;
use crate::groups::GroupSync;
use crate::plan::Action;
use crate::replicate::{self, Event, ReplicateError, RunSummary, Settings};

/// How often the source's end offsets are read for the lag.
const ENDS_INTERVAL: Duration = Duration::from_secs(2);

type Partitions = Vec<(String, i32)>;

/// What a running apply tells whoever shows it.
pub trait Observer {
    /// How often [`Observer::show`] is worth calling.
    fn interval(&self) -> Duration;
    /// The state now.
    fn show(&mut self, live: &Live);
    /// Something happened that deserves a line.
    fn note(&mut self, note: Note);
    /// Replication ended: stop drawing.
    fn finish(&mut self);
}

/// Something a running apply did or met.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A refresh applied an action of the new plan.
    Applied { action: Action, outcome: Outcome },
    /// A refresh found new partitions: the engine replicates `now` (was `was`).
    Replicating { now: usize, was: usize },
    /// Topics or partitions were created on the source, but the new plan has blockers.
    Blocked { blockers: usize },
    /// The engine failed and starts again from committed progress after `wait`.
    Retrying {
        error: String,
        attempt: u32,
        wait: Duration,
    },
    /// The run took the migration over from the one described: a run still going stops.
    TakingOver { from: String },
    /// A part of apply failed: replication stops (drains and commits).
    Stopping { failure: String },
    /// Metrics are served at `addr` while the engine runs.
    ServingMetrics { addr: std::net::SocketAddr },
    /// A step of MirrorMaker 2's deployment on the Connect cluster at `url`.
    Connect {
        step: crate::connect::Step,
        url: String,
    },
}

/// How replication ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Ended because the target caught up (with `until_synced`), not on a signal.
    pub caught_up: bool,
    pub summary: RunSummary,
}

/// Why a running apply stopped short.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(transparent)]
    Engine(#[from] ReplicateError),
    #[error("apply stopped: {0}")]
    Failed(String),
}

/// Replicates `initial` until stopped or, with `until_synced`, until the target has caught
/// up — and meanwhile follows topics and partitions created on the source, syncs group
/// offsets (sharing `groups` with the caller's final sync), reads the source's ends for the
/// lag and keeps the metrics. Tells `observer` as it goes.
pub async fn supervise(
    migration: &Migration,
    initial: Partitions,
    limits: &crate::plan::RecordLimits,
    until_synced: bool,
    groups: Arc<tokio::sync::Mutex<GroupSync>>,
    cancel: CancellationToken,
    observer: &mut dyn Observer,
) -> Result<Finished, SupervisorError> {
    let settings =
        Arc::new(Settings::from_migration(migration, until_synced).with_record_limits(limits));
    let stop = Arc::new(AtomicBool::new(false));
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (notes_tx, mut notes) = mpsc::unbounded_channel();
    let (ends_tx, mut ends) = mpsc::unbounded_channel();
    let (parts_tx, parts) = watch::channel(initial);
    let mut background = Background::default();
    background.spawn(
        "stopping when asked",
        stop_when_cancelled(cancel, stop.clone()),
    );
    background.spawn(
        "reading the source's end offsets",
        read_ends(migration.clone(), parts.clone(), ends_tx),
    );
    background.spawn(
        "looking for new topics and partitions",
        refresh_periodically(migration.clone(), parts_tx, stop.clone(), notes_tx),
    );
    if migration.consumer_groups.sync {
        background.spawn(
            "syncing group offsets",
            sync_groups_periodically(migration.clone(), stop.clone(), groups),
        );
    }
    let mut failed: Option<String> = None;
    let engine = tokio::spawn(replicate::replicate_watching(
        settings.clone(),
        parts,
        stop.clone(),
        events_tx,
    ));
    let mut live = match replicate::status(migration).await {
        Ok(status) => Live::from_status(&status),
        Err(e) => {
            tracing::warn!(error = %e, "Could not read the starting lag.");
            Live::default()
        }
    };
    let mut ticks = tokio::time::interval(observer.interval());
    let started = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut engine = engine;
    let mut ended = None;
    loop {
        // Once the engine ended, what it sent is all in the channel: that taken, the loop
        // ends (tasks it left to end on their own may hold a sender still).
        if ended.is_some() && events.is_empty() {
            break;
        }
        tokio::select! {
            joined = &mut engine, if ended.is_none() => ended = Some(joined),
            event = events.recv() => {
                let Some(event) = event else { break };
                match &event {
                    Event::Replicated { records: r, bytes: b, commit, .. } => {
                        records += r;
                        bytes += b;
                        metrics::commit(*commit);
                    }
                    Event::TakingOver { from } => {
                        observer.note(Note::TakingOver { from: from.clone() });
                    }
                    Event::Retrying { error, attempt, wait } => {
                        metrics::error(true);
                        observer.note(Note::Retrying {
                            error: error.clone(),
                            attempt: *attempt,
                            wait: *wait,
                        });
                    }
                    _ => {}
                }
                if let Some((topic, r, b)) = live.observe(&event) {
                    metrics::replicated(&topic, r, b);
                }
            }
            Some(read) = ends.recv() => {
                live.set_ends(read);
                for ((topic, partition), p) in live.partitions() {
                    if let Some(lag) = p.lag() {
                        metrics::lag(topic, *partition, lag);
                    }
                }
            }
            Some(note) = notes.recv() => observer.note(note),
            failure = background.next_failure() => {
                // A part of apply died: stop replicating (drain and commit) and say why.
                observer.note(Note::Stopping { failure: failure.clone() });
                stop.store(true, Ordering::Relaxed);
                failed.get_or_insert(failure);
            }
            _ = ticks.tick() => observer.show(&live),
        }
    }
    background.tasks.abort_all();
    observer.finish();
    let joined = match ended {
        Some(joined) => joined,
        None => engine.await,
    };
    let summary = joined
        .map_err(|e| SupervisorError::Failed(format!("the engine failed: {e}")))?
        .inspect_err(|_| metrics::error(false))?;
    if let Some(failure) = failed {
        metrics::error(false);
        return Err(SupervisorError::Failed(failure));
    }
    Ok(Finished {
        records,
        bytes,
        elapsed: started.elapsed(),
        caught_up: until_synced && !stop.load(Ordering::Relaxed),
        summary,
    })
}

/// The background tasks of a running apply, each named for what it does. Each runs until
/// apply ends; one that ends on its own with an error, or panics, is a failure of apply.
#[derive(Default)]
struct Background {
    tasks: tokio::task::JoinSet<Result<(), String>>,
    names: std::collections::HashMap<tokio::task::Id, &'static str>,
}

impl Background {
    fn spawn<F>(&mut self, name: &'static str, task: F)
    where
        F: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        let handle = self.tasks.spawn(task);
        self.names.insert(handle.id(), name);
    }

    /// The next task that failed, described; pending while none has (and when none is left).
    async fn next_failure(&mut self) -> String {
        loop {
            let Some(joined) = self.tasks.join_next_with_id().await else {
                return std::future::pending().await;
            };
            let (id, failure) = match joined {
                Ok((_, Ok(()))) => continue,
                Ok((id, Err(e))) => (id, e),
                Err(e) => (e.id(), panic_message(e)),
            };
            let name = self.names.get(&id).copied().unwrap_or("a background task");
            return format!("{name} failed: {failure}");
        }
    }
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".into());
            format!("panicked ({text})")
        }
        Err(e) => e.to_string(),
    }
}

/// In a debug build, panics when `KAFKA_MIGRATE_INJECT_PANIC` names `task`: how the tests
/// show that a background task's panic stops apply.
fn injected_panic(task: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("KAFKA_MIGRATE_INJECT_PANIC").is_ok_and(|t| t == task) {
        panic!("injected panic in {task}");
    }
    let _ = task;
}

/// Stops replication (drain and commit) when the caller cancels: the first Ctrl-C or SIGTERM.
async fn stop_when_cancelled(
    cancel: CancellationToken,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    cancel.cancelled().await;
    tracing::info!("Stopping on a signal: draining and committing.");
    stop.store(true, Ordering::Relaxed);
    Ok(())
}

/// Sends the source's last stable offsets of the partitions being replicated every
/// [`ENDS_INTERVAL`]; a failed read is logged and tried again with a new client. A new
/// partition set also gets a new client: a client's metadata does not know partitions created
/// after it connected.
async fn read_ends(
    migration: Migration,
    mut parts: watch::Receiver<Partitions>,
    ends: mpsc::UnboundedSender<Vec<((String, i32), i64)>>,
) -> Result<(), String> {
    let props = crate::cluster::factory::properties(&migration, Role::Source);
    let mut ticks = tokio::time::interval(ENDS_INTERVAL);
    let mut client = None;
    loop {
        ticks.tick().await;
        injected_panic("ends");
        if parts.has_changed().unwrap_or(false) {
            parts.mark_unchanged();
            client = None;
        }
        if client.is_none() {
            client = ClusterClient::connect(Role::Source, &props)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "Could not read end offsets."))
                .ok();
        }
        let Some(source) = &client else { continue };
        let wanted = parts.borrow().clone();
        match source
            .end_offsets(wanted, IsolationLevel::ReadCommitted)
            .await
        {
            Ok(read) => {
                if ends.send(read.into_iter().collect()).is_err() {
                    return Ok(());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "Could not read end offsets.");
                client = None;
            }
        }
    }
}

/// Every `replication.refresh_interval`: plans again and, when topics or partitions were
/// created on the source, applies the plan and hands the engine the new partition set.
async fn refresh_periodically(
    migration: Migration,
    parts: watch::Sender<Partitions>,
    stop: Arc<AtomicBool>,
    notes: mpsc::UnboundedSender<Note>,
) -> Result<(), String> {
    let mut ticks = tokio::time::interval(migration.replication.refresh_interval.0);
    ticks.tick().await;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        injected_panic("refresh");
        if let Err(e) = refresh(&migration, &parts, &notes).await {
            tracing::warn!(error = %e, "Refresh failed; trying again at the next interval.");
        }
    }
    Ok(())
}

async fn refresh(
    migration: &Migration,
    parts: &watch::Sender<Partitions>,
    notes: &mpsc::UnboundedSender<Note>,
) -> Result<(), ClusterError> {
    let survey =
        crate::survey::survey(migration, crate::plan::Engine::Native, &Default::default()).await?;
    let plan = &survey.plan;
    let grows = plan.actions.iter().any(|a| {
        matches!(
            a,
            Action::CreateTopic { .. } | Action::CreatePartitions { .. }
        )
    });
    if !grows {
        return Ok(());
    }
    if !plan.blockers.is_empty() {
        let _ = notes.send(Note::Blocked {
            blockers: plan.blockers.len(),
        });
        return Ok(());
    }
    super::apply_metadata(&survey.snapshot.target, plan, |action, outcome| {
        let _ = notes.send(Note::Applied {
            action: action.clone(),
            outcome: outcome.clone(),
        });
    })
    .await?;
    let now = survey.snapshot.source_inventory.partitions();
    parts.send_if_modified(|current| {
        let changed = *current != now;
        if changed {
            let _ = notes.send(Note::Replicating {
                now: now.len(),
                was: current.len(),
            });
            *current = now;
        }
        changed
    });
    Ok(())
}

/// Syncs group offsets every `sync_interval` while replication runs; a failed round is
/// logged and tried again at the next interval. `groups` keeps what the rounds learnt (the
/// groups that cut over, translations) for the sync after replication.
async fn sync_groups_periodically(
    migration: Migration,
    stop: Arc<AtomicBool>,
    groups: Arc<tokio::sync::Mutex<GroupSync>>,
) -> Result<(), String> {
    let mut ticks = tokio::time::interval(migration.consumer_groups.sync_interval.0);
    ticks.tick().await;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        injected_panic("group-sync");
        let mut sync = groups.lock().await;
        match sync.survey_round(&migration).await {
            Ok(synced) => {
                let committed: usize = synced.iter().map(|g| g.committed).sum();
                tracing::info!(groups = synced.len(), committed, "Group offsets synced.");
                metrics::group_sync(Some(synced.len()));
            }
            Err(e) => {
                metrics::group_sync(None);
                tracing::warn!(error = %e, "Group offset sync failed; trying again at the next interval.")
            }
        }
    }
    Ok(())
}
