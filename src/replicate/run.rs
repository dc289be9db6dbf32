//! Running the engine: read committed progress from the target, start one blocking task per
//! partition set, forward their events, stop them together.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::task::Task;
use super::{assign, Event, ReplicateError, Settings};

/// How a run ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub tasks: usize,
    pub partitions: usize,
}

/// A run that lasted this long and replicated records before failing resets the count of
/// consecutive failures (one blocked that long on a target that does not answer does not).
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Replicates `partitions` until `stop` is set or, with `settings.until_synced`, until every
/// partition has caught up. Events go to `events` as they happen.
pub async fn replicate(
    settings: Arc<Settings>,
    partitions: Vec<(String, i32)>,
    stop: Arc<AtomicBool>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
) -> Result<RunSummary, ReplicateError> {
    let (_fixed, partitions) = watch::channel(partitions);
    replicate_watching(settings, partitions, stop, events).await
}

/// [`replicate`] over a partition set that may grow while it runs: when it changes, the tasks
/// drain, commit and start again over the new set. A retriable failure (broker unavailable,
/// timeouts, leader moves) restarts the tasks from committed progress after a backoff; a fatal
/// one, or `settings.max_retries` retriable ones in a row, ends the run with committed
/// progress intact.
pub async fn replicate_watching(
    settings: Arc<Settings>,
    mut partitions: watch::Receiver<Vec<(String, i32)>>,
    stop: Arc<AtomicBool>,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
) -> Result<RunSummary, ReplicateError> {
    let mut failures = 0u32;
    // Where this process last announced a run in the progress topic: a restart gives way to
    // a run announced since.
    let mut announced: Option<i64> = None;
    loop {
        let set = partitions.borrow_and_update().clone();
        // Tasks stop when the user stops or the partition set changes.
        let run_stop = Arc::new(AtomicBool::new(false));
        let relay = {
            let (stop, run_stop, mut changes) =
                (stop.clone(), run_stop.clone(), partitions.clone());
            tokio::spawn(async move {
                // A closed channel (whoever sent the sets is gone) is no change: the tasks
                // run on over the set they have until the user stops them.
                let mut open = true;
                while !stop.load(Ordering::Relaxed) {
                    if !open {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    match tokio::time::timeout(Duration::from_millis(100), changes.changed()).await
                    {
                        Ok(Ok(())) => break,
                        Ok(Err(_)) => open = false,
                        Err(_) => {}
                    }
                }
                run_stop.store(true, Ordering::Relaxed);
            })
        };
        let started = Instant::now();
        let replicated = Arc::new(AtomicBool::new(false));
        let result = run_once(
            &settings,
            set,
            &run_stop,
            &events,
            &mut announced,
            &replicated,
        )
        .await;
        relay.abort();
        let stopped = stop.load(Ordering::Relaxed);
        match result {
            Ok(summary) if stopped || !run_stop.load(Ordering::Relaxed) => return Ok(summary),
            Ok(summary) => {
                tracing::info!(
                    partitions = partitions.borrow().len(),
                    before = summary.partitions,
                    "New partitions to replicate: restarting the tasks over the new set."
                );
                failures = 0;
            }
            Err(e) if e.is_retriable() && !stopped && failures < settings.max_retries => {
                if started.elapsed() >= HEALTHY_RUN && replicated.load(Ordering::Relaxed) {
                    failures = 0;
                }
                failures += 1;
                let wait = Duration::from_secs(1 << (failures - 1).min(5));
                tracing::warn!(
                    error = %e,
                    attempt = failures,
                    wait_s = wait.as_secs(),
                    "Retriable replication error: restarting from committed progress."
                );
                let _ = events.send(Event::Retrying {
                    error: e.to_string(),
                    attempt: failures,
                    wait,
                });
                let resume_at = Instant::now() + wait;
                while Instant::now() < resume_at && !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                if stop.load(Ordering::Relaxed) {
                    return Err(e);
                }
            }
            Err(e) if e.is_retriable() && !stopped => {
                return Err(ReplicateError::RetriesExhausted {
                    retries: failures,
                    last: Box::new(e),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

/// One run over a fixed partition set: fence, read progress, run the tasks until they stop.
async fn run_once(
    settings: &Arc<Settings>,
    partitions: Vec<(String, i32)>,
    stop: &Arc<AtomicBool>,
    events: &tokio::sync::mpsc::UnboundedSender<Event>,
    announced: &mut Option<i64>,
    replicated: &Arc<AtomicBool>,
) -> Result<RunSummary, ReplicateError> {
    let count = partitions.len();
    let tasks: Vec<Task> = assign(partitions, settings.tasks)
        .into_iter()
        .enumerate()
        .map(|(id, partitions)| Task { id, partitions })
        .collect();
    // Every writer of the migration, whatever task count it ran with, is fenced before
    // progress is read: nothing another process still running it does can change the
    // progress read below.
    let (tasks, fenced) = {
        let (settings, previous) = (settings.clone(), *announced);
        tokio::task::spawn_blocking(move || {
            let fenced = super::fence::fence_and_read(&settings, &tasks, previous)?;
            Ok::<_, ReplicateError>((tasks, fenced))
        })
        .await
        .map_err(|e| ReplicateError::Panicked(e.to_string()))??
    };
    *announced = fenced.announced.or(*announced);
    if let Some(from) = fenced.took_over {
        let _ = events.send(Event::TakingOver { from });
    }
    let (producers, progress) = (fenced.producers, fenced.progress);
    // From here on the run holds the migration until another run announces itself or the
    // migration is cut over: then its tasks stop at once (they drain and commit, or find
    // their ids fenced) and the run says who took over.
    let watching = announced.map(|after| watch(settings, after, stop));
    let progress = Arc::new(progress);
    if tasks.is_empty() {
        // Nothing to replicate yet: wait for partitions to appear or for the stop.
        while !stop.load(Ordering::Relaxed) && !settings.until_synced {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let mut handles = tokio::task::JoinSet::new();
    for (task, producer) in tasks.into_iter().zip(producers) {
        let (settings, progress, stop, events, replicated) = (
            settings.clone(),
            progress.clone(),
            stop.clone(),
            events.clone(),
            replicated.clone(),
        );
        handles.spawn_blocking(move || {
            let forward = |e: Event| {
                if matches!(e, Event::Replicated { records, .. } if records > 0) {
                    replicated.store(true, Ordering::Relaxed);
                }
                let _ = events.send(e);
            };
            task.run(producer, &settings, &progress, &stop, &forward)
        });
    }
    let summary = RunSummary {
        tasks: handles.len(),
        partitions: count,
    };
    let mut first_error = None;
    let (done, mut watcher) = match watching {
        Some((done, watcher)) => (Some(done), Some(watcher)),
        None => (None, None),
    };
    let mut successor = None;
    loop {
        tokio::select! {
            joined = handles.join_next() => {
                let Some(joined) = joined else { break };
                let result = joined
                    .map_err(|e| ReplicateError::Panicked(e.to_string()))
                    .and_then(|r| r);
                if let Err(e) = result {
                    // One task failing stops the others: they drain and commit what they have.
                    stop.store(true, Ordering::Relaxed);
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
            found = async {
                match watcher.as_mut() {
                    Some(watching) => watching.await,
                    None => std::future::pending().await,
                }
            }, if watcher.is_some() => {
                watcher = None;
                successor = found.ok().flatten();
                if let Some(gone @ crate::state::Successor::Deleted(_)) = successor {
                    // Nothing the tasks hold can be committed any more: they are left to end
                    // on their own (the process exits), not waited for.
                    return Err(taken_over(settings, gone));
                }
            }
        }
    }
    if let Some(done) = done {
        done.store(true, Ordering::Relaxed);
    }
    if let Some(watcher) = watcher {
        successor = watcher.await.ok().flatten();
    }
    if let Some(mine) = *announced {
        // Said once the tasks have stopped: a later run waits for it before it reads progress.
        let store = settings.store.clone();
        let said = tokio::task::spawn_blocking(move || {
            store.write(&[crate::state::released_record(mine)])
        })
        .await;
        if !matches!(said, Ok(Ok(_))) {
            tracing::warn!("Could not record in the progress topic that this run ended.");
        }
    }
    if let (None, Some(_), Some(mine)) = (&successor, &first_error, *announced) {
        // A task failed (fenced, most likely) before the watch saw why: a run announced
        // since is the reason, and is named.
        let store = settings.store.clone();
        successor = tokio::task::spawn_blocking(move || later_run(&store, mine))
            .await
            .ok()
            .flatten();
    }
    match (successor, first_error) {
        (Some(successor), _) => Err(taken_over(settings, successor)),
        (None, Some(e)) => Err(e),
        (None, None) => Ok(summary),
    }
}

/// Watches the progress topic after `after` (where this run announced itself) until the
/// returned flag is set; a successor sets `stop`.
fn watch(
    settings: &Arc<Settings>,
    after: i64,
    stop: &Arc<AtomicBool>,
) -> (
    Arc<AtomicBool>,
    tokio::task::JoinHandle<Option<crate::state::Successor>>,
) {
    let done = Arc::new(AtomicBool::new(false));
    let (store, flag, stop) = (settings.store.clone(), done.clone(), stop.clone());
    let watcher = tokio::task::spawn_blocking(move || {
        // Stopping the tasks also ends the watch.
        let stopped = || flag.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed);
        match store.watch_after(after, stopped) {
            Ok(Some(successor)) => {
                stop.store(true, Ordering::Relaxed);
                Some(successor)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "Could not watch the progress topic for a later run.");
                None
            }
        }
    });
    (done, watcher)
}

/// The last run announced in `store` after offset `mine`, if any.
fn later_run(store: &crate::state::Store, mine: i64) -> Option<crate::state::Successor> {
    let seen = store.read_as(crate::state::Isolation::Uncommitted).ok()?;
    seen.last_writer()
        .filter(|w| w.offset > mine)
        .map(|w| crate::state::Successor::Run(w.clone()))
}

/// The error a run ends with when `successor` took the migration over.
fn taken_over(settings: &Settings, successor: crate::state::Successor) -> ReplicateError {
    match successor {
        crate::state::Successor::Run(run) => ReplicateError::Superseded {
            migration: settings.migration.clone(),
            by: run.describe(),
        },
        crate::state::Successor::Deleted(topic) => ReplicateError::ProgressTopicDeleted { topic },
        crate::state::Successor::CutOver(record) => ReplicateError::CutOverWhileRunning {
            migration: settings.migration.clone(),
            at: record
                .point
                .map_or_else(String::new, |p| crate::state::cutover::utc(p.at_ms)),
        },
    }
}
