//! One replication task: it owns a set of source partitions, reads them (read_committed, by
//! assignment, never committing to the source) and writes each record to the same topic and
//! partition of the target, together with the partitions' progress.
//!
//! Exactly-once: records and progress go to the target in one transaction per commit
//! interval; the transactional id is stable per migration and task, so a restarted or
//! duplicated task fences the old one. At-least-once: an idempotent producer, progress written
//! after the records were delivered.
//!
//! The task runs on a blocking thread: librdkafka's consumer, producer and transaction calls
//! block.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, Timestamp, TopicPartitionList};

use super::sweep::{self, Sweeps};
use super::{Delivery, Event, ReplicateError, Settings};
use crate::cluster::factory::{self, DeliveryContext, PartitionKey, ReaderContext};
use crate::config::names::transactional_id;
use crate::state::progress::{index_due_after, index_key, position_records, ProgressValue};
use crate::state::{Position, Progress};

/// How long an idle task goes without writing to the target.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// Where a partition stands in this task.
struct PartitionState {
    /// Committed alignment (what the progress topic says).
    committed: Position,
    /// Source offset after the last record sent in the open batch.
    pending_next_source: Option<i64>,
    records: u64,
    bytes: u64,
    pending_records: u64,
    pending_bytes: u64,
    last_index_source: Option<i64>,
    /// Index records no translation needs any more (below the source's log start), to be
    /// tombstoned in the next transaction.
    obsolete_index: Vec<i64>,
}

/// A task's target producer, prepared by [`Task::prepare`].
pub struct TaskProducer(BaseProducer<DeliveryContext>);

impl std::ops::Deref for TaskProducer {
    type Target = BaseProducer<DeliveryContext>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub struct Task {
    pub id: usize,
    pub partitions: Vec<PartitionKey>,
}

impl Task {
    /// The task's target producer, its transactions initialised with exactly-once: from then
    /// on no other process holding this task's transactional id can commit, and what such a
    /// process left open is aborted. Call it for every task before reading progress.
    pub fn prepare(&self, settings: &Settings) -> Result<TaskProducer, ReplicateError> {
        let producer = self.producer(settings)?;
        if settings.delivery == Delivery::ExactlyOnce {
            producer
                .init_transactions(settings.transaction_timeout)
                .map_err(|e| self.producer_error(settings, "initialising transactions", e, None))?;
        }
        Ok(producer)
    }

    /// Runs until `stop` is set (then drains and commits), or — with `until_synced` — until
    /// every partition has reached the source's last stable offset and that is committed.
    /// The throttle (`max_bytes_per_second`) waits between transactions, never inside one.
    pub fn run(
        &self,
        producer: TaskProducer,
        settings: &Settings,
        progress: &Progress,
        stop: &AtomicBool,
        events: &dyn Fn(Event),
    ) -> Result<(), ReplicateError> {
        let consumer = self.consumer(settings)?;
        let mut states = self.resume(settings, progress, &consumer)?;
        tracing::info!(
            task = self.id,
            partitions = self.partitions.len(),
            "Replication task started."
        );
        let mut last_write = Instant::now();
        let mut throttled = Duration::ZERO;
        let mut sweeps = Sweeps::new();
        loop {
            pause(throttled, stop);
            let stopping = stop.load(Ordering::Relaxed);
            let opened = Instant::now();
            if settings.delivery == Delivery::ExactlyOnce {
                producer.begin_transaction().map_err(|e| {
                    self.producer_error(settings, "beginning a transaction", e, None)
                })?;
            }
            let batch = self.fill_batch(settings, &producer, &consumer, &mut states, stopping)?;
            let (idle, filled) = (batch.idle, Instant::now());
            throttled = batch.throttled;
            let delivered = self.await_deliveries(settings, &producer, opened)?;
            tracing::trace!(
                task = self.id,
                idle,
                delivered_ms = filled.elapsed().as_millis() as u64,
                "Batch delivered."
            );
            // An idle task still rewrites its positions now and then, so that a newer process
            // with the same transactional id fences it promptly instead of at the next record.
            let heartbeat = last_write.elapsed() >= HEARTBEAT_INTERVAL;
            let sweep_started = Instant::now();
            let sweep = sweeps.due(sweep_started, batch.idle);
            let consumed = if sweep {
                positions(settings, &consumer, states.keys())
            } else {
                positions(
                    settings,
                    &consumer,
                    states
                        .iter()
                        .filter(|(_, s)| s.pending_next_source.is_some())
                        .map(|(key, _)| key),
                )
            }
            .map_err(|e| self.consumer_error(e))?;
            let mut swept = sweep_started.elapsed();
            let moved = self
                .write_progress(
                    settings,
                    &producer,
                    &mut states,
                    &delivered,
                    &consumed,
                    heartbeat,
                )
                .map_err(|e| self.in_transaction(settings, e, opened))?;
            if !moved.is_empty() {
                last_write = Instant::now();
            }
            let commit = match settings.delivery {
                Delivery::ExactlyOnce => producer.commit_transaction(settings.transaction_timeout),
                Delivery::AtLeastOnce => producer.flush(settings.transaction_timeout),
            };
            commit.map_err(|e| {
                self.producer_error(settings, "committing a transaction", e, Some(opened))
            })?;
            tracing::trace!(
                task = self.id,
                commit_ms = filled.elapsed().as_millis() as u64,
                "Batch committed."
            );
            let (mut records, mut bytes) = (0, 0);
            for (key, position, indexed) in moved {
                let Some(s) = states.get_mut(&key) else {
                    continue;
                };
                s.committed = position;
                s.records += s.pending_records;
                s.bytes += s.pending_bytes;
                records += s.pending_records;
                bytes += s.pending_bytes;
                s.pending_records = 0;
                s.pending_bytes = 0;
                s.pending_next_source = None;
                if indexed.is_some() {
                    s.last_index_source = indexed;
                }
                events(Event::Committed {
                    topic: key.0,
                    partition: key.1,
                    position,
                    records: s.records,
                    bytes: s.bytes,
                });
            }
            if records > 0 {
                events(Event::Replicated {
                    task: self.id,
                    records,
                    bytes,
                    commit: filled.elapsed(),
                });
            }
            if stopping {
                return Ok(());
            }
            // Whether the task caught up is asked only with a sweep: it looks at every partition.
            let synced = sweep && settings.until_synced && idle && {
                let asked = Instant::now();
                let synced = self.synced(settings, &consumer, &states);
                swept += asked.elapsed();
                synced
            };
            if sweep {
                sweeps.done(Instant::now(), swept);
            }
            if synced {
                if settings.delivery == Delivery::ExactlyOnce {
                    self.await_readable(settings, &states);
                }
                tracing::info!(task = self.id, "Task caught up with the source.");
                events(Event::Synced { task: self.id });
                return Ok(());
            }
        }
    }

    /// Sends records until the commit interval or batch size is reached, the throttle asks
    /// for a pause, or the source has nothing more right now (the batch is idle then).
    fn fill_batch(
        &self,
        settings: &Settings,
        producer: &BaseProducer<DeliveryContext>,
        consumer: &BaseConsumer<ReaderContext>,
        states: &mut BTreeMap<PartitionKey, PartitionState>,
        stopping: bool,
    ) -> Result<Batch, ReplicateError> {
        let started = Instant::now();
        let mut sent = 0usize;
        let mut bytes = 0usize;
        let mut throttled = Duration::ZERO;
        while !stopping
            && throttled.is_zero()
            && bytes < settings.max_batch_bytes
            && started.elapsed() < settings.commit_interval
            && sent < settings.max_batch_records
        {
            match consumer.poll(Duration::from_millis(50)) {
                // Nothing buffered right now: an empty batch ends (the task is idle); a batch
                // with records keeps filling until the commit interval.
                None if sent == 0 => {
                    return Ok(Batch {
                        idle: true,
                        throttled,
                    })
                }
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                // One source broker's connection failed: the consumer reconnects and follows
                // its partitions to their new leaders by itself (the context logs it).
                Some(Err(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::BrokerTransportFailure,
                ))) => {}
                Some(Err(e)) => return Err(self.consumer_error(e)),
                Some(Ok(m)) => {
                    let size = m.key().map_or(0, <[u8]>::len) + m.payload().map_or(0, <[u8]>::len);
                    throttled = settings.throttle(size);
                    self.send(settings, producer, &m)?;
                    sent += 1;
                    bytes += size;
                    let topic = settings.source_names.source_of(m.topic());
                    let topic = topic.map_or_else(|| m.topic().to_string(), |t| t.into_owned());
                    if let Some(s) = states.get_mut(&(topic, m.partition())) {
                        s.pending_next_source = Some(m.offset() + 1);
                        s.pending_records += 1;
                        s.pending_bytes += size as u64;
                    }
                }
            }
        }
        Ok(Batch {
            idle: false,
            throttled,
        })
    }

    /// Waits until every record sent is acknowledged; the highest target offset per partition.
    fn await_deliveries(
        &self,
        settings: &Settings,
        producer: &BaseProducer<DeliveryContext>,
        opened: Instant,
    ) -> Result<HashMap<PartitionKey, i64>, ReplicateError> {
        producer
            .flush(settings.transaction_timeout)
            .map_err(|e| self.producer_error(settings, "delivering records", e, Some(opened)))?;
        if let Some(((topic, partition), e)) = producer.context().take_error() {
            return Err(self.in_transaction(
                settings,
                ReplicateError::Delivery {
                    task: self.id,
                    topic,
                    partition,
                    retriable: is_retriable(&e),
                    source: e,
                },
                opened,
            ));
        }
        let delivered = producer.context().take_delivered();
        if settings.target_names.is_identity() {
            return Ok(delivered);
        }
        // Delivered under the target's names; the task keeps the source's.
        Ok(delivered
            .into_iter()
            .map(|((topic, partition), offset)| {
                let source = settings.target_names.source_of(&topic);
                let topic = source.map_or_else(|| topic.clone(), |t| t.into_owned());
                ((topic, partition), offset)
            })
            .collect())
    }

    /// Produces a position record (and an index record when due) for every partition whose
    /// source position moved: past the records sent, or past control records and aborted
    /// transactions the consumer skipped (`consumed`: the consumer's positions, of the
    /// partitions asked about).
    fn write_progress(
        &self,
        settings: &Settings,
        producer: &BaseProducer<DeliveryContext>,
        states: &mut BTreeMap<PartitionKey, PartitionState>,
        delivered: &HashMap<PartitionKey, i64>,
        consumed: &HashMap<PartitionKey, i64>,
        heartbeat: bool,
    ) -> Result<Vec<(PartitionKey, Position, Option<i64>)>, ReplicateError> {
        let due = due_positions(states, |key| consumed.get(key).copied(), heartbeat);
        for (key, s) in states.iter_mut() {
            for next_source in std::mem::take(&mut s.obsolete_index) {
                let k = index_key(&key.0, key.1, next_source);
                let tombstone: BaseRecord<'_, [u8], [u8]> =
                    BaseRecord::to(&settings.store.topic).key(&k[..]);
                send_with_backoff(producer, tombstone)
                    .map_err(|e| self.producer_error(settings, "writing progress", e, None))?;
            }
        }
        let mut moved = Vec::new();
        for (key, next_source) in due {
            let Some(s) = states.get_mut(&key) else {
                continue;
            };
            let next_source = next_source.max(s.committed.next_source);
            let next_target = delivered
                .get(&key)
                .map_or(s.committed.next_target, |o| o + 1);
            let position = Position {
                next_source,
                next_target,
            };
            let value = ProgressValue {
                position,
                records: s.records + s.pending_records,
                bytes: s.bytes + s.pending_bytes,
            };
            // The alignment this batch started from is kept as an index entry every
            // INDEX_INTERVAL source offsets (and for the very first batch).
            let start = s.committed;
            let index_due = index_due_after(s.last_index_source, start.next_source);
            for (k, v) in position_records(&key.0, key.1, value, index_due.then_some(start)) {
                let record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(&settings.store.topic)
                    .key(&k[..])
                    .payload(&v[..]);
                send_with_backoff(producer, record)
                    .map_err(|e| self.producer_error(settings, "writing progress", e, None))?;
            }
            moved.push((
                key.clone(),
                position,
                index_due.then_some(start.next_source),
            ));
        }
        Ok(moved)
    }

    /// Whether every partition's committed position has reached the source's end, as the
    /// consumer last saw it in a fetch response (no extra request). A transaction left open
    /// on the source holds this back until it completes.
    fn synced(
        &self,
        settings: &Settings,
        consumer: &BaseConsumer<ReaderContext>,
        states: &BTreeMap<PartitionKey, PartitionState>,
    ) -> bool {
        states.iter().all(|((topic, partition), s)| {
            sweep::cached_end(consumer, &settings.source_names.target(topic), *partition)
                .is_some_and(|end| s.committed.next_source >= end)
        })
    }

    /// The config of the task's target producer: idempotent, transactional with exactly-once.
    fn producer_config(&self, settings: &Settings) -> ClientConfig {
        let mut config = factory::producer_config(
            &settings.target,
            &transactional_id(&settings.migration, self.id),
        );
        config.set("enable.idempotence", "true").set("acks", "all");
        factory::tune(&mut config, &settings.producer_tuning);
        if settings.delivery == Delivery::ExactlyOnce {
            transactional(&mut config, settings, self.id);
        }
        config
    }

    fn producer(&self, settings: &Settings) -> Result<TaskProducer, ReplicateError> {
        factory::producer(&self.producer_config(settings))
            .map(TaskProducer)
            .map_err(|e| ReplicateError::Client {
                side: "target",
                source: e,
            })
    }

    /// The config of the task's source consumer.
    fn consumer_config(&self, settings: &Settings) -> ClientConfig {
        let mut config = factory::reader_config(
            &settings.source,
            &settings.migration,
            &format!("task-{}", self.id),
        );
        config.set("auto.offset.reset", "error");
        factory::tune(&mut config, &settings.consumer_tuning);
        config.set(
            "fetch.queue.backoff.ms",
            super::memory::fetch_queue_backoff_ms(self.partitions.len()).to_string(),
        );
        config
    }

    fn consumer(&self, settings: &Settings) -> Result<BaseConsumer<ReaderContext>, ReplicateError> {
        factory::reader(&self.consumer_config(settings)).map_err(|e| ReplicateError::Client {
            side: "source",
            source: e,
        })
    }

    /// Waits until the last record the task committed to each partition is readable on the
    /// target. A commit returns before the transaction's markers reach the partitions, and
    /// until they do read_committed consumers (those switched over, `verify`) stop short of
    /// its records. Not reaching them within the transaction timeout is logged, not fatal:
    /// the records are committed.
    fn await_readable(&self, settings: &Settings, states: &BTreeMap<PartitionKey, PartitionState>) {
        use crate::state::{Range, RangeReader};
        let ranges: Vec<Range> = states
            .iter()
            .filter(|(_, s)| s.committed.next_target > 0)
            .map(|((topic, partition), s)| Range {
                topic: topic.clone(),
                partition: *partition,
                start: s.committed.next_target - 1,
                end: s.committed.next_target,
                limit: 1,
                last_is_committed: true,
            })
            .collect();
        if ranges.is_empty() {
            return;
        }
        let walked = factory::reader(&self.readable_config(settings))
            .map_err(|e| e.to_string())
            .and_then(|consumer| {
                RangeReader::new("target", consumer, settings.transaction_timeout)
                    .renamed(&settings.target_names)
                    .offsets(&ranges)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = walked {
            tracing::warn!(task = self.id, error = %e, "Committed records are not readable on the target yet.");
        }
    }

    /// The config of the consumer [`Task::await_readable`] reads the target with.
    fn readable_config(&self, settings: &Settings) -> ClientConfig {
        let mut config = factory::reader_config(
            &settings.target,
            &settings.migration,
            &format!("task-{}-readable", self.id),
        );
        // One record per partition is read: the task's own prefetch bounds, not librdkafka's
        // defaults (64 MiB queued, 1 MiB per partition per fetch).
        factory::tune(&mut config, &settings.consumer_tuning);
        config
    }

    /// Assigns the task's partitions at their committed positions, reporting records that
    /// expired on the source before they were replicated.
    fn resume(
        &self,
        settings: &Settings,
        progress: &Progress,
        consumer: &BaseConsumer<ReaderContext>,
    ) -> Result<BTreeMap<PartitionKey, PartitionState>, ReplicateError> {
        let lows = sweep::offsets_by_partition(&self.log_starts(settings, consumer)?);
        let read_name = |topic: &str| settings.source_names.target(topic).into_owned();
        let mut tpl = TopicPartitionList::new();
        let mut states = BTreeMap::new();
        for (topic, partition) in &self.partitions {
            let low = lows
                .get(&(read_name(topic), *partition))
                .copied()
                .unwrap_or(0);
            let known = progress.get(topic, *partition);
            // A partition never replicated starts at the source's log start: records removed
            // before the migration began were never there to copy (plan warns about them).
            let committed = known.and_then(|p| p.position).unwrap_or(Position {
                next_source: low,
                next_target: 0,
            });
            if committed.next_source < low {
                return Err(ReplicateError::RecordsLost {
                    topic: topic.clone(),
                    partition: *partition,
                    from: committed.next_source,
                    to: low,
                });
            }
            tpl.add_partition_offset(
                &read_name(topic),
                *partition,
                Offset::Offset(committed.next_source),
            )
            .map_err(|e| self.consumer_error(e))?;
            states.insert(
                (topic.clone(), *partition),
                PartitionState {
                    committed,
                    pending_next_source: None,
                    records: known.map_or(0, |p| p.records),
                    bytes: known.map_or(0, |p| p.bytes),
                    pending_records: 0,
                    pending_bytes: 0,
                    last_index_source: known.and_then(|p| p.index.last()).map(|p| p.next_source),
                    obsolete_index: known.map_or_else(Vec::new, |p| p.obsolete_index(low)),
                },
            );
        }
        consumer.assign(&tpl).map_err(|e| self.consumer_error(e))?;
        Ok(states)
    }

    /// The log start offset of each of the task's partitions, in one request per leader
    /// (not two per partition, as watermarks would take).
    fn log_starts(
        &self,
        settings: &Settings,
        consumer: &BaseConsumer<ReaderContext>,
    ) -> Result<TopicPartitionList, ReplicateError> {
        let mut earliest = TopicPartitionList::new();
        for (topic, partition) in &self.partitions {
            earliest
                .add_partition_offset(
                    &settings.source_names.target(topic),
                    *partition,
                    Offset::Beginning,
                )
                .map_err(|e| self.consumer_error(e))?;
        }
        let lows = consumer
            .offsets_for_times(earliest, settings.request_timeout)
            .map_err(|e| self.consumer_error(e))?;
        if let Some(e) = lows.elements().iter().find_map(|e| e.error().err()) {
            return Err(self.consumer_error(e));
        }
        Ok(lows)
    }

    fn send(
        &self,
        settings: &Settings,
        producer: &BaseProducer<DeliveryContext>,
        m: &rdkafka::message::BorrowedMessage<'_>,
    ) -> Result<(), ReplicateError> {
        // A record the target topic cannot take stops the run here, named, instead of failing
        // its whole batch at the broker.
        let too_large =
            |size: u64, limit: u64, whose: &'static str| ReplicateError::RecordTooLarge {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                size,
                limit,
                whose,
            };
        let source_name = settings.source_names.source_of(m.topic());
        let source_name = source_name.as_deref().unwrap_or(m.topic());
        if let Some(&limit) = settings.record_limits.get(source_name) {
            let size = super::limits::message_batch_size(m);
            if size > limit {
                return Err(too_large(
                    size,
                    limit,
                    "the target topic's max.message.bytes",
                ));
            }
        }
        let target_name = settings.target_names.target(source_name);
        let mut record: BaseRecord<'_, [u8], [u8]> =
            BaseRecord::to(&target_name).partition(m.partition());
        if let Some(k) = m.key() {
            record = record.key(k);
        }
        if let Some(v) = m.payload() {
            record = record.payload(v);
        }
        if let Some(hs) = m.headers() {
            let mut headers = OwnedHeaders::new_with_capacity(hs.count());
            for h in hs.iter() {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
            record = record.headers(headers);
        }
        match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => record = record.timestamp(t),
            Timestamp::NotAvailable => {}
        }
        send_with_backoff(producer, record).map_err(|e| {
            if e.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge) {
                let limit = settings.producer_tuning.get("message.max.bytes");
                return too_large(
                    super::limits::message_batch_size(m),
                    limit.and_then(|l| l.parse().ok()).unwrap_or(1_000_000),
                    "the producer's message.max.bytes",
                );
            }
            ReplicateError::Delivery {
                task: self.id,
                topic: m.topic().to_string(),
                partition: m.partition(),
                retriable: is_retriable(&e),
                source: e,
            }
        })
    }

    /// What a producer error means. `opened`: when the transaction it happened in began —
    /// an error after the transaction was open for the whole transaction timeout is the
    /// target aborting it for its age (the coordinator bumps the epoch, which reads like
    /// fencing), not another process.
    fn producer_error(
        &self,
        settings: &Settings,
        operation: &'static str,
        e: KafkaError,
        opened: Option<Instant>,
    ) -> ReplicateError {
        if let Some(timed_out) = opened.and_then(|o| self.timed_out(settings, o, &e)) {
            return timed_out;
        }
        if is_fenced(&e) {
            return ReplicateError::Fenced {
                task: self.id,
                transactional_id: transactional_id(&settings.migration, self.id),
            };
        }
        ReplicateError::Producer {
            task: self.id,
            operation,
            retriable: is_retriable(&e),
            source: e,
        }
    }

    /// `error`, or a transaction timeout when the transaction it happened in (begun at
    /// `opened`) was open longer than the transaction timeout.
    fn in_transaction(
        &self,
        settings: &Settings,
        error: ReplicateError,
        opened: Instant,
    ) -> ReplicateError {
        self.timed_out(settings, opened, &error).unwrap_or(error)
    }

    /// The transaction timeout `error` stands for, when the transaction begun at `opened` has
    /// been open longer than the timeout (exactly-once only).
    fn timed_out(
        &self,
        settings: &Settings,
        opened: Instant,
        error: &dyn std::fmt::Display,
    ) -> Option<ReplicateError> {
        let open_for = opened.elapsed();
        (settings.delivery == Delivery::ExactlyOnce && open_for >= settings.transaction_timeout)
            .then(|| ReplicateError::TransactionTimedOut {
                task: self.id,
                open_for_s: open_for.as_secs(),
                timeout_s: settings.transaction_timeout.as_secs(),
                error: error.to_string(),
            })
    }

    fn consumer_error(&self, e: KafkaError) -> ReplicateError {
        ReplicateError::Consumer {
            task: self.id,
            retriable: is_retriable(&e),
            source: e,
        }
    }
}

/// The partitions whose progress to write after a batch, with their next source offset: those
/// whose source position moved (past records sent, or past control records and aborted
/// transactions the consumer skipped, as `consumed` says), and those never written yet (so that
/// every partition has a position once). An idle task's heartbeat writes one partition's
/// position again, enough to be fenced by a newer process; never all of them.
/// The consumer's position of each of `keys` (the source's names), read under the names the
/// cluster read gives them (see [`sweep::positions`]).
fn positions<'a, C: rdkafka::consumer::ConsumerContext>(
    settings: &Settings,
    consumer: &BaseConsumer<C>,
    keys: impl IntoIterator<Item = &'a PartitionKey>,
) -> Result<HashMap<PartitionKey, i64>, KafkaError> {
    let names = &settings.source_names;
    if names.is_identity() {
        return sweep::positions(consumer, keys);
    }
    let renamed: Vec<PartitionKey> = keys
        .into_iter()
        .map(|(t, p)| (names.target(t).into_owned(), *p))
        .collect();
    Ok(sweep::positions(consumer, renamed.iter())?
        .into_iter()
        .filter_map(|((t, p), o)| Some(((names.source_of(&t)?.into_owned(), p), o)))
        .collect())
}

fn due_positions(
    states: &BTreeMap<PartitionKey, PartitionState>,
    consumed: impl Fn(&PartitionKey) -> Option<i64>,
    heartbeat: bool,
) -> Vec<(PartitionKey, i64)> {
    let mut due: Vec<(PartitionKey, i64)> = states
        .iter()
        .filter_map(|(key, s)| {
            let next = consumed(key)
                .unwrap_or(s.committed.next_source)
                .max(s.pending_next_source.unwrap_or(0));
            let unwritten = s.last_index_source.is_none();
            (next > s.committed.next_source || unwritten).then(|| (key.clone(), next))
        })
        .collect();
    if due.is_empty() && heartbeat {
        due.extend(
            states
                .iter()
                .next()
                .map(|(key, s)| (key.clone(), s.committed.next_source)),
        );
    }
    due
}

/// How a batch ended.
struct Batch {
    /// The source had nothing more to read right now.
    idle: bool,
    /// How long the throttle asks the task to pause before the next batch.
    throttled: Duration,
}

/// Sleeps `wait` (the throttle's pause, between transactions), ending early on `stop`.
fn pause(wait: Duration, stop: &AtomicBool) {
    let until = Instant::now() + wait;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// Makes `config` the config of the transactional producer of task `task`.
pub(super) fn transactional(config: &mut ClientConfig, settings: &Settings, task: usize) {
    config
        .set(
            "transactional.id",
            transactional_id(&settings.migration, task),
        )
        .set(
            "transaction.timeout.ms",
            settings.transaction_timeout.as_millis().to_string(),
        );
}

/// Sends, waiting for room when librdkafka's queue is full.
fn send_with_backoff<'a, C: ProducerContext>(
    producer: &BaseProducer<C>,
    mut record: BaseRecord<'a, [u8], [u8], C::DeliveryOpaque>,
) -> Result<(), KafkaError> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(20));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

fn is_fenced(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::Fenced
        )
    ) || e.to_string().contains("fenced")
}

/// Broker errors a later attempt may overcome (leader moved, queue full, timeouts) as opposed
/// to ones that will fail again (authorization, record too large, topic gone).
pub fn is_retriable(e: &KafkaError) -> bool {
    if let KafkaError::Transaction(t) = e {
        return t.is_retriable() || t.txn_requires_abort();
    }
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::QueueFull
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::NetworkException
                | RDKafkaErrorCode::NotEnoughReplicas
                | RDKafkaErrorCode::NotEnoughReplicasAfterAppend
                | RDKafkaErrorCode::CoordinatorLoadInProgress
                | RDKafkaErrorCode::CoordinatorNotAvailable
                | RDKafkaErrorCode::NotCoordinator
                | RDKafkaErrorCode::FencedLeaderEpoch
                | RDKafkaErrorCode::UnknownLeaderEpoch
                // A request in flight to a broker that left the cluster's metadata (it died).
                | RDKafkaErrorCode::DestroyBroker
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(next_source: i64, written: bool) -> PartitionState {
        PartitionState {
            committed: Position {
                next_source,
                next_target: next_source,
            },
            pending_next_source: None,
            records: 0,
            bytes: 0,
            pending_records: 0,
            pending_bytes: 0,
            last_index_source: written.then_some(0),
            obsolete_index: Vec::new(),
        }
    }

    /// Of 1,000 partitions, a commit writes the ones that moved; an idle heartbeat one.
    #[test]
    fn progress_is_written_for_partitions_that_moved_and_a_heartbeat_writes_one() {
        let key = |p: i32| ("orders".to_string(), p);
        let mut states: BTreeMap<PartitionKey, PartitionState> =
            (0..1_000).map(|p| (key(p), state(10, true))).collect();
        // Partition 3 sent records; partition 7's consumer skipped a control record.
        if let Some(s) = states.get_mut(&key(3)) {
            s.pending_next_source = Some(15);
        }
        let consumed = |k: &PartitionKey| (k.1 == 7).then_some(11);
        let due = due_positions(&states, consumed, true);
        assert_eq!(due, vec![(key(3), 15), (key(7), 11)]);
        if let Some(s) = states.get_mut(&key(3)) {
            s.pending_next_source = None;
        }
        // Nothing moved: no write, or one with the heartbeat.
        assert!(due_positions(&states, |_| None, false).is_empty());
        assert_eq!(
            due_positions(&states, |_| Some(10), true),
            vec![(key(0), 10)]
        );
        // A partition never written is written once, even without records.
        states.insert(key(1_000), state(0, false));
        assert_eq!(
            due_positions(&states, |_| None, false),
            vec![(key(1_000), 0)]
        );
    }

    /// An error in a transaction open for the whole transaction timeout is the target
    /// aborting it for its age — retriable — even when it reads like fencing; within the
    /// timeout, fencing is fencing.
    #[test]
    fn an_error_after_the_transaction_timeout_is_a_transaction_timeout_not_fencing() {
        let settings = Settings::from_migration(&crate::testing::migration(""), false);
        let task = Task {
            id: 3,
            partitions: Vec::new(),
        };
        let fenced = KafkaError::MessageProduction(RDKafkaErrorCode::ProducerFenced);
        let old = Instant::now() - settings.transaction_timeout - Duration::from_secs(1);
        let e = task.producer_error(
            &settings,
            "committing a transaction",
            fenced.clone(),
            Some(old),
        );
        assert!(
            matches!(
                e,
                ReplicateError::TransactionTimedOut {
                    task: 3,
                    timeout_s: 60,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.is_retriable());
        assert!(
            !e.to_string().contains("another kafka-migrate process"),
            "{e}"
        );
        let e = task.producer_error(
            &settings,
            "committing a transaction",
            fenced,
            Some(Instant::now()),
        );
        assert!(matches!(e, ReplicateError::Fenced { task: 3, .. }), "{e:?}");
        assert!(!e.is_retriable());
    }

    /// The task's clients are set as they always were: the producer idempotent (and
    /// transactional with exactly-once) and tuned, the consumers read_committed, tuned, never
    /// committing.
    #[test]
    fn the_tasks_clients_keep_their_settings() {
        use crate::cluster::factory::{settings as set, with};
        let mut s = Settings::from_migration(&crate::testing::migration(""), false);
        s.producer_tuning = with(&BTreeMap::new(), &[("message.max.bytes", "2000000")]);
        s.consumer_tuning = with(&BTreeMap::new(), &[("fetch.max.bytes", "3000000")]);
        let task = Task {
            id: 3,
            partitions: vec![("orders".into(), 0), ("orders".into(), 1)],
        };
        let producer = [
            ("client.id", "kafka-migrate-m-task-3"),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("message.max.bytes", "2000000"),
        ];
        s.delivery = Delivery::AtLeastOnce;
        assert_eq!(set(&task.producer_config(&s)), with(&s.target, &producer));
        s.delivery = Delivery::ExactlyOnce;
        let timeout = s.transaction_timeout.as_millis().to_string();
        let transactional = [
            ("transactional.id", "kafka-migrate-m-task-3"),
            ("transaction.timeout.ms", timeout.as_str()),
        ];
        assert_eq!(
            set(&task.producer_config(&s)),
            with(&with(&s.target, &producer), &transactional)
        );
        let reader = |name: &str| {
            let id = format!("kafka-migrate-m-{name}");
            with(
                &BTreeMap::new(),
                &[
                    ("group.id", id.as_str()),
                    ("client.id", id.as_str()),
                    ("enable.auto.commit", "false"),
                    ("enable.auto.offset.store", "false"),
                    ("enable.partition.eof", "true"),
                    ("isolation.level", "read_committed"),
                    ("fetch.max.bytes", "3000000"),
                ],
            )
        };
        let backoff = super::super::memory::fetch_queue_backoff_ms(2).to_string();
        assert_eq!(
            set(&task.consumer_config(&s)),
            with(
                &with(&s.source, &[("auto.offset.reset", "error")]),
                &[("fetch.queue.backoff.ms", backoff.as_str())]
            )
            .into_iter()
            .chain(reader("task-3"))
            .collect()
        );
        assert_eq!(
            set(&task.readable_config(&s)),
            s.target
                .clone()
                .into_iter()
                .chain(reader("task-3-readable"))
                .collect()
        );
    }
}
