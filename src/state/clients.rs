//! The clients the tool points at either cluster: their librdkafka configs and contexts.
//! Every consumer reads committed records by assignment and never commits; every producer
//! collects its delivery reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

/// A topic and partition.
pub type PartitionKey = (String, i32);

/// A librdkafka config holding `props` (connection and security of one cluster).
pub fn client_config(props: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (k, v) in props {
        config.set(k, v);
    }
    config
}

/// The config of a consumer that reads committed records by assignment and never commits:
/// the only kind of consumer the tool points at either cluster. `role` names it in its
/// `group.id` (which no offsets are ever committed for) and `client.id`.
pub fn reader_config(
    props: &BTreeMap<String, String>,
    migration: &str,
    role: &str,
) -> ClientConfig {
    let mut config = client_config(props);
    let id = crate::config::names::client_id(migration, role);
    config
        .set("group.id", &id)
        .set("client.id", &id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed");
    config
}

/// Delivery reports of the current batch: the highest target offset per partition, and the
/// first error.
#[derive(Default)]
struct Deliveries {
    max_offset: HashMap<PartitionKey, i64>,
    error: Option<(PartitionKey, KafkaError)>,
}

/// The context of every producer the tool points at the target (the engine's tasks, the
/// progress writer): collects delivery reports of the open batch.
#[derive(Default)]
pub struct DeliveryContext {
    deliveries: Mutex<Deliveries>,
}

impl ClientContext for DeliveryContext {
    crate::auth::oauth_refresh_hook!();
}

impl DeliveryContext {
    /// The first delivery error since the last call, if any.
    pub fn take_error(&self) -> Option<(PartitionKey, KafkaError)> {
        let mut d = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        d.error.take()
    }

    /// The highest offset delivered per partition since the last call.
    pub fn take_delivered(&self) -> HashMap<PartitionKey, i64> {
        let mut d = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut d.max_offset)
    }
}

/// The context of every consumer the tool points at either cluster (all read to the end of
/// partitions, by assignment): end-of-partition events are expected, not errors.
#[derive(Default, Clone, Copy)]
pub struct ReaderContext;

impl ClientContext for ReaderContext {
    crate::auth::oauth_refresh_hook!();

    fn error(&self, error: KafkaError, reason: &str) {
        let end_of_partition = matches!(error, KafkaError::PartitionEOF(_))
            || error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF);
        if !end_of_partition {
            tracing::warn!(%error, reason, "Consumer error.");
        }
    }
}

impl rdkafka::consumer::ConsumerContext for ReaderContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let mut d = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(m) => {
                let key = (m.topic().to_string(), m.partition());
                let entry = d.max_offset.entry(key).or_insert(-1);
                *entry = (*entry).max(m.offset());
            }
            Err((e, m)) => {
                if d.error.is_none() {
                    d.error = Some(((m.topic().to_string(), m.partition()), e.clone()));
                }
            }
        }
    }
}
