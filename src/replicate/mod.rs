//! The data engine: every record of the selected topics, from the source to the same topic and
//! partition of the target, in order, with key, value, headers and timestamp, exactly once (or
//! at least once), resumable from progress stored on the target. Never changes metadata.

mod assign;
mod fence;
mod limits;
pub mod memory;
mod run;
mod status;
mod sweep;
mod task;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use assign::{assign, task_count};
pub use run::{replicate, replicate_watching, RunSummary};
pub use status::{status, PartitionStatus, Status};
pub use task::is_retriable;

use crate::cluster::{factory, Role};
use crate::state::{Position, Store};

/// How records are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Records and progress in one target transaction: after any crash, every source record
    /// is on the target exactly once.
    ExactlyOnce,
    /// Idempotent producer, progress after delivery: duplicates only after a crash.
    AtLeastOnce,
}

/// Everything the engine needs, resolved from the migration file. Its `Debug` shows secret
/// client properties (passwords, keys, tokens) as `**REDACTED**`.
pub struct Settings {
    pub migration: String,
    /// The migration's progress topic on the target.
    pub store: Store,
    /// librdkafka properties (security included) for each side.
    pub source: BTreeMap<String, String>,
    pub target: BTreeMap<String, String>,
    /// How the cluster read and the cluster written name the source's topics: the engine
    /// keeps its progress under the source's names.
    pub source_names: crate::config::Rename,
    pub target_names: crate::config::Rename,
    pub tasks: usize,
    pub delivery: Delivery,
    pub commit_interval: Duration,
    pub max_batch_records: usize,
    /// Key and value bytes per transaction at most (bounds memory: a batch is held until its
    /// transaction commits).
    pub max_batch_bytes: usize,
    pub transaction_timeout: Duration,
    pub request_timeout: Duration,
    pub until_synced: bool,
    pub producer_tuning: BTreeMap<String, String>,
    pub consumer_tuning: BTreeMap<String, String>,
    pub throttle: Option<Throttle>,
    /// Retriable failures in a row after which a run gives up.
    pub max_retries: u32,
    /// Per topic, the largest record batch the target topic accepts: a record that cannot fit
    /// stops the run before it is sent. Empty when unknown, or when compression may shrink
    /// records below the limit.
    pub record_limits: BTreeMap<String, u64>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::config::shown_properties as shown;
        f.debug_struct("Settings")
            .field("migration", &self.migration)
            .field("store", &self.store)
            .field("source", &shown(&self.source))
            .field("target", &shown(&self.target))
            .field("source_names", &self.source_names)
            .field("target_names", &self.target_names)
            .field("tasks", &self.tasks)
            .field("delivery", &self.delivery)
            .field("commit_interval", &self.commit_interval)
            .field("max_batch_records", &self.max_batch_records)
            .field("max_batch_bytes", &self.max_batch_bytes)
            .field("transaction_timeout", &self.transaction_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("until_synced", &self.until_synced)
            .field("producer_tuning", &shown(&self.producer_tuning))
            .field("consumer_tuning", &shown(&self.consumer_tuning))
            .field("throttle", &self.throttle)
            .field("max_retries", &self.max_retries)
            .field("record_limits", &self.record_limits)
            .finish()
    }
}

impl Settings {
    /// Engine settings for `migration`: client properties of both sides, tuning from its
    /// `replication` block.
    pub fn from_migration(migration: &crate::config::Migration, until_synced: bool) -> Settings {
        use crate::config::{Compression, DeliveryMode};
        let r = &migration.replication;
        let pairs = |items: &[(&str, String)]| -> BTreeMap<String, String> {
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        let compression = match r.compression {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        };
        let (queue, prefetch) = memory::tuning(r.tasks, r.fetch_max_bytes.0, r.transaction_bytes.0);
        Settings {
            migration: migration.name.clone(),
            store: Store::of(migration),
            source: factory::properties(migration, Role::Source),
            target: factory::properties(migration, Role::Target),
            source_names: crate::config::Rename::default(),
            target_names: migration.topics.rename.clone(),
            tasks: r.tasks,
            delivery: match r.delivery {
                DeliveryMode::ExactlyOnce => Delivery::ExactlyOnce,
                DeliveryMode::AtLeastOnce => Delivery::AtLeastOnce,
            },
            commit_interval: r.commit_interval.0,
            max_batch_records: 200_000,
            max_batch_bytes: r.transaction_bytes.0 as usize,
            transaction_timeout: r.transaction_timeout.0,
            request_timeout: Duration::from_secs(30),
            until_synced,
            producer_tuning: pairs(&[
                ("batch.size", r.batch_size.0.to_string()),
                ("linger.ms", r.linger.0.as_millis().to_string()),
                ("compression.type", compression.to_string()),
            ])
            .into_iter()
            .chain(queue)
            .collect(),
            consumer_tuning: prefetch,
            throttle: r
                .max_bytes_per_second
                .map(|b| b.0)
                .or_else(|| crate::plan::msk::default_throttle(migration))
                .map(Throttle::new),
            max_retries: r.max_retries,
            record_limits: BTreeMap::new(),
        }
    }

    /// Sizes the clients for the selected topics' record size limits: every record the
    /// target topic accepts is replicated, one it refuses stops the run naming it.
    pub fn with_record_limits(mut self, limits: &crate::plan::RecordLimits) -> Settings {
        let (producer, consumer) =
            limits::tuning(limits, &self.producer_tuning, &self.consumer_tuning);
        self.producer_tuning.extend(producer);
        self.consumer_tuning.extend(consumer);
        memory::fit_largest_record(&mut self.producer_tuning);
        let uncompressed = self
            .producer_tuning
            .get("compression.type")
            .is_none_or(|c| c == "none");
        if uncompressed {
            self.record_limits = limits.target.clone();
        }
        self
    }

    /// Counts `bytes` sent against `max_bytes_per_second`: how long to pause before sending
    /// more (zero while within the rate).
    pub fn throttle(&self, bytes: usize) -> Duration {
        self.throttle
            .as_ref()
            .map_or(Duration::ZERO, |t| t.take(bytes as u64))
    }
}

/// A byte-rate limit shared by all tasks: a token bucket holding at most one second of bytes.
#[derive(Debug)]
pub struct Throttle {
    bytes_per_second: u64,
    state: Mutex<(f64, Instant)>,
}

impl Throttle {
    /// The bound, in bytes per second.
    pub fn bytes_per_second(&self) -> u64 {
        self.bytes_per_second
    }

    pub fn new(bytes_per_second: u64) -> Throttle {
        Throttle {
            bytes_per_second: bytes_per_second.max(1),
            state: Mutex::new((bytes_per_second as f64, Instant::now())),
        }
    }

    /// Takes `bytes` from the bucket: how long the bucket is in debt (the caller pauses that
    /// long, outside any transaction, before sending more).
    pub fn take(&self, bytes: u64) -> Duration {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = *guard;
        let now = Instant::now();
        let rate = self.bytes_per_second as f64;
        let refilled = (tokens + now.duration_since(last).as_secs_f64() * rate).min(rate);
        let left = refilled - bytes as f64;
        *guard = (left, now);
        if left < 0.0 {
            Duration::from_secs_f64(-left / rate)
        } else {
            Duration::ZERO
        }
    }
}

/// What the engine reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A partition's progress was committed.
    Committed {
        topic: String,
        partition: i32,
        position: Position,
        records: u64,
        bytes: u64,
    },
    /// A task committed a batch; `commit` is how long delivering and committing it took.
    Replicated {
        task: usize,
        records: u64,
        bytes: u64,
        commit: std::time::Duration,
    },
    /// A run failed with a retriable error; the tasks start again from committed progress
    /// after `wait`.
    Retrying {
        error: String,
        attempt: u32,
        wait: std::time::Duration,
    },
    /// A task's partitions all reached the source's last stable offset.
    Synced { task: usize },
    /// This run took the migration over from the run that held it (`from` describes it): a
    /// run still going stops.
    TakingOver { from: String },
}

/// Why replication stopped. Committed progress is intact in every case.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReplicateError {
    #[error("could not create the {side} client: {source}")]
    Client {
        side: &'static str,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("task {task} was fenced: another kafka-migrate process is running this migration (transactional id {transactional_id})")]
    #[diagnostic(help(
        "only one apply may run per migration; this one stopped, the other continues"
    ))]
    Fenced {
        task: usize,
        transactional_id: String,
    },
    #[error("records {from}..{to} of {topic} partition {partition} expired on the source before they were replicated: they are lost")]
    #[diagnostic(help("retention on the source overtook the migration; raise retention.ms on the source topic, then decide how to handle the gap"))]
    RecordsLost {
        topic: String,
        partition: i32,
        from: i64,
        to: i64,
    },
    #[error("task {task}: writing {topic} partition {partition} to the target failed ({}): {source}", retriability(*retriable))]
    Delivery {
        task: usize,
        topic: String,
        partition: i32,
        retriable: bool,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("{topic} partition {partition} offset {offset}: the record takes {size} bytes in a record batch, over {whose} of {limit} bytes (fatal: record too large)")]
    #[diagnostic(help("raise max.message.bytes of the target topic (`topics.config.override = {{ \"max.message.bytes\" = \"…\" }}` before it is created) or the target brokers' message.max.bytes; the run resumes at this record"))]
    RecordTooLarge {
        topic: String,
        partition: i32,
        offset: i64,
        size: u64,
        limit: u64,
        /// Which limit: the target topic's, or the producer's.
        whose: &'static str,
    },
    #[error("task {task}: {operation} on the target failed ({}): {source}", retriability(*retriable))]
    Producer {
        task: usize,
        operation: &'static str,
        retriable: bool,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("task {task}: reading the source failed ({}): {source}", retriability(*retriable))]
    Consumer {
        task: usize,
        retriable: bool,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("another run of migration \"{migration}\" took it over: {by}; this one stopped, having committed what it replicated")]
    #[diagnostic(help(
        "only one run may replicate a migration at a time; the later one continues from committed progress"
    ))]
    Superseded { migration: String, by: String },
    #[error("migration \"{migration}\" was cut over at {at} while this run replicated: it stopped, having committed what it replicated")]
    #[diagnostic(help(
        "the target is the system of record now; to go back, run `kafka-migrate rollback` (with failback enabled)"
    ))]
    CutOverWhileRunning { migration: String, at: String },
    #[error("fatal: the progress topic {topic} was deleted from the target while this run replicated: it stopped (what it replicated is on the target, but where it got to is lost)")]
    #[diagnostic(help(
        "do not delete the migration's progress topic while it runs; to start the migration over, delete the topics it created on the target too (`kafka-migrate destroy`), then apply again"
    ))]
    ProgressTopicDeleted { topic: String },
    #[error("the progress topic {topic} holds the progress of migration \"{theirs}\", not \"{ours}\": the two names map to one progress topic")]
    #[diagnostic(help(
        "names that differ only in `.` and `_` share a progress topic; give this migration another name"
    ))]
    NameCollision {
        topic: String,
        ours: String,
        theirs: String,
    },
    #[error("task {task}: a transaction stayed open {open_for_s} s, longer than the transaction timeout of {timeout_s} s, and the target aborted it (nothing of it was committed; retriable): {error}")]
    #[diagnostic(help(
        "the target was slow to take a batch; if it happens again, lower replication.commit_interval or transaction_bytes, or raise replication.transaction_timeout"
    ))]
    TransactionTimedOut {
        task: usize,
        open_for_s: u64,
        timeout_s: u64,
        error: String,
    },
    #[error("reading the migration's progress from the target failed: {0}")]
    Progress(String),
    #[error("a replication task panicked: {0}")]
    Panicked(String),
    #[error("stopped after retrying {retries} time(s): {last}")]
    #[diagnostic(help(
        "committed progress is intact: run apply again once the cluster is reachable (replication.max_retries sets how many failures in a row apply rides through)"
    ))]
    RetriesExhausted {
        retries: u32,
        #[source]
        last: Box<ReplicateError>,
    },
}

impl ReplicateError {
    /// Whether starting the tasks again from committed progress may succeed: broker
    /// unavailability, timeouts, leader moves and failed progress reads, as opposed to
    /// authorization, oversized records, deleted topics, fencing and lost records.
    pub fn is_retriable(&self) -> bool {
        match self {
            ReplicateError::Delivery { retriable, .. }
            | ReplicateError::Producer { retriable, .. }
            | ReplicateError::Consumer { retriable, .. } => *retriable,
            ReplicateError::Progress(_) | ReplicateError::TransactionTimedOut { .. } => true,
            ReplicateError::Client { .. }
            | ReplicateError::Fenced { .. }
            | ReplicateError::Superseded { .. }
            | ReplicateError::CutOverWhileRunning { .. }
            | ReplicateError::ProgressTopicDeleted { .. }
            | ReplicateError::NameCollision { .. }
            | ReplicateError::RecordsLost { .. }
            | ReplicateError::RecordTooLarge { .. }
            | ReplicateError::Panicked(_)
            | ReplicateError::RetriesExhausted { .. } => false,
        }
    }
}

fn retriability(retriable: bool) -> &'static str {
    if retriable {
        "retriable"
    } else {
        "fatal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings and the store hold both clusters' passwords, keys and tokens in clear for the
    /// clients; a debug print of them shows none.
    #[test]
    fn debug_shows_no_secret() {
        let text = r#"name = "m"
cluster "source" {
  bootstrap_servers = ["a:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "u"
      password  = "SECRET-MARKER-sasl"
    }
    tls { key_password = "SECRET-MARKER-key" }
  }
  properties = { "ssl.key.pem" = "SECRET-MARKER-pem" }
}
cluster "target" {
  bootstrap_servers = ["b:1"]
  security {
    protocol = "SASL_PLAINTEXT"
    sasl {
      mechanism = "PLAIN"
      username  = "t"
      password  = "SECRET-MARKER-target"
    }
  }
}
"#;
        let m =
            crate::config::parse_with_env("m.hcl", text, std::path::Path::new("."), &[], &|_| None)
                .unwrap();
        let settings = Settings::from_migration(&m, false);
        assert!(settings
            .source
            .values()
            .any(|v| v.contains("SECRET-MARKER")));
        let shown = format!("{settings:?} {:#?} {:?}", settings, settings.store);
        assert!(!shown.contains("SECRET-MARKER"), "{shown}");
        assert!(
            shown.contains("sasl.password") && shown.contains("**REDACTED**"),
            "{shown}"
        );
    }

    #[test]
    fn a_serverless_target_gets_its_ingress_limit_as_the_default_throttle() {
        let m = crate::plan::msk::tests::migration("type = \"serverless\"", "");
        assert_eq!(
            Settings::from_migration(&m, false)
                .throttle
                .map(|t| t.bytes_per_second()),
            Some(200 << 20)
        );
    }

    #[test]
    fn the_throttle_lets_a_second_of_bytes_through_at_once_then_paces() {
        let t = Throttle::new(1_000_000);
        assert_eq!(t.take(1_000_000), Duration::ZERO);
        // 100 kB over budget at 1 MB/s: about 100 ms of debt to pause for.
        let wait = t.take(100_000);
        assert!(
            wait >= Duration::from_millis(95) && wait <= Duration::from_millis(101),
            "{wait:?}"
        );
    }

    fn delivery(code: rdkafka::types::RDKafkaErrorCode) -> ReplicateError {
        let source = rdkafka::error::KafkaError::MessageProduction(code);
        ReplicateError::Delivery {
            task: 0,
            topic: "orders".into(),
            partition: 3,
            retriable: task::is_retriable(&source),
            source,
        }
    }

    #[test]
    fn broker_unavailability_is_retried_from_committed_progress() {
        use rdkafka::types::RDKafkaErrorCode as C;
        for code in [
            C::AllBrokersDown,
            C::BrokerTransportFailure,
            C::NotLeaderForPartition,
            C::LeaderNotAvailable,
            C::RequestTimedOut,
            C::MessageTimedOut,
            C::NotEnoughReplicas,
            C::FencedLeaderEpoch,
            C::DestroyBroker,
        ] {
            let e = delivery(code);
            assert!(e.is_retriable(), "{code:?}");
            assert!(e.to_string().contains("(retriable)"), "{e}");
        }
        assert!(ReplicateError::Progress("timed out".into()).is_retriable());
        // Once the retries run out, the last error is reported and not retried again.
        let gave_up = ReplicateError::RetriesExhausted {
            retries: 6,
            last: Box::new(delivery(C::AllBrokersDown)),
        };
        assert!(!gave_up.is_retriable());
        assert!(
            gave_up
                .to_string()
                .starts_with("stopped after retrying 6 time(s): task"),
            "{gave_up}"
        );
    }

    #[test]
    fn authorization_oversized_records_and_deleted_topics_stop_the_run() {
        use rdkafka::types::RDKafkaErrorCode as C;
        for code in [
            C::TopicAuthorizationFailed,
            C::ClusterAuthorizationFailed,
            C::TransactionalIdAuthorizationFailed,
            C::MessageSizeTooLarge,
            C::UnknownTopicOrPartition,
            C::UnknownTopic,
        ] {
            let e = delivery(code);
            assert!(!e.is_retriable(), "{code:?}");
            let text = e.to_string();
            assert!(
                text.contains("orders partition 3") && text.contains("(fatal)"),
                "{text}"
            );
        }
        let fenced = ReplicateError::Fenced {
            task: 1,
            transactional_id: "m-1".into(),
        };
        assert!(!fenced.is_retriable());
        let lost = ReplicateError::RecordsLost {
            topic: "orders".into(),
            partition: 0,
            from: 0,
            to: 10,
        };
        assert!(!lost.is_retriable());
    }
}
