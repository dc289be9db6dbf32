//! The one place the tool makes librdkafka clients, for either cluster: the admin and
//! inspector clients of a [`super::ClusterClient`], the consumers that read by assignment
//! ([`ReaderContext`]: read_committed, never commit) and the producers ([`DeliveryContext`]:
//! idempotent or transactional as the caller sets).
//!
//! Every client starts from its cluster's connection and security properties
//! ([`properties`]), takes the record-size settings its caller has ([`tune`]), and gets its
//! first OAUTHBEARER token when it is made: clients that are polled renew theirs through their
//! context ([`reader`], [`producer`]), those that are not are kept supplied ([`kept_supplied`]).
//! The `*_config` functions are pure, so what each kind of client is set to is pinned by the
//! tests below. This module decides nothing about what the clients do.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rdkafka::config::{ClientConfig, FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, DeliveryResult, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use super::inventory::Role;
use crate::auth::token_supply::{self, Handle};
use crate::config::{ClusterConfig, Migration};

/// A topic and partition.
pub type PartitionKey = (String, i32);

/// The librdkafka properties of `cluster`: its connection and security settings, secrets
/// included (hand them to a client, never print them), and [`NO_AUTO_CREATE`].
pub fn cluster_properties(cluster: &ClusterConfig) -> BTreeMap<String, String> {
    let mut props = crate::auth::client_properties(cluster);
    let (key, value) = NO_AUTO_CREATE;
    props.insert(key.to_string(), value.to_string());
    props
}

/// The settings of the migration's `role` cluster.
pub fn cluster(migration: &Migration, role: Role) -> &ClusterConfig {
    match role {
        Role::Source => migration.source(),
        Role::Target => migration.target(),
    }
}

/// The librdkafka properties of the migration's `role` cluster (see [`cluster_properties`]).
pub fn properties(migration: &Migration, role: Role) -> BTreeMap<String, String> {
    cluster_properties(cluster(migration, role))
}

/// A librdkafka config holding `props` (connection and security of one cluster) and
/// [`NO_AUTO_CREATE`], over whatever `props` say: no client of the tool makes a broker create
/// a topic it names (a topic deleted while a run goes on must stop it, not come back with the
/// broker's defaults).
pub fn config(props: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = ClientConfig::new();
    if let Some(contexts) = CLIENT_DEBUG.get() {
        config.set("debug", *contexts);
    }
    for (k, v) in props {
        config.set(k, v);
    }
    let (key, value) = NO_AUTO_CREATE;
    config.set(key, value);
    config
}

/// The setting every client of the tool has: a topic it names that does not exist is an
/// error, never created by the broker (`auto.create.topics.enable`) on its behalf.
pub const NO_AUTO_CREATE: (&str, &str) = ("allow.auto.create.topics", "false");

/// librdkafka's debug contexts for every client made from now on, when asked for.
static CLIENT_DEBUG: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Every client made from now on logs librdkafka's debug `contexts` (comma-separated, such as
/// `broker,security`) through the process's log.
pub fn debug_clients(contexts: &'static str) {
    let _ = CLIENT_DEBUG.set(contexts);
}

/// Sets `tuning` (the record-size and prefetch settings the caller has) on `config`, over
/// what it holds.
pub fn tune(config: &mut ClientConfig, tuning: &BTreeMap<String, String>) {
    for (k, v) in tuning {
        config.set(k, v);
    }
}

/// The config of the admin client of a [`super::ClusterClient`] of the `role` cluster.
pub fn admin_config(role: Role, props: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = config(props);
    config.set("client.id", format!("kafka-migrate-{role}"));
    config
}

/// The config of the metadata consumer of a [`super::ClusterClient`]: it is never subscribed
/// and commits nothing.
pub fn inspector_config(role: Role, props: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = admin_config(role, props);
    config
        .set("enable.auto.commit", "false")
        .set("group.id", format!("kafka-migrate-{role}-inspector"));
    config
}

/// The config of the consumer that reads the brokers' API versions from librdkafka's debug
/// log (see [`super::release`]).
pub fn versions_config(role: Role, props: &BTreeMap<String, String>) -> ClientConfig {
    let mut config = config(props);
    config
        .set("client.id", format!("kafka-migrate-{role}-versions"))
        .set("debug", "feature")
        .set_log_level(RDKafkaLogLevel::Debug);
    config
}

/// The config of a consumer that reads committed records by assignment and never commits:
/// the only kind of consumer the tool reads records with from either cluster. `name` names it
/// in its `group.id` (which no offsets are ever committed for) and `client.id`.
pub fn reader_config(
    props: &BTreeMap<String, String>,
    migration: &str,
    name: &str,
) -> ClientConfig {
    let mut config = config(props);
    let id = crate::config::names::client_id(migration, name);
    config
        .set("group.id", &id)
        .set("client.id", &id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", "read_committed");
    config
}

/// The config of a producer named `client_id`; the caller makes it idempotent or
/// transactional.
pub fn producer_config(props: &BTreeMap<String, String>, client_id: &str) -> ClientConfig {
    let mut config = config(props);
    config.set("client.id", client_id);
    config
}

/// A reader made from `config` (see [`reader_config`]), with its first token.
pub fn reader(config: &ClientConfig) -> KafkaResult<BaseConsumer<ReaderContext>> {
    token_supply::create(config, ReaderContext)
}

/// A producer made from `config` (see [`producer_config`]), with its first token.
pub fn producer(config: &ClientConfig) -> KafkaResult<BaseProducer<DeliveryContext>> {
    token_supply::create(config, DeliveryContext::default())
}

/// A client made from `config` with `context` that is not polled where librdkafka asks for
/// tokens (an admin client, a consumer only asked for metadata): the tool supplies its tokens
/// for as long as it lives.
pub fn kept_supplied<C, T>(config: &ClientConfig, context: C) -> KafkaResult<Arc<T>>
where
    C: ClientContext,
    T: FromClientConfigAndContext<C> + Handle + Send + Sync + 'static,
{
    let client = Arc::new(config.create_with_context(context)?);
    token_supply::keep_supplied(&client, config);
    Ok(client)
}

/// Delivery reports of the current batch: the highest target offset per partition, and the
/// first error.
#[derive(Default)]
struct Deliveries {
    max_offset: HashMap<PartitionKey, i64>,
    error: Option<(PartitionKey, KafkaError)>,
}

/// The context of every producer the tool points at either cluster (the engine's tasks, the
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

/// The context of every consumer the tool reads records with from either cluster (all read
/// to the end of partitions, by assignment): end-of-partition events are expected, not errors.
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

/// What `config` sets, by name (secrets included), for tests to compare whole configs.
#[cfg(test)]
pub(crate) fn settings(config: &ClientConfig) -> BTreeMap<String, String> {
    config
        .config_map()
        .keys()
        .map(|k| (k.to_string(), config.get(k).unwrap_or_default().to_string()))
        .collect()
}

/// `props` with `extra` set over them.
#[cfg(test)]
pub(crate) fn with(
    props: &BTreeMap<String, String>,
    extra: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut all = props.clone();
    all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

/// What every client made from `props` sets, before its own settings: `props` and
/// [`NO_AUTO_CREATE`].
#[cfg(test)]
pub(crate) fn client(props: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    with(props, &[NO_AUTO_CREATE])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props() -> BTreeMap<String, String> {
        with(
            &BTreeMap::new(),
            &[
                ("bootstrap.servers", "b-1:9096,b-2:9096"),
                ("security.protocol", "SASL_SSL"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("sasl.username", "alice"),
                ("sasl.password", "secret"),
                ("client.rack", "use1-az1"),
            ],
        )
    }

    /// Every client starts from its cluster's properties from the migration file.
    #[test]
    fn the_properties_are_the_clusters_security_settings() {
        // `testing`'s fixtures are a layer above: the same migration, read here.
        let text = concat!(
            "name = \"m\"\n",
            "cluster \"source\" { bootstrap_servers = [\"a:1\"] }\n",
            "cluster \"target\" { bootstrap_servers = [\"b:1\"] }\n",
        );
        let migration =
            crate::config::parse_with_env("m.hcl", text, std::path::Path::new("."), &[], &|_| None)
                .unwrap();
        assert_eq!(
            properties(&migration, Role::Source),
            client(&crate::auth::client_properties(migration.source()))
        );
        assert_eq!(
            properties(&migration, Role::Target),
            client(&crate::auth::client_properties(migration.target()))
        );
        assert_eq!(
            properties(&migration, Role::Source)["bootstrap.servers"],
            "a:1"
        );
        // Every client refuses to have a topic created for it, whatever the file passes.
        assert_eq!(settings(&config(&props())), client(&props()));
        let asking = with(&props(), &[("allow.auto.create.topics", "true")]);
        assert_eq!(settings(&config(&asking)), client(&props()));
    }

    #[test]
    fn a_cluster_clients_admin_and_inspector_are_named_after_the_role() {
        assert_eq!(
            settings(&admin_config(Role::Target, &props())),
            with(&client(&props()), &[("client.id", "kafka-migrate-target")])
        );
        assert_eq!(
            settings(&inspector_config(Role::Source, &props())),
            with(
                &client(&props()),
                &[
                    ("client.id", "kafka-migrate-source"),
                    ("enable.auto.commit", "false"),
                    ("group.id", "kafka-migrate-source-inspector"),
                ]
            )
        );
    }

    #[test]
    fn the_versions_reader_logs_features_at_debug_level() {
        let config = versions_config(Role::Source, &props());
        assert_eq!(
            settings(&config),
            with(
                &client(&props()),
                &[
                    ("client.id", "kafka-migrate-source-versions"),
                    ("debug", "feature"),
                ]
            )
        );
        assert!(matches!(config.log_level, RDKafkaLogLevel::Debug));
    }

    #[test]
    fn a_reader_reads_committed_records_and_never_commits() {
        assert_eq!(
            settings(&reader_config(&props(), "orders", "verify")),
            with(
                &client(&props()),
                &[
                    ("group.id", "kafka-migrate-orders-verify"),
                    ("client.id", "kafka-migrate-orders-verify"),
                    ("enable.auto.commit", "false"),
                    ("enable.auto.offset.store", "false"),
                    ("enable.partition.eof", "true"),
                    ("isolation.level", "read_committed"),
                ]
            )
        );
    }

    #[test]
    fn a_producer_is_named_and_tuned_by_its_caller() {
        let mut config = producer_config(&props(), "kafka-migrate-orders-progress-writer");
        tune(
            &mut config,
            &with(&BTreeMap::new(), &[("message.max.bytes", "2000000")]),
        );
        assert_eq!(
            settings(&config),
            with(
                &client(&props()),
                &[
                    ("client.id", "kafka-migrate-orders-progress-writer"),
                    ("message.max.bytes", "2000000"),
                ]
            )
        );
    }
}
