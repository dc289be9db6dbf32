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
            Ok(summary) if stopped || !run_stop.load(Ordering::Relaxed) => {
                // `status` tells a run that stopped from one that writes progress now.
                let store = settings.store.clone();
                let written = tokio::task::spawn_blocking(move || {
                    store.write(&[crate::state::progress::stopped_record()])
                })
                .await;
                if !matches!(written, Ok(Ok(_))) {
                    tracing::warn!("The run's clean stop could not be recorded; `status` may call it running for a few seconds.");
                }
                return Ok(summary);
            }
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
    let (producers, progress) = (fenced.producers, fenced.progress);
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
    while let Some(joined) = handles.join_next().await {
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
    match first_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}
