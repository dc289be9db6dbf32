//! `export connect`: the Kafka Connect worker file and the three MirrorMaker 2 connector
//! configs of a migration. Pure functions of the migration, so that `plan --engine connect`
//! and `apply --engine connect` deploy exactly what `export connect` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{DeliveryMode, Migration};
use crate::quote;

use super::client::{connection, needed_env, CONFIG_PROVIDERS};
use super::filters::{self, FilterError};

/// Topic configs MirrorMaker 2 never copies (its own default of `config.properties.exclude`).
const MM2_CONFIG_EXCLUDES: [&str; 8] = [
    "follower.replication.throttled.replicas",
    "leader.replication.throttled.replicas",
    "message.timestamp.difference.max.ms",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.after.max.ms",
    "message.timestamp.type",
    "unclean.leader.election.enable",
    "min.insync.replicas",
];

const BYTES: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("the migration renames topics or groups on the target (`rename` blocks), which MirrorMaker 2 with the identity replication policy cannot do: replicate it with the built-in engine")]
    Renamed,
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One connector: its name and its config, as `POST /connectors` takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connector {
    pub name: String,
    pub config: BTreeMap<String, String>,
}

impl Connector {
    /// The file `export connect` writes it to.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.name)
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `connect-distributed.properties`: a distributed worker on the target cluster, its internal
/// topics named after the migration, with the target's security for the worker itself and its
/// `consumer.`, `producer.` and `admin.` clients.
pub fn worker_properties(migration: &Migration) -> String {
    let name = &migration.name;
    let target = connection(migration.target(), "TARGET");
    let rf = replication_factor(migration);
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(&format!(
        "# Kafka Connect distributed worker for migration \"{}\", written by `kafka-migrate export connect`.",
        comment(name)
    ));
    line("# Runs the MirrorMaker 2 connectors of this folder; it needs the connect-mirror plugin");
    if migration.target().security.aws_iam.is_some() {
        line("# and, for MSK IAM authentication, the aws-msk-iam-auth jar on its class path.");
    } else {
        line("# on its class path or plugin.path.");
    }
    let env: Vec<String> = needed_env(migration.source(), "SOURCE")
        .into_iter()
        .chain(needed_env(migration.target(), "TARGET"))
        .collect();
    if !env.is_empty() {
        line(&format!(
            "# Secrets written in the migration file are read from the environment: set {}.",
            env.join(", ")
        ));
    }
    for (side, cluster) in [
        ("source", migration.source()),
        ("target", migration.target()),
    ] {
        if !cluster.properties.is_empty() {
            let keys: Vec<&str> = cluster.properties.keys().map(String::as_str).collect();
            line(&format!(
                "# librdkafka properties of the {side} cluster are not carried over: {}.",
                comment(&keys.join(", "))
            ));
        }
    }
    line("");
    line(&format!("group.id=kafka-migrate.{name}.connect"));
    for (kind, topic) in [
        ("config", "configs"),
        ("offset", "offsets"),
        ("status", "status"),
    ] {
        line(&format!(
            "{kind}.storage.topic={}",
            super::worker_topic(name, topic)
        ));
        line(&format!("{kind}.storage.replication.factor={rf}"));
    }
    line(&format!("key.converter={BYTES}"));
    line(&format!("value.converter={BYTES}"));
    line(&format!("header.converter={BYTES}"));
    line("connector.client.config.override.policy=All");
    if migration.replication.delivery == DeliveryMode::ExactlyOnce {
        line("exactly.once.source.support=enabled");
    }
    line("");
    line("# Secrets are references resolved by these config providers, never values.");
    for (k, v) in CONFIG_PROVIDERS {
        line(&format!("{k}={v}"));
    }
    line("");
    line("# The target cluster, for the worker and its consumer, producer and admin clients.");
    for prefix in ["", "consumer.", "producer.", "admin."] {
        for (k, v) in &target {
            line(&format!("{prefix}{k}={}", escape(v)));
        }
    }
    out
}

fn escape(value: &str) -> String {
    quote::properties_value(value)
}

/// Text for a `#` comment line: one line, whatever it holds.
fn comment(text: &str) -> String {
    quote::comment(text).into_owned()
}

/// Replication factor of topics MirrorMaker 2 creates: the migration's, or the broker default.
fn replication_factor(migration: &Migration) -> i32 {
    migration.topics.replication_factor.map_or(-1, i32::from)
}

/// The MirrorSourceConnector, MirrorCheckpointConnector and MirrorHeartbeatConnector configs.
pub fn connectors(migration: &Migration) -> Result<Vec<Connector>, FilterError> {
    let common = common_config(migration);
    let with = |extra: Vec<(&str, String)>| {
        let mut config = common.clone();
        config.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
        config
    };
    let configs = [
        ("mirror-source", with(source_config(migration)?)),
        ("mirror-checkpoint", with(checkpoint_config(migration)?)),
        ("mirror-heartbeat", with(heartbeat_config(migration))),
    ];
    Ok(configs
        .into_iter()
        .map(|(kind, mut config)| {
            let connector = format!("{}.{kind}", migration.name);
            config.insert("name".into(), connector.clone());
            Connector {
                name: connector,
                config,
            }
        })
        .collect())
}

/// What every connector of the migration says: the clusters (security as config-provider
/// references), identity topic names, bytes in and out.
fn common_config(migration: &Migration) -> BTreeMap<String, String> {
    let mut config: BTreeMap<String, String> = [
        ("source.cluster.alias", super::source_alias(&migration.name)),
        ("target.cluster.alias", "target".into()),
        (
            "replication.policy.class",
            "org.apache.kafka.connect.mirror.IdentityReplicationPolicy".into(),
        ),
        ("key.converter", BYTES.into()),
        ("value.converter", BYTES.into()),
        ("header.converter", BYTES.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (prefix, cluster, side) in [
        ("source.cluster.", migration.source(), "SOURCE"),
        ("target.cluster.", migration.target(), "TARGET"),
    ] {
        for (k, v) in connection(cluster, side) {
            config.insert(format!("{prefix}{k}"), v);
        }
    }
    config
}

/// The source connector's own settings: which topics, their configs and ACLs, and how
/// records are read and written (delivery, batching, compression).
fn source_config(migration: &Migration) -> Result<Vec<(&'static str, String)>, FilterError> {
    let (topics, topics_exclude) = filters::topics(&migration.topics)?;
    let rf = replication_factor(migration).to_string();
    let r = &migration.replication;
    let mut excluded: Vec<String> = MM2_CONFIG_EXCLUDES.iter().map(|s| s.to_string()).collect();
    excluded.extend(migration.topics.config.exclude.iter().cloned());
    excluded.extend(migration.topics.config.overrides().map(|(k, _)| k.clone()));
    let compression = serde_json::to_value(r.compression)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "none".into());
    let mut config = vec![
        (
            "connector.class",
            "org.apache.kafka.connect.mirror.MirrorSourceConnector".into(),
        ),
        ("tasks.max", tasks(migration)),
        ("topics", topics),
        ("topics.exclude", topics_exclude),
        ("replication.factor", rf.clone()),
        ("offset-syncs.topic.location", "target".into()),
        ("offset-syncs.topic.replication.factor", rf),
        ("sync.topic.configs.enabled", "true".into()),
        ("config.properties.exclude", filters::join_unique(excluded)),
        ("sync.topic.acls.enabled", migration.acls.sync.to_string()),
        (
            "refresh.topics.interval.seconds",
            seconds(r.refresh_interval.0),
        ),
        // The source consumer reads `source.consumer.*`; records reach the target through
        // the worker's producer, tuned per connector with `producer.override.*`.
        ("source.consumer.isolation.level", "read_committed".into()),
        (
            "source.consumer.fetch.max.bytes",
            r.fetch_max_bytes.0.to_string(),
        ),
        ("producer.override.batch.size", r.batch_size.0.to_string()),
        (
            "producer.override.linger.ms",
            r.linger.0.as_millis().to_string(),
        ),
        ("producer.override.compression.type", compression),
    ];
    if r.delivery == DeliveryMode::ExactlyOnce {
        config.push(("exactly.once.support", "required".into()));
        config.push(("transaction.boundary", "poll".into()));
    } else {
        config.push(("producer.override.enable.idempotence", "true".into()));
        config.push(("producer.override.acks", "all".into()));
    }
    Ok(config)
}

/// The checkpoint connector's own settings: which groups, and how often their offsets are
/// translated and synced.
fn checkpoint_config(migration: &Migration) -> Result<Vec<(&'static str, String)>, FilterError> {
    let (topics, _) = filters::topics(&migration.topics)?;
    let (groups, groups_exclude) = filters::groups(&migration.consumer_groups)?;
    let sync = migration.consumer_groups.sync.to_string();
    let interval = seconds(migration.consumer_groups.sync_interval.0);
    Ok(vec![
        (
            "connector.class",
            "org.apache.kafka.connect.mirror.MirrorCheckpointConnector".into(),
        ),
        ("tasks.max", tasks(migration)),
        ("topics", topics),
        ("groups", groups),
        ("groups.exclude", groups_exclude),
        ("offset-syncs.topic.location", "target".into()),
        (
            "checkpoints.topic.replication.factor",
            replication_factor(migration).to_string(),
        ),
        ("emit.checkpoints.enabled", sync.clone()),
        ("emit.checkpoints.interval.seconds", interval.clone()),
        ("sync.group.offsets.enabled", sync),
        ("sync.group.offsets.interval.seconds", interval.clone()),
        ("refresh.groups.interval.seconds", interval),
    ])
}

/// The heartbeat connector's own settings.
fn heartbeat_config(migration: &Migration) -> Vec<(&'static str, String)> {
    vec![
        (
            "connector.class",
            "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector".into(),
        ),
        ("tasks.max", "1".into()),
        (
            "heartbeats.topic.replication.factor",
            replication_factor(migration).to_string(),
        ),
    ]
}

/// `tasks.max` of the source and checkpoint connectors.
fn tasks(migration: &Migration) -> String {
    migration.replication.tasks.max(1).to_string()
}

/// Whole seconds, at least one.
fn seconds(d: std::time::Duration) -> String {
    d.as_secs().max(1).to_string()
}

/// Writes the worker file and the connector files into `dir`; returns the paths written.
pub fn write_files(migration: &Migration, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    if migration.renames() {
        return Err(ExportError::Renamed);
    }
    let connectors = connectors(migration)?;
    let write = |path: PathBuf, text: &str| -> Result<PathBuf, ExportError> {
        std::fs::write(&path, text).map_err(|source| ExportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = vec![write(
        dir.join("connect-distributed.properties"),
        &worker_properties(migration),
    )?];
    for c in &connectors {
        written.push(write(dir.join(c.file_name()), &c.to_json())?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads an example with every `env()` set to a placeholder (`secret-of-NAME` for passwords),
    /// its paths under a fixed folder.
    fn example(file: &str) -> Migration {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        crate::config::parse_with_env(file, &text, Path::new("/etc/kafka-migrate"), &[], &|name| {
            Some(if name.contains("PASSWORD") {
                format!("secret-of-{name}")
            } else {
                format!("value-of-{name}")
            })
        })
        .unwrap()
    }

    /// Everything `export connect` writes for `file`, as one text.
    fn exported(file: &str) -> String {
        let migration = example(file);
        let mut text = format!(
            "==> connect-distributed.properties\n{}",
            worker_properties(&migration)
        );
        for c in connectors(&migration).unwrap() {
            text.push_str(&format!("\n==> {}\n{}", c.file_name(), c.to_json()));
        }
        assert!(
            !text.contains("secret-of-"),
            "a secret value was written:\n{text}"
        );
        text
    }

    // The golden files are insta snapshots: `INSTA_UPDATE=always cargo test --lib connect`
    // rewrites them.
    #[test]
    fn plaintext_export_is_pinned() {
        insta::assert_snapshot!(exported("plaintext.hcl"));
    }

    #[test]
    fn scram_export_is_pinned() {
        insta::assert_snapshot!(exported("scram.hcl"));
    }

    #[test]
    fn mtls_export_is_pinned() {
        insta::assert_snapshot!(exported("mtls.hcl"));
    }

    #[test]
    fn msk_iam_export_is_pinned() {
        insta::assert_snapshot!(exported("msk-iam.hcl"));
    }

    #[test]
    fn values_are_escaped_as_java_properties() {
        assert_eq!(escape("a\\b"), "a\\\\b");
        assert_eq!(
            escape("x\nconsumer.bootstrap.servers=evil:9092"),
            "x\\nconsumer.bootstrap.servers=evil:9092"
        );
        assert_eq!(escape("\r\t\u{c}\u{1}"), "\\r\\t\\f\\u0001");
        assert_eq!(escape(" lead"), "\\ lead");
        assert_eq!(escape("é𝄞"), "\\u00E9\\uD834\\uDD1E");
        assert_eq!(escape("${env:X}"), "${env:X}");
    }

    #[test]
    fn no_value_writes_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"
name = "m"
cluster "source" { bootstrap_servers = ["a:9092"] }
cluster "target" {
  bootstrap_servers = ["b:9096"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region  = "eu-west-1"
      profile = "p\"awsRoleArn=\"arn:aws:iam::1:role/evil"
    }
  }
}
"#;
        let migration = crate::config::parse("m.hcl", text, dir.path(), &[]).expect("valid");
        let worker = worker_properties(&migration);
        let mut jaas_lines = 0;
        for line in worker.lines() {
            assert!(!line.starts_with("awsRoleArn"), "{line}");
            if let Some(jaas) = line.strip_prefix("sasl.jaas.config=") {
                assert!(
                    jaas.contains(r#"awsProfileName="p\\"awsRoleArn=\\"arn"#),
                    "{jaas}"
                );
                jaas_lines += 1;
            }
        }
        assert_eq!(jaas_lines, 1, "{worker}");
    }

    #[test]
    fn every_connector_replicates_with_identity_names_and_target_offset_syncs() {
        for file in ["plaintext.hcl", "scram.hcl", "mtls.hcl", "msk-iam.hcl"] {
            let migration = example(file);
            for c in connectors(&migration).unwrap() {
                assert_eq!(
                    c.config["replication.policy.class"],
                    "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
                );
                if !c.name.ends_with("heartbeat") {
                    assert_eq!(c.config["offset-syncs.topic.location"], "target");
                }
                // Client tuning only under prefixes MirrorMaker 2 reads.
                for key in c.config.keys() {
                    assert!(
                        !key.starts_with("target.producer.")
                            && !key.starts_with("source.producer."),
                        "{file} {}: {key}",
                        c.name
                    );
                }
            }
        }
    }
}
