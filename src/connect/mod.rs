//! The Kafka Connect engine: the same migration run by MirrorMaker 2 connectors on a Kafka
//! Connect cluster. It writes the worker properties and connector configs (`export connect`),
//! submits them to a Connect cluster's REST API and waits for their tasks (`apply --engine
//! connect`), diffs them against what is deployed (`plan --engine connect`), and tells what
//! MirrorMaker 2 has replicated (for `verify`). It never replicates records itself.
//!
//! - `client`: security settings → Java client properties, secrets as config-provider references;
//! - `filters`: topic and group selections → MirrorMaker 2's comma-separated regexes;
//! - `export`: the worker file and the three connector configs;
//! - `limits`: the source connector's client sizes for the topics' record size limits;
//! - `rest`: the Connect REST API client;
//! - `deploy`: submit, wait for RUNNING, wait for lag 0, diff against the deployed configs;
//! - `mirrored`: MirrorMaker 2's replication state, read from both clusters' offsets.

mod client;
mod deploy;
mod export;
mod filters;
mod limits;
mod mirrored;
mod rest;

pub use deploy::{
    config_diff, deploy, deployed_diffs, mirror_lag, mirrored_status, wait_running, wait_synced,
    ConnectorDiff, DeployError,
};
pub use export::{connectors, worker_properties, write_files, Connector, ExportError};
pub use filters::FilterError;
pub use limits::with_record_limits;
pub use mirrored::mirror_progress;
pub use rest::{ConnectClient, ConnectorState, RestError, TaskState};

/// MirrorMaker 2's alias of the source cluster: the migration's name, so that its internal
/// topics (offset syncs, checkpoints) name the migration.
pub fn source_alias(migration: &str) -> String {
    migration.to_string()
}

/// The Connect worker's internal topic of `kind` (`configs`, `offsets`, `status`) for this
/// migration, on the target.
pub fn worker_topic(migration: &str, kind: &str) -> String {
    format!("kafka-migrate.{migration}.connect-{kind}")
}

/// The offset-syncs topic MirrorMaker 2 keeps on the target for this migration; its presence
/// on the target says that MirrorMaker 2 replicated the migration.
pub fn offset_syncs_topic(migration: &str) -> String {
    format!("mm2-offset-syncs.{}.internal", source_alias(migration))
}
