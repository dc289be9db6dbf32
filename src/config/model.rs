//! The validated migration: what `validate` checks and every other command works from.
//! Field docs are user documentation: the JSON Schema and the README's HCL reference are
//! generated from them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use super::rename::Rename;
use super::secret::Secret;
use super::values::{ByteSize, HumanDuration, PatternSet};

/// A migration from a source Kafka cluster to a target cluster.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// Names the migration: the progress topic (`kafka-migrate.NAME.progress`) and the
    /// transactional ids of the engine derive from it. Letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// The clusters, as `cluster "source" { … }` and `cluster "target" { … }` blocks.
    #[serde(rename = "cluster")]
    pub clusters: Clusters,
    /// Which topics to migrate and how their configs are carried over.
    #[serde(default)]
    pub topics: TopicSelection,
    /// Whether ACLs are copied to the target.
    #[serde(default)]
    pub acls: AclSync,
    /// Whether client quotas are copied to the target.
    #[serde(default)]
    pub quotas: QuotaSync,
    /// Which consumer groups get their offsets translated and synced.
    #[serde(default)]
    pub consumer_groups: GroupSelection,
    /// How records are replicated.
    #[serde(default)]
    pub replication: Replication,
    /// When `verify` says the migration is ready for cutover.
    #[serde(default)]
    pub cutover: Cutover,
    /// The schema registry whose storage topic `verify` reads to check the schema ids that
    /// records carry.
    #[serde(default)]
    pub schema_registry: SchemaRegistry,
    /// Whether, after `cutover`, apply replicates back from the target to the source (so
    /// that `rollback` can return to the source exactly).
    #[serde(default)]
    pub failback: Failback,
    /// Every secret value the file gave (passwords, secret properties, `env()`, `file()` and
    /// `sensitive` variables): output checks its text against them.
    #[serde(skip)]
    #[schemars(skip)]
    pub secrets: super::secret::SecretValues,
    /// For commands that do not connect: `env()` variables that were not set, each told with
    /// its position (see `config::load_offline`).
    #[serde(skip)]
    #[schemars(skip)]
    pub unset_env: Vec<String>,
}

/// The two `cluster` blocks, by label.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clusters {
    /// The cluster migrated from (read only: the tool never writes to it).
    pub source: ClusterConfig,
    /// The cluster migrated to (topics, configs, ACLs, group offsets and the progress topic
    /// are written here).
    pub target: ClusterConfig,
}

/// How to reach one cluster.
#[derive(Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Brokers to bootstrap from, as `host:port`.
    pub bootstrap_servers: Vec<String>,
    /// Protocol and credentials. Without a `security` block: PLAINTEXT.
    #[serde(default)]
    pub security: Security,
    /// Extra librdkafka client properties, passed through as they are. Names must be
    /// librdkafka's and values ones it takes; a property that a typed setting above also
    /// sets is an error. Values of secret properties (names with password, secret, key,
    /// token, jaas, pem, oauthbearer or credential) are never shown.
    #[serde(default, serialize_with = "super::secret::serialize_properties")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub properties: BTreeMap<String, String>,
    /// Target only: which kind of Amazon MSK cluster it is, so that `plan` applies its rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msk: Option<super::msk::Msk>,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("security", &self.security)
            .field(
                "properties",
                &super::secret::shown_properties(&self.properties),
            )
            .field("msk", &self.msk)
            .finish()
    }
}

/// The protocol and credentials used to connect.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.
    #[serde(default)]
    pub protocol: Protocol,
    /// SASL/PLAIN or SASL/SCRAM credentials (with SASL_PLAINTEXT or SASL_SSL).
    pub sasl: Option<Sasl>,
    /// TLS trust and, for mTLS, the client certificate (with SSL or SASL_SSL).
    pub tls: Option<Tls>,
    /// Amazon MSK IAM authentication (SASL/OAUTHBEARER over SASL_SSL).
    pub aws_iam: Option<AwsIam>,
}

/// The security protocol of the connection (librdkafka `security.protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Protocol {
    #[default]
    #[serde(rename = "PLAINTEXT")]
    Plaintext,
    #[serde(rename = "SSL")]
    Ssl,
    #[serde(rename = "SASL_PLAINTEXT")]
    SaslPlaintext,
    #[serde(rename = "SASL_SSL")]
    SaslSsl,
}

impl Protocol {
    pub const ALL: [(&'static str, Protocol); 4] = [
        ("PLAINTEXT", Protocol::Plaintext),
        ("SSL", Protocol::Ssl),
        ("SASL_PLAINTEXT", Protocol::SaslPlaintext),
        ("SASL_SSL", Protocol::SaslSsl),
    ];

    pub fn as_str(self) -> &'static str {
        Protocol::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("PLAINTEXT", |(n, _)| n)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(self, Protocol::SaslPlaintext | Protocol::SaslSsl)
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, Protocol::Ssl | Protocol::SaslSsl)
    }
}

/// SASL/PLAIN or SASL/SCRAM credentials.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sasl {
    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    pub mechanism: SaslMechanism,
    /// The SASL user name.
    pub username: String,
    /// The password: use `env("NAME")` or `file("path")`.
    pub password: Secret,
}

/// A SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum SaslMechanism {
    #[serde(rename = "PLAIN")]
    Plain,
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub const ALL: [(&'static str, SaslMechanism); 3] = [
        ("PLAIN", SaslMechanism::Plain),
        ("SCRAM-SHA-256", SaslMechanism::ScramSha256),
        ("SCRAM-SHA-512", SaslMechanism::ScramSha512),
    ];
}

impl std::fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = SaslMechanism::ALL
            .iter()
            .find(|(_, m)| m == self)
            .map_or("PLAIN", |(n, _)| n);
        f.write_str(name)
    }
}

/// TLS settings: the CA to trust and, for mTLS, the client certificate and key. Relative
/// paths are relative to the migration file.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// CA certificate(s) (PEM) to trust; the system store when absent.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for mTLS; needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// Client private key (PEM) for mTLS; needs `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Passphrase of the client key, if it is encrypted.
    pub key_password: Option<Secret>,
    /// Check that the broker's certificate names the host connected to.
    #[serde(default = "default_true")]
    pub verify_hostname: bool,
}

/// Amazon MSK IAM authentication (SASL/OAUTHBEARER): the cluster's AWS region and, optionally,
/// a shared-config profile to take credentials from and a role to assume. Credentials come
/// from the AWS default chain: environment, shared config and credentials files, a web
/// identity (`AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN`, as on EKS), the container
/// endpoint (ECS) or instance metadata (EC2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsIam {
    /// AWS region of the MSK cluster, such as "us-east-1".
    pub region: String,
    /// Shared-config profile to take credentials from.
    pub profile: Option<String>,
    /// IAM role to assume for the connection (STS AssumeRole with the chain's credentials,
    /// session name "kafka-migrate").
    pub role_arn: Option<String>,
    /// ARN of the MSK cluster, such as
    /// "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abcd1234-…-1": on the target,
    /// `export iam-policy` and `plan` translate the source's ACLs into IAM policies for it.
    pub cluster_arn: Option<String>,
}

/// Topics to migrate: a topic is migrated when it is named in `names` or matches an
/// `include` pattern, and matches no `exclude` pattern. Internal topics (`__*`) and the
/// tool's own progress topics are never migrated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicSelection {
    /// Patterns of topics to migrate; every topic when neither `include` nor `names` is set,
    /// only the `names` when just those are.
    #[serde(default = "default_match_all")]
    pub include: PatternSet,
    /// Patterns of topics to leave alone, applied after `include`.
    #[serde(default)]
    pub exclude: PatternSet,
    /// Topics to migrate by exact name; each must exist on the source.
    #[serde(default)]
    pub names: Vec<String>,
    /// Replication factor of topics created on the target; the source topic's when absent.
    pub replication_factor: Option<u16>,
    /// Which topic configs are copied.
    #[serde(default)]
    pub config: TopicConfigPolicy,
    /// The topics' names on the target: the same unless renamed (a prefix, or one by one).
    /// Progress, configs, ACLs, group offsets, verify, cutover and failback follow the
    /// target's name.
    #[serde(default, skip_serializing_if = "Rename::is_identity")]
    pub rename: Rename,
}

impl TopicSelection {
    /// Whether the migration moves `topic`.
    pub fn selects(&self, topic: &str) -> bool {
        if topic.starts_with("__") || topic.starts_with("kafka-migrate.") {
            return false;
        }
        let wanted = self.names.iter().any(|n| n == topic) || self.include.is_match(topic);
        wanted && !self.exclude.is_match(topic)
    }

    /// Topics named explicitly.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.names.iter()
    }

    /// Why the selection is empty among `topics` (every topic a cluster lists), for an
    /// error: the patterns and names, and what came closest.
    pub fn empty_selection(&self, topics: &[String]) -> EmptySelection {
        let quoted = |patterns: &PatternSet| {
            patterns
                .iter()
                .map(|p| format!("{:?}", p.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut selection = format!("include = [{}]", quoted(&self.include));
        if !self.names.is_empty() {
            selection.push_str(&format!(", names = {:?}", self.names));
        }
        if !self.exclude.is_empty() {
            selection.push_str(&format!(", exclude = [{}]", quoted(&self.exclude)));
        }
        let excluded: Vec<String> = topics
            .iter()
            .filter(|t| {
                (self.include.is_match(t) || self.names.contains(t)) && self.exclude.is_match(t)
            })
            .cloned()
            .collect();
        // What the user typed, as text: each pattern without its regex syntax, and the names.
        let wanted: Vec<String> = self
            .include
            .iter()
            .map(|p| literal_text(p.as_str()))
            .chain(self.names.iter().cloned())
            .filter(|w| !w.is_empty())
            .collect();
        let mut scored: Vec<(f64, &String)> = topics
            .iter()
            .filter(|t| !t.starts_with("__") && !t.starts_with("kafka-migrate."))
            .map(|t| {
                let score = wanted
                    .iter()
                    .map(|w| {
                        // A pattern is most often a prefix: compare it with the name's start too.
                        let start: String = t.chars().take(w.chars().count()).collect();
                        strsim::normalized_damerau_levenshtein(w, t)
                            .max(strsim::normalized_damerau_levenshtein(w, &start))
                    })
                    .fold(0.0, f64::max);
                (score, t)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        EmptySelection {
            selection,
            excluded,
            closest: scored
                .into_iter()
                .filter(|(score, _)| *score >= 0.5)
                .take(3)
                .map(|(_, t)| t.clone())
                .collect(),
        }
    }
}

/// Why no topic is selected: what the migration file says, and what came closest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptySelection {
    /// The selection as written, such as `include = ["^ordrs\\."]`.
    pub selection: String,
    /// Topics `include` or `names` selects but `exclude` leaves out.
    pub excluded: Vec<String>,
    /// The topic names closest to the patterns and names, best first (at most 3).
    pub closest: Vec<String>,
}

impl std::fmt::Display for EmptySelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no topic matches topics {{ {} }}", self.selection)?;
        if !self.excluded.is_empty() {
            let shown: Vec<&str> = self.excluded.iter().take(5).map(String::as_str).collect();
            write!(
                f,
                "; exclude leaves out each of the {} topic(s) include selects: {}{}",
                self.excluded.len(),
                shown.join(", "),
                if self.excluded.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

impl EmptySelection {
    /// What to do about it, naming the closest topics.
    pub fn help(&self, role: &str) -> String {
        if self.closest.is_empty() {
            format!("the {role} has no topic close to these patterns; change `topics` in the migration file")
        } else {
            format!(
                "the closest topic names on the {role}: {}; change `topics` in the migration file",
                self.closest.join(", ")
            )
        }
    }
}

/// `pattern` without its regex syntax: anchors, wildcards and escapes taken out
/// (`^orders\\..*` → `orders.`).
fn literal_text(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    if !next.is_ascii_alphanumeric() {
                        out.push(next);
                    }
                }
            }
            '^' | '$' | '(' | ')' | '|' | '+' | '?' | '[' | ']' | '{' | '}' => {}
            '.' if matches!(chars.peek(), Some('*') | Some('+')) => {
                chars.next();
            }
            '*' => {}
            c => out.push(c),
        }
    }
    out
}

impl Default for TopicSelection {
    fn default() -> Self {
        TopicSelection {
            include: default_match_all(),
            exclude: PatternSet::default(),
            names: Vec::new(),
            replication_factor: None,
            config: TopicConfigPolicy::default(),
            rename: Rename::default(),
        }
    }
}

/// Topic configs set on a source topic are copied to the target topic, except those
/// MirrorMaker 2 never copies (replication throttles, `message.timestamp.*`,
/// `unclean.leader.election.enable`, `min.insync.replicas`) and those in `exclude`;
/// `override` then sets values of its own.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicConfigPolicy {
    /// Config names never copied nor changed on the target.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Config values every migrated topic gets on the target.
    #[serde(default, rename = "override")]
    pub overrides: BTreeMap<String, String>,
}

impl TopicConfigPolicy {
    pub fn excludes(&self, key: &str) -> bool {
        self.exclude.iter().any(|k| k == key)
    }

    pub fn overrides(&self) -> impl Iterator<Item = (&String, &String)> {
        self.overrides.iter()
    }
}

/// ACLs: those of the migrated topics and groups are copied to the target.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AclSync {
    /// Copy the ACLs of the migrated topics and groups (and cluster and transactional-id
    /// ACLs) to the target.
    #[serde(default = "default_true")]
    pub sync: bool,
    /// Principals renamed on the way, such as `{ "User:alice" = "User:alice-msk" }`.
    #[serde(default)]
    pub principal_map: BTreeMap<String, String>,
}

impl Default for AclSync {
    fn default() -> Self {
        AclSync {
            sync: true,
            principal_map: BTreeMap::new(),
        }
    }
}

/// Client quotas (of users, client ids, both, and their defaults): those of the source are
/// created or changed on the target to match, as topic configs are. Quotas only the target
/// has are left alone; MSK Serverless has no client quotas.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaSync {
    /// Copy the source's client quotas to the target (read with DescribeClientQuotas, written
    /// with AlterClientQuotas: the credentials need DescribeConfigs on the source cluster and
    /// AlterConfigs on the target cluster).
    #[serde(default)]
    pub sync: bool,
}

/// Consumer groups whose committed offsets are translated to the target: a group is synced
/// when it matches an `include` pattern and no `exclude` pattern.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSelection {
    /// Patterns of consumer groups whose offsets are synced.
    #[serde(default = "default_match_all")]
    pub include: PatternSet,
    /// Patterns of groups to leave alone.
    #[serde(default)]
    pub exclude: PatternSet,
    /// Translate and commit group offsets on the target while replicating.
    #[serde(default = "default_true")]
    pub sync: bool,
    /// How often group offsets are synced while `apply` replicates.
    #[serde(default = "default_sync_interval")]
    pub sync_interval: HumanDuration,
    /// The groups' ids on the target: the same unless renamed (a prefix, or one by one).
    #[serde(default, skip_serializing_if = "Rename::is_identity")]
    pub rename: Rename,
}

impl GroupSelection {
    pub fn selects(&self, group: &str) -> bool {
        self.include.is_match(group) && !self.exclude.is_match(group)
    }
}

impl Default for GroupSelection {
    fn default() -> Self {
        GroupSelection {
            include: default_match_all(),
            exclude: PatternSet::default(),
            sync: true,
            sync_interval: default_sync_interval(),
            rename: Rename::default(),
        }
    }
}

/// The replication engine: parallelism, delivery guarantee, throughput and client tuning.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replication {
    /// Parallel replication tasks; each owns a disjoint set of partitions.
    #[serde(default = "default_tasks")]
    pub tasks: usize,
    /// "exactly-once" (records and progress in one target transaction) or "at-least-once".
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// Upper bound on key and value bytes replicated per second, over all tasks.
    pub max_bytes_per_second: Option<ByteSize>,
    /// How often each task commits (a transaction with exactly-once): at most a quarter of
    /// `transaction_timeout`.
    #[serde(default = "default_commit_interval")]
    pub commit_interval: HumanDuration,
    /// How long the target lets a transaction stay open before it aborts it (the producer's
    /// `transaction.timeout.ms`, at most the brokers' `transaction.max.timeout.ms`).
    #[serde(default = "default_transaction_timeout")]
    pub transaction_timeout: HumanDuration,
    /// Most key and value bytes a task puts in one commit (a transaction with exactly-once); a
    /// task holds at most this much, or half its share of `fetch_max_bytes` if less, not yet
    /// acknowledged by the target.
    #[serde(default = "default_transaction_bytes")]
    pub transaction_bytes: ByteSize,
    /// Producer `batch.size`.
    #[serde(default = "default_batch_size")]
    pub batch_size: ByteSize,
    /// Producer `linger.ms`.
    #[serde(default = "default_linger")]
    pub linger: HumanDuration,
    /// Compression of records written to the target: none, gzip, snappy, lz4 or zstd.
    #[serde(default)]
    pub compression: Compression,
    /// Source bytes prefetched over all tasks: each task fetches half its share at a time
    /// (`fetch.max.bytes`) and queues at most as much (`queued.max.messages.kbytes`).
    #[serde(default = "default_fetch_max_bytes")]
    pub fetch_max_bytes: ByteSize,
    /// How often a running apply looks for topics and partitions created on the source since
    /// it started, creates them on the target and replicates them too.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: HumanDuration,
    /// Retriable failures in a row (broker unavailable, timeouts) after which apply gives up;
    /// each restarts the tasks from committed progress after 1, 2, 4 … 32 s.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            tasks: default_tasks(),
            delivery: DeliveryMode::default(),
            max_bytes_per_second: None,
            commit_interval: default_commit_interval(),
            transaction_timeout: default_transaction_timeout(),
            transaction_bytes: default_transaction_bytes(),
            batch_size: default_batch_size(),
            linger: default_linger(),
            compression: Compression::default(),
            fetch_max_bytes: default_fetch_max_bytes(),
            refresh_interval: default_refresh_interval(),
            max_retries: default_max_retries(),
        }
    }
}

/// The delivery guarantee of replication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub enum DeliveryMode {
    #[default]
    #[serde(rename = "exactly-once")]
    ExactlyOnce,
    #[serde(rename = "at-least-once")]
    AtLeastOnce,
}

/// Compression codec of records written to the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

/// The checks `verify` makes before saying the migration is ready for cutover.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cutover {
    /// How long the source's end offsets must stand still (producers stopped) before cutover.
    #[serde(default = "default_quiet_period")]
    pub quiet_period: HumanDuration,
    /// Data parity check: "none", "sample" (bounded random ranges) or "full".
    #[serde(default)]
    pub data_check: DataCheck,
    /// Largest replication lag (records, per partition) that still counts as caught up.
    #[serde(default)]
    pub max_lag: u64,
}

impl Default for Cutover {
    fn default() -> Self {
        Cutover {
            quiet_period: default_quiet_period(),
            data_check: DataCheck::default(),
            max_lag: 0,
        }
    }
}

/// A schema registry (Confluent Schema Registry, Karapace) that keeps its schemas in a topic
/// of the source. When the source has that topic, `verify` checks that every record framed
/// with a schema id (magic byte 0, then the id) finds the same schema under that id in the
/// target's copy of the topic.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaRegistry {
    /// The registry's storage topic (Confluent's `kafkastore.topic`, Karapace's
    /// `topic_name`).
    #[serde(default = "default_registry_topic")]
    pub topic: String,
}

impl Default for SchemaRegistry {
    fn default() -> Self {
        SchemaRegistry {
            topic: default_registry_topic(),
        }
    }
}

fn default_registry_topic() -> String {
    "_schemas".to_string()
}

/// Replication back to the source after the cutover.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Failback {
    /// After `cutover`, `apply` appends what producers write to the target to the same
    /// source partitions (exactly once) and translates groups back: the source is written.
    #[serde(default)]
    pub enabled: bool,
}

/// How much replicated data `verify` compares with the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataCheck {
    None,
    #[default]
    Sample,
    Full,
}

fn default_true() -> bool {
    true
}
fn default_match_all() -> PatternSet {
    PatternSet::match_all()
}
fn default_tasks() -> usize {
    4
}
fn default_max_retries() -> u32 {
    6
}
fn default_commit_interval() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(1))
}
fn default_transaction_timeout() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(60))
}
fn default_transaction_bytes() -> ByteSize {
    ByteSize(48 << 20)
}
fn default_batch_size() -> ByteSize {
    ByteSize(1 << 20)
}
fn default_linger() -> HumanDuration {
    HumanDuration(std::time::Duration::from_millis(5))
}
fn default_fetch_max_bytes() -> ByteSize {
    ByteSize(50 << 20)
}
fn default_refresh_interval() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30))
}
fn default_sync_interval() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(10))
}
fn default_quiet_period() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30))
}

impl Migration {
    /// A digest of the settings as validated, secrets left out (they serialise redacted): a
    /// saved plan carries it, and a changed file makes the plan stale. A rotated password
    /// does not.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether topics or groups have other names on the target.
    pub fn renames(&self) -> bool {
        !self.topics.rename.is_identity() || !self.consumer_groups.rename.is_identity()
    }

    pub fn source(&self) -> &ClusterConfig {
        &self.clusters.source
    }

    pub fn target(&self) -> &ClusterConfig {
        &self.clusters.target
    }

    /// What `validate` and `plan` warn about, one line each: settings that weaken the
    /// migration's security (TLS verification turned off), and `env()` variables read unset
    /// by a command that does not connect.
    pub fn warnings(&self) -> Vec<String> {
        [("source", self.source()), ("target", self.target())]
            .into_iter()
            .flat_map(|(side, cluster)| {
                super::cluster::insecure_settings(cluster)
                    .into_iter()
                    .map(move |(setting, why)| {
                        format!(
                            "cluster \"{side}\": {setting} turns TLS verification off ({why}); \
                             anyone between this tool and the brokers can read what it sends, \
                             credentials included"
                        )
                    })
            })
            .chain(self.unset_env.iter().cloned())
            .collect()
    }

    /// The migration as JSON, for `validate --json`: every secret value redacted.
    pub fn to_json(&self) -> serde_json::Value {
        let value = serde_json::to_value(self).unwrap_or_default();
        self.secrets.redact_json(value)
    }

    /// One line for `validate` (secret values redacted).
    pub fn summary(&self) -> String {
        let side = |c: &ClusterConfig| {
            let auth = match (&c.security.sasl, &c.security.aws_iam, &c.security.tls) {
                (Some(s), _, _) => format!("/{}", s.mechanism),
                (_, Some(_), _) => "/AWS_MSK_IAM".to_string(),
                (_, _, Some(t)) if t.cert_file.is_some() => "/mTLS".to_string(),
                _ => String::new(),
            };
            format!(
                "{} broker(s) {}{auth}",
                c.bootstrap_servers.len(),
                c.security.protocol.as_str()
            )
        };
        let delivery = match self.replication.delivery {
            DeliveryMode::ExactlyOnce => "exactly-once",
            DeliveryMode::AtLeastOnce => "at-least-once",
        };
        let line = format!(
            "\"{}\": source {} → target {}; {} include pattern(s), {} named topic(s); {delivery} with {} task(s)",
            self.name,
            side(self.source()),
            side(self.target()),
            self.topics.include.len(),
            self.topics.names.len(),
            self.replication.tasks
        );
        self.secrets.scrub(&line)
    }
}
