//! The migration's progress topic on the target, as a store: reading it whole (committed, or
//! everything written so far), writing records outside the engine's transactions, and waiting
//! until no transaction on it is open. What the records mean is [`super::progress`]'s.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;

use super::progress::{Progress, WritersSeen};
use super::read::{partitions_of, RangeReader, ReadError};
use super::CutoverRecord;
use crate::cluster::factory::{self, ReaderContext};
use crate::cluster::Role;

/// How long a request to the target, or a read that gets nothing, may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the progress topic could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("creating a client of the target: {0}")]
    Client(#[source] KafkaError),
    #[error(transparent)]
    Read(Box<ReadError>),
    #[error("{operation} {topic}: {source}")]
    Request {
        operation: &'static str,
        topic: String,
        #[source]
        source: KafkaError,
    },
    #[error("a transaction on {topic} stayed open for {} s after every writer of the migration was fenced (last stable offset {stable}, end {end})", waited.as_secs())]
    StillOpen {
        topic: String,
        waited: Duration,
        stable: i64,
        end: i64,
    },
}

impl From<ReadError> for StoreError {
    fn from(e: ReadError) -> StoreError {
        StoreError::Read(Box::new(e))
    }
}

/// Which records a read of the progress topic sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// What committed transactions and plain writes left: the progress.
    Committed,
    /// Everything written so far, open and aborted transactions included, to the end.
    Uncommitted,
}

/// What a running engine learns from the progress topic after it announced itself: it no
/// longer holds the migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Successor {
    /// Another run announced itself (a later `apply`, or the drain of `cutover`/`rollback`).
    Run(WritersSeen),
    /// The migration was cut over: the target is the system of record.
    CutOver(CutoverRecord),
    /// The progress topic (named) was deleted: no run can keep its progress.
    Deleted(String),
}

/// How often a watch asks whether the progress topic still exists.
const GONE_CHECK: Duration = Duration::from_secs(3);

/// A migration's progress topic on the target. Its `Debug` shows secret client properties
/// as `**REDACTED**`.
#[derive(Clone)]
pub struct Store {
    pub migration: String,
    pub topic: String,
    /// librdkafka properties (security included) of the target.
    pub target: BTreeMap<String, String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("migration", &self.migration)
            .field("topic", &self.topic)
            .field("target", &crate::config::shown_properties(&self.target))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Store {
    /// The progress topic of `migration` (its name), on the target `target` connects to.
    pub fn new(migration: &str, target: BTreeMap<String, String>) -> Store {
        Store {
            migration: migration.to_string(),
            topic: crate::config::names::progress_topic(migration),
            target,
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// The progress topic of the migration file's migration.
    pub fn of(migration: &crate::config::Migration) -> Store {
        Store::new(
            &migration.name,
            factory::properties(migration, Role::Target),
        )
    }

    /// The config of the progress topic's reader.
    fn reader_config(&self, isolation: Isolation) -> ClientConfig {
        let mut config = factory::reader_config(&self.target, &self.migration, "progress-reader");
        if isolation == Isolation::Uncommitted {
            config.set("isolation.level", "read_uncommitted");
        }
        config
    }

    fn consumer(&self, isolation: Isolation) -> Result<BaseConsumer<ReaderContext>, StoreError> {
        factory::reader(&self.reader_config(isolation)).map_err(StoreError::Client)
    }

    /// The config of the progress topic's writer: idempotent, outside any transaction.
    fn writer_config(&self) -> ClientConfig {
        let mut config = factory::producer_config(
            &self.target,
            &crate::config::names::client_id(&self.migration, "progress-writer"),
        );
        config.set("enable.idempotence", "true");
        config
    }

    /// Reads the whole progress topic, committed records only: the migration's state.
    pub fn read(&self) -> Result<Progress, StoreError> {
        self.read_as(Isolation::Committed)
    }

    /// Reads the whole progress topic with the given isolation.
    pub fn read_as(&self, isolation: Isolation) -> Result<Progress, StoreError> {
        let mut reader = RangeReader::new("target", self.consumer(isolation)?, self.timeout);
        let mut progress = Progress::default();
        reader.read_topic(&self.topic, |offset, timestamp, key, value| {
            progress.fold_at(offset, timestamp, key, value)
        })?;
        Ok(progress)
    }

    /// Writes `records` (key, value) outside any transaction of the engine (for records no
    /// task owns, such as cut-over groups and writers): the offset of the last one.
    pub fn write(&self, records: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<i64>, StoreError> {
        let err = |source| StoreError::Request {
            operation: "writing to",
            topic: self.topic.clone(),
            source,
        };
        let producer = factory::producer(&self.writer_config()).map_err(StoreError::Client)?;
        for (key, value) in records {
            producer
                .send(
                    BaseRecord::<[u8], [u8]>::to(&self.topic)
                        .key(&key[..])
                        .payload(&value[..]),
                )
                .map_err(|(e, _)| err(e))?;
        }
        producer.flush(self.timeout).map_err(err)?;
        match producer.context().take_error() {
            Some((_, e)) => Err(err(e)),
            None => Ok(producer.context().take_delivered().into_values().max()),
        }
    }

    /// Whether the topic exists on the target.
    pub fn exists(&self) -> Result<bool, StoreError> {
        let consumer = self.consumer(Isolation::Committed)?;
        partitions_of(&consumer, &self.topic, self.timeout)
            .map(|p| !p.is_empty())
            .map_err(|source| StoreError::Request {
                operation: "reading the metadata of",
                topic: self.topic.clone(),
                source,
            })
    }

    /// Watches the topic from offset `after` on (everything written, read_uncommitted) until
    /// `stopped` says so: the first run that announced itself there, or the cutover once its
    /// point is recorded. `None` when stopped first.
    pub fn watch_after(
        &self,
        after: i64,
        stopped: impl Fn() -> bool,
    ) -> Result<Option<Successor>, StoreError> {
        let err = |source| StoreError::Request {
            operation: "watching",
            topic: self.topic.clone(),
            source,
        };
        let consumer = self.consumer(Isolation::Uncommitted)?;
        let mut assignment = rdkafka::TopicPartitionList::new();
        for partition in partitions_of(&consumer, &self.topic, self.timeout).map_err(err)? {
            assignment
                .add_partition_offset(&self.topic, partition, rdkafka::Offset::Offset(after + 1))
                .map_err(err)?;
        }
        consumer.assign(&assignment).map_err(err)?;
        // Whether the topic is gone (deleted while the run went on), asked now and then and
        // on any error: the run's progress can no longer be kept.
        let gone =
            || partitions_of(&consumer, &self.topic, self.timeout).is_ok_and(|p| p.is_empty());
        let mut asked = Instant::now();
        while !stopped() {
            if asked.elapsed() >= GONE_CHECK {
                if gone() {
                    return Ok(Some(Successor::Deleted(self.topic.clone())));
                }
                asked = Instant::now();
            }
            let Some(polled) = consumer.poll(Duration::from_millis(200)) else {
                continue;
            };
            let m = match polled {
                Ok(m) => m,
                Err(KafkaError::PartitionEOF(_)) => continue,
                Err(e) => {
                    if gone() {
                        return Ok(Some(Successor::Deleted(self.topic.clone())));
                    }
                    tracing::debug!(error = %e, topic = %self.topic, "Watching the progress topic: an error, going on.");
                    continue;
                }
            };
            use rdkafka::message::Message;
            let mut seen = Progress::default();
            seen.fold(m.offset(), m.key(), m.payload());
            if let Some(run) = seen.last_writer() {
                return Ok(Some(Successor::Run(run.clone())));
            }
            if let Some(cutover) = seen.cut_over() {
                return Ok(Some(Successor::CutOver(cutover.clone())));
            }
        }
        Ok(None)
    }

    /// Waits (at most `within`) until the topic's last stable offset reaches its end as it is
    /// now: every transaction on it is complete (after fencing, what was left open gets
    /// aborted).
    pub fn await_no_open_transaction(&self, within: Duration) -> Result<(), StoreError> {
        let err = |source| StoreError::Request {
            operation: "reading the offsets of",
            topic: self.topic.clone(),
            source,
        };
        let uncommitted = self.consumer(Isolation::Uncommitted)?;
        let committed = self.consumer(Isolation::Committed)?;
        let topic = &self.topic;
        let deadline = Instant::now() + within;
        for partition in partitions_of(&uncommitted, topic, self.timeout).map_err(err)? {
            let (_, end) = uncommitted
                .fetch_watermarks(topic, partition, self.timeout)
                .map_err(err)?;
            loop {
                let (_, stable) = committed
                    .fetch_watermarks(topic, partition, self.timeout)
                    .map_err(err)?;
                if stable >= end {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(StoreError::StillOpen {
                        topic: topic.clone(),
                        waited: within,
                        stable,
                        end,
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::factory::{client, settings, with};

    /// The progress topic's reader reads committed records unless told otherwise, never
    /// committing; its writer is idempotent.
    #[test]
    fn the_progress_clients_keep_their_settings() {
        let props = with(&BTreeMap::new(), &[("bootstrap.servers", "b:1")]);
        let store = Store::new("m", props.clone());
        let reader = with(
            &client(&props),
            &[
                ("group.id", "kafka-migrate-m-progress-reader"),
                ("client.id", "kafka-migrate-m-progress-reader"),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("enable.partition.eof", "true"),
                ("isolation.level", "read_committed"),
            ],
        );
        assert_eq!(settings(&store.reader_config(Isolation::Committed)), reader);
        assert_eq!(
            settings(&store.reader_config(Isolation::Uncommitted)),
            with(&reader, &[("isolation.level", "read_uncommitted")])
        );
        assert_eq!(
            settings(&store.writer_config()),
            with(
                &client(&props),
                &[
                    ("client.id", "kafka-migrate-m-progress-writer"),
                    ("enable.idempotence", "true"),
                ]
            )
        );
    }
}
