//! Fencing every writer of a migration before a run reads its progress.
//!
//! A run of the built-in engine writes with the transactional ids of its tasks
//! (`kafka-migrate-NAME-task-0` … `-(n-1)`). An earlier run — still running, or crashed less
//! than a transaction timeout ago — may hold transactions on any id *it* used, which need not
//! be the ids this run uses (it had more tasks, or another partition set). Such a transaction
//! holds the progress topic's last stable offset back, so a read_committed reader stops
//! before progress that other tasks already committed; and the earlier run's tasks would go on
//! writing partitions this run owns. So a run, before it reads progress:
//!
//! 1. announces itself: a writers record saying how many ids it uses (with the migration's
//!    exact name), written outside any transaction;
//! 2. reads every writers record (read_uncommitted, to the end of the topic) and fences each id
//!    that any run of the migration used — its own through its tasks' producers, the others
//!    with a producer that only initialises transactions, which aborts what the id left open
//!    and makes its holder fail at its next write;
//! 3. waits until no transaction is open on the progress topic (the last stable offset has
//!    reached the end as it was after fencing);
//! 4. reads progress read_committed, and gives way when another run announced itself after it
//!    (the later run fences this one's ids; this one stops before it writes anything).
//!
//! A migration replicated before writers records existed has positions but no writers record:
//! every id a migration file allows is fenced once.

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::producer::{BaseProducer, Producer};

use super::progress::{transactional_id, writers_record, Progress};
use super::run::{progress_reader, read_progress_as, write_progress, Isolation};
use super::task::{client_config, transactional, Task, TaskContext, TaskProducer};
use super::{Delivery, ReplicateError, Settings};

/// Transactional ids fenced for a migration whose progress predates writers records: as many
/// tasks as a migration file allows.
const LEGACY_WRITERS: usize = 256;

/// Ids fenced at once (each fence is a producer of its own).
const FENCE_CONCURRENCY: usize = 16;

/// Fences every writer of the migration, then reads its progress: the producers of `tasks`
/// (transactions initialised with exactly-once) and the committed progress.
pub fn fence_and_read(
    settings: &Settings,
    tasks: &[Task],
) -> Result<(Vec<TaskProducer>, Progress), ReplicateError> {
    let exactly_once = settings.delivery == Delivery::ExactlyOnce;
    let announced = if exactly_once && !tasks.is_empty() {
        let record = writers_record(&settings.migration, tasks.len());
        write_progress(settings, &[record])?
    } else {
        None
    };
    let seen = read_progress_as(settings, Isolation::Uncommitted)?;
    check_name(settings, &seen)?;
    let recorded = match seen.writers() {
        0 if seen.has_positions() => LEGACY_WRITERS,
        n => n,
    };
    // With exactly-once the tasks' own producers fence their ids below; with at-least-once
    // they have none, and every recorded id is fenced here.
    let own = if exactly_once { tasks.len() } else { 0 };
    let others: Vec<usize> = (own..recorded).collect();
    if !others.is_empty() {
        tracing::info!(
            ids = others.len(),
            "Fencing the transactional ids earlier runs of this migration used."
        );
    }
    for chunk in others.chunks(FENCE_CONCURRENCY) {
        std::thread::scope(|scope| {
            let fences: Vec<_> = chunk
                .iter()
                .map(|&id| scope.spawn(move || fence(settings, id)))
                .collect();
            fences
                .into_iter()
                .map(|f| {
                    f.join()
                        .unwrap_or_else(|_| Err(ReplicateError::Panicked("fencing".into())))
                })
                .collect::<Result<Vec<()>, _>>()
        })?;
    }
    let producers = tasks
        .iter()
        .map(|t| t.prepare(settings))
        .collect::<Result<Vec<_>, _>>()?;
    await_no_open_transaction(settings)?;
    let progress = read_progress_as(settings, Isolation::Committed)?;
    check_name(settings, &progress)?;
    if let Some(mine) = announced {
        if progress.writers.values().any(|w| w.offset > mine) {
            return Err(ReplicateError::Superseded {
                migration: settings.migration.clone(),
            });
        }
    }
    Ok((producers, progress))
}

/// Initialises transactions for task id `id` of the migration and lets go: whatever a process
/// holding the id left open is aborted, and that process cannot write with it any more.
fn fence(settings: &Settings, id: usize) -> Result<(), ReplicateError> {
    let mut config = client_config(&settings.target);
    config.set("client.id", transactional_id(&settings.migration, id));
    transactional(&mut config, settings, id);
    let producer: BaseProducer<TaskContext> =
        crate::auth::token_supply::create(&config, TaskContext::default()).map_err(|e| {
            ReplicateError::Client {
                side: "target",
                source: e,
            }
        })?;
    producer
        .init_transactions(settings.transaction_timeout)
        .map_err(|e| ReplicateError::Producer {
            task: id,
            operation: "fencing an earlier run's transactional id",
            retriable: super::is_retriable(&e),
            source: e,
        })
}

/// Waits until the progress topic's last stable offset reaches its end as it is now: every
/// transaction on it is complete (after fencing, what was left open gets aborted).
fn await_no_open_transaction(settings: &Settings) -> Result<(), ReplicateError> {
    let err = |e: rdkafka::error::KafkaError| ReplicateError::Progress(e.to_string());
    let uncommitted = progress_reader(settings, Isolation::Uncommitted)?;
    let committed = progress_reader(settings, Isolation::Committed)?;
    let topic = &settings.progress_topic;
    let md = uncommitted
        .fetch_metadata(Some(topic), settings.request_timeout)
        .map_err(err)?;
    let partitions: Vec<i32> = md
        .topics()
        .first()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    let deadline = Instant::now() + settings.transaction_timeout;
    for partition in partitions {
        let (_, end) = uncommitted
            .fetch_watermarks(topic, partition, settings.request_timeout)
            .map_err(err)?;
        loop {
            let (_, stable) = committed
                .fetch_watermarks(topic, partition, settings.request_timeout)
                .map_err(err)?;
            if stable >= end {
                break;
            }
            if Instant::now() >= deadline {
                return Err(ReplicateError::Progress(format!(
                    "a transaction on {topic} stayed open for {} s after every writer of the migration was fenced (last stable offset {stable}, end {end})",
                    settings.transaction_timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// Refuses progress written by a migration of another name that maps to the same topic.
fn check_name(settings: &Settings, progress: &Progress) -> Result<(), ReplicateError> {
    match progress
        .writers
        .values()
        .find(|w| w.migration != settings.migration)
    {
        Some(w) => Err(ReplicateError::NameCollision {
            topic: settings.progress_topic.clone(),
            ours: settings.migration.clone(),
            theirs: w.migration.clone(),
        }),
        None => Ok(()),
    }
}
