//! A connection to one side of the migration: admin and consumer clients sharing one context
//! that keeps librdkafka's error events, so a failure can say *why* (wrong password, unknown
//! CA, unreachable broker) and *where* (source or target).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::factory;
use super::inventory::Role;
use super::native::{AdminExt, AdminExtError};

/// An error talking to a cluster, naming the cluster, what was being done and why it failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{role} cluster: {operation} failed: {cause}")]
pub struct ClusterError {
    pub role: Role,
    pub operation: String,
    pub cause: String,
    pub kind: ErrorKind,
    #[help]
    pub help: Option<String>,
}

impl ClusterError {
    /// A failure of `operation` on the `role` cluster that is neither refused credentials,
    /// missing permissions nor an unreachable cluster.
    pub fn other(role: Role, operation: &str, cause: String) -> ClusterError {
        ClusterError {
            role,
            operation: operation.to_string(),
            cause,
            kind: ErrorKind::Other,
            help: None,
        }
    }
}

/// What sort of failure, for messages and for retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credentials were refused (wrong password, unknown user, bad certificate).
    Authentication,
    /// The credentials are valid but may not do this.
    Authorization,
    /// No broker answered.
    Unreachable,
    /// The cluster answered, but it is not the one the migration recorded (another cluster
    /// id).
    NotTheMigrations,
    Other,
}

/// The client context every client of the tool uses: it keeps error events for diagnosis
/// (clones share one record).
#[derive(Default, Clone)]
pub struct ClusterContext {
    errors: Arc<Mutex<Vec<String>>>,
}

impl ClusterContext {
    /// Error events librdkafka reported so far (most recent last), without duplicates.
    pub fn errors(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for e in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if !seen.contains(e) {
                seen.push(e.clone());
            }
        }
        seen
    }
}

impl ClientContext for ClusterContext {
    crate::auth::oauth_refresh_hook!();

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(%error, reason, "Kafka client error event.");
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.len() < 64 {
            errors.push(reason.to_string());
        }
    }
}

impl ConsumerContext for ClusterContext {}

/// How long connecting waits for a broker to answer at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long connecting goes on while librdkafka reports failed connections: a few reconnects,
/// for a broker that is just starting.
const GIVE_UP_TROUBLED: Duration = Duration::from_secs(3);

/// Admin and metadata access to one cluster.
pub struct ClusterClient {
    role: Role,
    admin: Arc<AdminClient<ClusterContext>>,
    consumer: Arc<BaseConsumer<ClusterContext>>,
    context: ClusterContext,
    /// The cluster's settings, for the requests made without librdkafka (client quotas).
    cluster: Option<Arc<crate::config::ClusterConfig>>,
    /// The security protocol connected with, upper case, for explaining failures.
    protocol: String,
    /// How this cluster names the source's topics and groups (the target's may differ, see
    /// [`crate::config::Rename`]). Inventories, end offsets, producers and group members are
    /// asked and told in the source's names; the plan's actions name the cluster's own.
    naming: crate::config::Naming,
}

impl ClusterClient {
    /// Connects to the migration's source or target cluster with its security settings.
    pub async fn of(
        migration: &crate::config::Migration,
        role: Role,
    ) -> Result<ClusterClient, ClusterError> {
        let cluster = factory::cluster(migration, role);
        let mut client = Self::connect(role, &factory::cluster_properties(cluster)).await?;
        client.cluster = Some(Arc::new(cluster.clone()));
        if role == Role::Target {
            client.naming = crate::config::Naming::target(migration);
        }
        Ok(client)
    }

    /// Connects with librdkafka `properties` and checks that a broker answers, turning a
    /// refusal into an error that says why.
    pub async fn connect(
        role: Role,
        properties: &BTreeMap<String, String>,
    ) -> Result<ClusterClient, ClusterError> {
        let context = ClusterContext::default();
        let create_error = |e: KafkaError| ClusterError {
            role,
            operation: "creating a client".into(),
            cause: crate::auth::client_error(&e),
            kind: ErrorKind::Other,
            help: Some("check the cluster's security settings in the migration file".into()),
        };
        // Neither client is polled where librdkafka asks for tokens: the factory supplies them.
        let admin =
            factory::kept_supplied(&factory::admin_config(role, properties), context.clone())
                .map_err(create_error)?;
        let consumer = factory::kept_supplied(
            &factory::inspector_config(role, properties),
            context.clone(),
        )
        .map_err(create_error)?;
        let client = ClusterClient {
            role,
            admin,
            consumer,
            context,
            cluster: None,
            naming: Default::default(),
            protocol: properties
                .get("security.protocol")
                .map_or("PLAINTEXT".to_string(), |p| p.to_ascii_uppercase()),
        };
        let (consumer, context) = (client.consumer(), client.context.clone());
        let probe = tokio::task::spawn_blocking(move || {
            // Short attempts, so that a cluster whose brokers refuse or fail every connection
            // is told within seconds, while a slow one that raises no error still has
            // CONNECT_TIMEOUT.
            let started = std::time::Instant::now();
            loop {
                let result = consumer.fetch_metadata(None, Duration::from_secs(1));
                // Error events are delivered when the client is polled.
                let _ = consumer.poll(Duration::from_millis(100));
                // librdkafka reported a connection refused or failed, a failed handshake or
                // authentication.
                let troubled = !context.errors().is_empty();
                // A broker that closes every connection (a listener expecting SASL or TLS)
                // raises no error event, only failed requests.
                let closed = result.as_ref().is_err_and(|e| {
                    e.rdkafka_error_code() == Some(RDKafkaErrorCode::BrokerTransportFailure)
                });
                match result {
                    Ok(_) => return Ok(()),
                    // A listener that answers but not client requests (a KRaft controller's)
                    // will not change its mind.
                    Err(e)
                        if e.rdkafka_error_code() == Some(RDKafkaErrorCode::UnsupportedFeature) =>
                    {
                        return Err(e)
                    }
                    Err(e)
                        if started.elapsed() >= CONNECT_TIMEOUT
                            || ((troubled || closed) && started.elapsed() >= GIVE_UP_TROUBLED) =>
                    {
                        return Err(e)
                    }
                    Err(_) => {}
                }
            }
        })
        .await
        .map_err(|e| client.error("connecting", e.to_string()))?;
        probe.map_err(|e| client.kafka_error("connecting", e))?;
        Ok(client)
    }

    /// The source's name of this cluster's topic `name`; none when it is no source topic's
    /// name here. The migration's own topics keep their names.
    pub fn source_topic<'a>(&'a self, name: &'a str) -> Option<Cow<'a, str>> {
        if self.naming.topics.is_identity() || own_topic(name) {
            return Some(Cow::Borrowed(name));
        }
        self.naming.topics.source_of(name)
    }

    /// This cluster's name of the source's topic `name`.
    pub fn cluster_topic<'a>(&'a self, name: &'a str) -> Cow<'a, str> {
        if own_topic(name) {
            return Cow::Borrowed(name);
        }
        self.naming.topics.target(name)
    }

    /// The source's id of this cluster's group `id`; none when it is no source group's id here.
    pub fn source_group<'a>(&'a self, id: &'a str) -> Option<Cow<'a, str>> {
        self.naming.groups.source_of(id)
    }

    /// `partitions` (the source's names) under this cluster's names.
    pub(crate) fn cluster_keys(
        &self,
        partitions: impl IntoIterator<Item = (String, i32)>,
    ) -> Vec<(String, i32)> {
        partitions
            .into_iter()
            .map(|(t, p)| (self.cluster_topic(&t).into_owned(), p))
            .collect()
    }

    /// `map` keyed by this cluster's names, keyed by the source's (keys of no source topic
    /// are left out).
    pub(crate) fn source_keys<V>(
        &self,
        map: BTreeMap<(String, i32), V>,
    ) -> BTreeMap<(String, i32), V> {
        if self.naming.topics.is_identity() {
            return map;
        }
        map.into_iter()
            .filter_map(|((t, p), v)| Some(((self.source_topic(&t)?.into_owned(), p), v)))
            .collect()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The Kafka cluster id the brokers report (`None` for brokers too old to tell it).
    pub async fn cluster_id(&self) -> Result<Option<String>, ClusterError> {
        let consumer = self.consumer();
        tokio::task::spawn_blocking(move || {
            use rdkafka::consumer::Consumer;
            consumer.client().fetch_cluster_id(CONNECT_TIMEOUT)
        })
        .await
        .map_err(|e| self.error("reading the cluster id", e.to_string()))
    }

    /// The cluster's settings, when the client was made from the migration file.
    pub(crate) fn cluster_config(&self) -> Option<&crate::config::ClusterConfig> {
        self.cluster.as_deref()
    }

    pub fn admin(&self) -> &AdminClient<ClusterContext> {
        &self.admin
    }

    pub fn consumer(&self) -> Arc<BaseConsumer<ClusterContext>> {
        self.consumer.clone()
    }

    /// Asks the cluster for the metadata of `topic` again: partitions added since this client
    /// last looked are known to its requests from then on.
    pub async fn refresh_metadata(&self, topic: &str) -> Result<(), ClusterError> {
        let (admin, name) = (self.admin.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || {
            admin
                .inner()
                .fetch_metadata(Some(&name), std::time::Duration::from_secs(30))
                .map(|_| ())
        })
        .await
        .map_err(|e| self.error("reading metadata", e.to_string()))?
        .map_err(|e| self.kafka_error(&format!("reading the metadata of topic \"{topic}\""), e))
    }

    /// The operations rust-rdkafka does not wrap (ACLs, group offsets, offset listing).
    pub fn ext(&self) -> AdminExt<ClusterContext> {
        AdminExt::new(self.admin.clone())
    }

    pub(crate) fn error(&self, operation: &str, cause: String) -> ClusterError {
        ClusterError::other(self.role, operation, cause)
    }

    /// Explains a client error with the error events the context collected.
    pub(crate) fn kafka_error(&self, operation: &str, error: KafkaError) -> ClusterError {
        let events = self.context.errors();
        let code = error.rdkafka_error_code();
        let text = events.join("; ").to_lowercase();
        if let Some(misdirected) = self.misdirected(operation, code, &events) {
            return misdirected;
        }
        let kind = if text.contains("authentication")
            || text.contains("ssl handshake")
            || text.contains("ssl transport error")
            || text.contains("certificate")
            || text.contains("alert")
        {
            ErrorKind::Authentication
        } else if matches!(
            code,
            Some(
                RDKafkaErrorCode::TopicAuthorizationFailed
                    | RDKafkaErrorCode::GroupAuthorizationFailed
                    | RDKafkaErrorCode::ClusterAuthorizationFailed
            )
        ) {
            ErrorKind::Authorization
        } else if matches!(
            code,
            Some(
                RDKafkaErrorCode::BrokerTransportFailure
                    | RDKafkaErrorCode::AllBrokersDown
                    | RDKafkaErrorCode::OperationTimedOut
            )
        ) || text.contains("connection refused")
        {
            ErrorKind::Unreachable
        } else {
            ErrorKind::Other
        };
        let cause = match (kind, events.last()) {
            // The event names the broker and the cause; the client's error adds nothing.
            (ErrorKind::Unreachable, Some(last)) => {
                format!("no broker answered: {}", plain_event(last))
            }
            (_, Some(last)) => format!("{error} ({last})"),
            (_, None) => error.to_string(),
        };
        let help = match kind {
            ErrorKind::Authentication => Some(format!(
                "check the {} cluster's credentials and TLS settings{}",
                self.role,
                authentication_hint(&text)
            )),
            ErrorKind::Authorization => Some(format!(
                "grant the {} cluster's principal the permission (ACL or IAM policy)",
                self.role
            )),
            ErrorKind::Unreachable => Some(format!(
                "check the {} cluster's bootstrap_servers and network access",
                self.role
            )),
            ErrorKind::NotTheMigrations | ErrorKind::Other => None,
        };
        ClusterError {
            role: self.role,
            operation: operation.to_string(),
            cause,
            kind,
            help,
        }
    }

    /// A failure that says the client talks to the wrong listener: a KRaft controller's
    /// (it answers, but not client requests), or one expecting SASL or TLS from a PLAINTEXT
    /// client (it closes each connection once made, without an error of its own).
    fn misdirected(
        &self,
        operation: &str,
        code: Option<RDKafkaErrorCode>,
        events: &[String],
    ) -> Option<ClusterError> {
        let role = self.role;
        let text = events.join("; ").to_lowercase();
        // The broker hung up on a connection it had accepted: nothing was refused, nor timed
        // out.
        let hung_up = [
            "broken pipe",
            "closed by peer",
            "connection reset",
            "disconnected",
        ]
        .iter()
        .any(|t| text.contains(t))
            || (code == Some(RDKafkaErrorCode::BrokerTransportFailure) && events.is_empty());
        // Only while connecting: an old broker refuses a later request it does not know,
        // and a broker restarting later also hangs up.
        if operation != "connecting" {
            return None;
        }
        let (cause, help) = match code? {
            RDKafkaErrorCode::UnsupportedFeature => (
                "the brokers named answer, but not client requests (Metadata): this is a KRaft controller's listener, or not a Kafka client listener".to_string(),
                format!(
                    "bootstrap_servers of the {role} cluster must name the brokers' client listeners (their advertised.listeners), not the controllers' (controller.quorum.voters)"
                ),
            ),
            _ if self.protocol == "PLAINTEXT" && hung_up && !text.contains("refused") => {
                (
                    "the brokers closed each connection as soon as it was made".to_string(),
                    format!(
                        "a listener that expects SASL or TLS closes a PLAINTEXT client's connections: set the {role} cluster's security.protocol (SASL_PLAINTEXT, SASL_SSL or SSL) with its sasl or tls block, or name its PLAINTEXT listener"
                    ),
                )
            }
            _ => return None,
        };
        Some(ClusterError {
            role,
            operation: operation.to_string(),
            cause,
            kind: ErrorKind::Other,
            help: Some(help),
        })
    }

    /// The end offset of each of `partitions` — the last stable offset with
    /// `ReadCommitted` — by topic and partition.
    pub async fn end_offsets(
        &self,
        partitions: impl IntoIterator<Item = (String, i32)>,
        isolation: super::native::IsolationLevel,
    ) -> Result<BTreeMap<(String, i32), i64>, ClusterError> {
        let request = self
            .cluster_keys(partitions)
            .into_iter()
            .map(|(t, p)| (t, p, super::native::OffsetSpec::Latest))
            .collect();
        let listed = self
            .ext()
            .list_offsets(request, isolation)
            .await
            .map_err(|e| self.ext_error("listing end offsets", e))?;
        Ok(self.source_keys(listed.into_iter().map(|(k, end)| (k, end.offset)).collect()))
    }

    pub(crate) fn ext_error(&self, operation: &str, error: AdminExtError) -> ClusterError {
        let kind = if error.is_authorization() {
            ErrorKind::Authorization
        } else {
            ErrorKind::Other
        };
        ClusterError {
            role: self.role,
            operation: operation.to_string(),
            cause: error.to_string(),
            kind,
            help: None,
        }
    }
}

/// A librdkafka connection event without its bookkeeping: the address family marker
/// (`ipv4#`) and the trailing `(after 0ms in state CONNECT, …)`.
fn plain_event(event: &str) -> String {
    let event = match event.rfind(" (after ") {
        Some(at) if event.ends_with(')') => &event[..at],
        _ => event,
    };
    event.replace("ipv4#", "").replace("ipv6#", "")
}

/// What an authentication failure's error text says about its cause, for the help line.
fn authentication_hint(text: &str) -> &'static str {
    if text.contains("certificate verify failed") {
        ": the broker's certificate is not signed by a CA in tls.ca_file (or the system store)"
    } else if text.contains("alert unknown ca")
        || text.contains("alert bad certificate")
        || text.contains("alert certificate required")
        || text.contains("alert handshake failure")
    {
        ": the broker refused the client certificate (tls.cert_file / tls.key_file)"
    } else if text.contains("invalid credentials") || text.contains("authentication failed") {
        ": the broker refused the SASL user name or password"
    } else if text.contains("invalid_token") {
        ": the broker refused the OAUTHBEARER token — for MSK IAM, check the AWS credentials, \
         that aws_iam.region is the cluster's region, and that the IAM policy allows \
         kafka-cluster:Connect"
    } else {
        ""
    }
}

/// Topics the migration keeps for itself (its progress, MirrorMaker 2's offset syncs): named
/// the same whatever the migration renames.
fn own_topic(name: &str) -> bool {
    name.starts_with("kafka-migrate.") || name.starts_with("mm2-offset-syncs.")
}

#[cfg(test)]
mod tests {
    use super::plain_event;

    #[test]
    fn connection_events_lose_librdkafka_bookkeeping() {
        assert_eq!(
            plain_event(
                "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused \
                 (after 0ms in state CONNECT, 1 identical error(s) suppressed)"
            ),
            "127.0.0.1:1/bootstrap: Connect to 127.0.0.1:1 failed: Connection refused"
        );
        assert_eq!(
            plain_event("nohost:9092/bootstrap: Failed to resolve 'nohost:9092': Name or service not known (after 2ms in state CONNECT)"),
            "nohost:9092/bootstrap: Failed to resolve 'nohost:9092': Name or service not known"
        );
        assert_eq!(plain_event("all brokers down"), "all brokers down");
    }
}
