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
//! 1. announces itself: a writers record saying how many ids it uses (none with
//!    at-least-once; with the migration's exact name), written outside any transaction;
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

use rdkafka::producer::Producer;
use rdkafka::ClientConfig;

use super::task::{transactional, Task, TaskProducer};
use super::{Delivery, ReplicateError, Settings};
use crate::cluster::factory;
use crate::config::names::transactional_id;
use crate::state::{writers_record, Isolation, Progress, StoreError};

fn progress_error(e: StoreError) -> ReplicateError {
    ReplicateError::Progress(e.to_string())
}

/// Transactional ids fenced for a migration whose progress predates writers records: as many
/// tasks as a migration file allows.
const LEGACY_WRITERS: usize = 256;

/// Ids fenced at once (each fence is a producer of its own).
const FENCE_CONCURRENCY: usize = 16;

/// What fencing gives a run.
pub struct Fenced {
    /// The producers of the run's tasks (transactions initialised with exactly-once).
    pub producers: Vec<TaskProducer>,
    /// The committed progress.
    pub progress: Progress,
    /// Where the run announced itself in the progress topic.
    pub announced: Option<i64>,
    /// The run that held the migration before, unless it said it ended.
    pub took_over: Option<String>,
}

/// Fences every writer of the migration, then reads its progress. `previous`: where this
/// process announced its last run, when this is a restart — a run announced since supersedes
/// it, and the restart gives way before it fences anything.
pub fn fence_and_read(
    settings: &Settings,
    tasks: &[Task],
    previous: Option<i64>,
) -> Result<Fenced, ReplicateError> {
    if let Some(previous) = previous {
        let seen = settings
            .store
            .read_as(Isolation::Uncommitted)
            .map_err(progress_error)?;
        superseded(settings, &seen, previous)?;
    }
    // Created before any run starts (by the plan, or failback's preparation): missing now, it
    // was deleted, and a run would start over from nothing.
    if !settings.store.exists().map_err(progress_error)? {
        return Err(ReplicateError::ProgressTopicDeleted {
            topic: settings.store.topic.clone(),
        });
    }
    let exactly_once = settings.delivery == Delivery::ExactlyOnce;
    // An at-least-once run holds no transactional id, but announces itself all the same (as
    // a run of none): a later run supersedes it, and its name is recorded.
    let ids = if exactly_once { tasks.len() } else { 0 };
    let announced = if tasks.is_empty() {
        None
    } else {
        settings
            .store
            .write(&[writers_record(&settings.migration, ids)])
            .map_err(progress_error)?
    };
    let mut seen = settings
        .store
        .read_as(Isolation::Uncommitted)
        .map_err(progress_error)?;
    check_name(settings, &seen)?;
    let took_over = announced
        .and_then(|mine| seen.unreleased_before(mine))
        .map(|(_, run)| run.describe());
    if let Some(mine) = announced {
        seen = await_release(settings, seen, mine)?;
    }
    let recorded = match seen.writers() {
        0 if seen.has_positions() => LEGACY_WRITERS,
        n => n,
    };
    // With exactly-once the tasks' own producers fence their ids below; with at-least-once
    // they have none, and every recorded id is fenced here.
    let others: Vec<usize> = (ids..recorded).collect();
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
    settings
        .store
        .await_no_open_transaction(settings.transaction_timeout)
        .map_err(progress_error)?;
    let progress = settings.store.read().map_err(progress_error)?;
    check_name(settings, &progress)?;
    if let Some(mine) = announced {
        superseded(settings, &progress, mine)?;
    }
    Ok(Fenced {
        producers,
        progress,
        announced,
        took_over,
    })
}

/// Waits until the at-least-once run that held the migration before this one (announced
/// before `mine`) says it ended: it holds no transactional id to fence, and records it still
/// writes after this run reads progress would be replicated twice. A run that stopped
/// without saying so (killed) is waited for at most [`release_wait`]. The progress as read
/// last.
fn await_release(
    settings: &Settings,
    mut seen: Progress,
    mine: i64,
) -> Result<Progress, ReplicateError> {
    let deadline = std::time::Instant::now() + release_wait(settings);
    let mut told = false;
    while let Some((0, run)) = seen.unreleased_before(mine) {
        if std::time::Instant::now() >= deadline {
            tracing::info!(run = %run.describe(), "The run that held the migration did not say it ended; it is taken as stopped.");
            break;
        }
        if !told {
            tracing::info!(run = %run.describe(), "Waiting for the run that holds the migration to stop.");
            told = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = settings
            .store
            .read_as(Isolation::Uncommitted)
            .map_err(progress_error)?;
    }
    Ok(seen)
}

/// How long a run waits for an at-least-once run before it to say it ended: that run sees the
/// later one within a poll and stops within a commit interval.
fn release_wait(settings: &Settings) -> std::time::Duration {
    (settings.commit_interval * 3).max(std::time::Duration::from_secs(10))
}

/// Refuses to go on when a run announced itself in `progress` after `mine`.
fn superseded(settings: &Settings, progress: &Progress, mine: i64) -> Result<(), ReplicateError> {
    if let Some(later) = progress.last_writer().filter(|w| w.offset > mine) {
        return Err(ReplicateError::Superseded {
            migration: settings.migration.clone(),
            by: later.describe(),
        });
    }
    Ok(())
}

/// Initialises transactions for task id `id` of the migration and lets go: whatever a process
/// holding the id left open is aborted, and that process cannot write with it any more.
fn fence(settings: &Settings, id: usize) -> Result<(), ReplicateError> {
    let producer =
        factory::producer(&fence_config(settings, id)).map_err(|e| ReplicateError::Client {
            side: "target",
            source: e,
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

/// The config of the producer that fences task id `id`: transactional under the task's id.
fn fence_config(settings: &Settings, id: usize) -> ClientConfig {
    let mut config =
        factory::producer_config(&settings.target, &transactional_id(&settings.migration, id));
    transactional(&mut config, settings, id);
    config
}

/// Refuses progress written by a migration of another name that maps to the same topic.
fn check_name(settings: &Settings, progress: &Progress) -> Result<(), ReplicateError> {
    match progress.foreign_writer(&settings.migration) {
        Some(theirs) => Err(ReplicateError::NameCollision {
            topic: settings.store.topic.clone(),
            ours: settings.migration.clone(),
            theirs: theirs.to_string(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::factory::{settings as set, with};

    /// The fencing producer is transactional under the task's id, and nothing more.
    #[test]
    fn the_fencing_producer_keeps_its_settings() {
        let settings = Settings::from_migration(&crate::testing::migration(""), false);
        let timeout = settings.transaction_timeout.as_millis().to_string();
        assert_eq!(
            set(&fence_config(&settings, 7)),
            with(
                &settings.target,
                &[
                    ("client.id", "kafka-migrate-m-task-7"),
                    ("transactional.id", "kafka-migrate-m-task-7"),
                    ("transaction.timeout.ms", timeout.as_str()),
                ]
            )
        );
    }
}
