//! Running the engine: read committed progress from the target, start one blocking task per
//! partition set, forward their events, stop them together.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use tokio::sync::watch;

use super::progress::Progress;
use super::task::{reader_config, SourceContext, Task, TaskContext};
use super::{assign, Event, ReplicateError, Settings};

/// How a run ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub tasks: usize,
    pub partitions: usize,
}

/// Reads the migration's progress topic on the target, read_committed, start to end.
pub fn read_progress(settings: &Settings) -> Result<Progress, ReplicateError> {
    read_progress_as(settings, Isolation::Committed)
}

/// Which records a read of the progress topic sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Isolation {
    /// What committed transactions and plain writes left: the progress.
    Committed,
    /// Everything written so far, open and aborted transactions included, to the end.
    Uncommitted,
}

/// A consumer of the progress topic with the given isolation.
pub(super) fn progress_reader(
    settings: &Settings,
    isolation: Isolation,
) -> Result<BaseConsumer<SourceContext>, ReplicateError> {
    let mut config = reader_config(&settings.target, &settings.migration, "progress-reader");
    if isolation == Isolation::Uncommitted {
        config.set("isolation.level", "read_uncommitted");
    }
    crate::auth::token_supply::create(&config, SourceContext)
        .map_err(|e: KafkaError| ReplicateError::Progress(e.to_string()))
}

/// Reads the whole progress topic with the given isolation.
pub(super) fn read_progress_as(
    settings: &Settings,
    isolation: Isolation,
) -> Result<Progress, ReplicateError> {
    let consumer = progress_reader(settings, isolation)?;
    let mut progress = Progress::default();
    super::read::read_topic(
        &consumer,
        &settings.progress_topic,
        settings.request_timeout,
        |offset, key, value| progress.fold(offset, key, value),
    )
    .map_err(ReplicateError::Progress)?;
    Ok(progress)
}

/// Writes `records` (key, value) to the migration's progress topic on the target, outside the
/// engine's transactions (for records no task owns, such as cut-over groups and writers):
/// the offset of the last one.
pub fn write_progress(
    settings: &Settings,
    records: &[(Vec<u8>, Vec<u8>)],
) -> Result<Option<i64>, ReplicateError> {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let err = |e: KafkaError| ReplicateError::Progress(e.to_string());
    let mut config = super::task::client_config(&settings.target);
    config.set("enable.idempotence", "true").set(
        "client.id",
        format!("kafka-migrate-{}-progress-writer", settings.migration),
    );
    let producer: BaseProducer<TaskContext> =
        crate::auth::token_supply::create(&config, TaskContext::default()).map_err(err)?;
    for (key, value) in records {
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(&settings.progress_topic)
                    .key(&key[..])
                    .payload(&value[..]),
            )
            .map_err(|(e, _)| err(e))?;
    }
    producer.flush(settings.request_timeout).map_err(err)?;
    match producer.context().take_error() {
        Some((_, e)) => Err(err(e)),
        None => Ok(producer.context().take_delivered().into_values().max()),
    }
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
