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
//! - `engine`: the connectors `plan`/`apply` want, and the apply sequence step by step;

mod client;
mod deploy;
mod engine;
mod export;
mod filters;
mod limits;
mod rest;

pub use deploy::{
    config_diff, deploy, deployed_diffs, mirror_lag, mirrored_status, wait_running, wait_synced,
    ConnectorDiff, DeployError,
};
pub use engine::{for_engine, run, EngineError, Step};
pub use export::{connectors, worker_properties, write_files, Connector, ExportError};
pub use filters::FilterError;
pub use limits::with_record_limits;
pub use rest::{CaError, ConnectClient, ConnectorState, RestError, TaskState};

pub use crate::config::names::{offset_syncs_topic, source_alias, worker_topic};
