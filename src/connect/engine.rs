//! The Connect engine as `plan` and `apply` use it: which connectors a migration wants (sized
//! for the topics' record limits), refused when the other engine has replicated the migration;
//! and the apply sequence — configure the connectors, wait for their tasks to run and, until
//! synced, for MirrorMaker 2 to catch up — told step by step to the caller, who draws it.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{names, Migration};
use crate::plan::Engine;
use crate::replicate::Status;
use crate::survey::{ReplicatedBy, Snapshot};

use super::{deploy, wait_running, wait_synced, ConnectClient, Connector, DeployError};

/// How long `apply --engine connect` waits for every connector and task to run.
const RUNNING_TIMEOUT: Duration = Duration::from_secs(300);
/// How long `apply --engine connect --until-synced` waits for MirrorMaker 2 to catch up.
const SYNC_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Why the chosen engine cannot go on with a migration, or its connectors cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("MirrorMaker 2 has replicated migration \"{migration}\" to the target (its topic {marker} is there): the built-in engine would copy every record again")]
    MirroredBefore { migration: String, marker: String },
    #[error("kafka-migrate's engine has replicated migration \"{migration}\" to the target (its progress topic {progress} is there): MirrorMaker 2 would copy every record again")]
    ReplicatedBefore { migration: String, progress: String },
    #[error(transparent)]
    Filter(#[from] super::FilterError),
}

impl EngineError {
    /// What the user does about it.
    pub fn help(&self) -> &'static str {
        match self {
            EngineError::MirroredBefore { .. } => "go on with --engine connect --connect-url URL",
            EngineError::ReplicatedBefore { .. } => "go on without --engine connect",
            EngineError::Filter(_) => {
                "write the pattern without a comma (for example `{2}` instead of `{1,2}`)"
            }
        }
    }
}

/// With the Connect engine, the connectors the migration wants; `None` with the built-in one.
///
/// Each engine keeps its own record of what it replicated: switching engines mid-migration
/// would copy everything again, so it is refused.
pub fn for_engine(
    migration: &Migration,
    engine: Engine,
    snapshot: &Snapshot,
) -> Result<Option<Vec<Connector>>, EngineError> {
    match (engine, snapshot.replicated_by) {
        (Engine::Native, ReplicatedBy::MirrorMaker2) => {
            return Err(EngineError::MirroredBefore {
                migration: migration.name.clone(),
                marker: names::offset_syncs_topic(&migration.name),
            })
        }
        (Engine::Connect, ReplicatedBy::Engine) => {
            return Err(EngineError::ReplicatedBefore {
                migration: migration.name.clone(),
                progress: names::progress_topic(&migration.name),
            })
        }
        (Engine::Native, _) => return Ok(None),
        (Engine::Connect, _) => {}
    }
    let mut connectors = super::connectors(migration)?;
    let limits = crate::plan::record_limits(
        migration,
        &snapshot.source_inventory,
        &snapshot.target_inventory,
    );
    // Sized for the topics' record size limits, which only the clusters tell: these settings
    // are not in what `export connect` writes.
    super::with_record_limits(&mut connectors, &limits);
    Ok(Some(connectors))
}

/// A step of `apply --engine connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A connector's config was put on the Connect cluster.
    Configured { connector: String },
    /// A connector and its tasks run.
    Running { connector: String, tasks: usize },
    /// MirrorMaker 2 caught up: lag 0 over `partitions`.
    CaughtUp { partitions: usize },
}

/// Puts the connector configs, waits for every task to run and, with `until_synced`, for
/// MirrorMaker 2 to catch up; tells `step` as it goes. The source connector must run a task
/// when the migration selects topics (`has_topics`).
pub async fn run(
    client: &ConnectClient,
    migration: &Migration,
    connectors: &[Connector],
    has_topics: bool,
    until_synced: bool,
    mut step: impl FnMut(Step),
) -> Result<Option<Status>, DeployError> {
    deploy(client, connectors, |c| {
        step(Step::Configured {
            connector: c.name.clone(),
        })
    })
    .await?;
    let mut min_tasks = BTreeMap::new();
    if has_topics {
        if let Some(source) = connectors.first() {
            min_tasks.insert(source.name.clone(), 1);
        }
    }
    for s in wait_running(client, connectors, &min_tasks, RUNNING_TIMEOUT).await? {
        step(Step::Running {
            connector: s.name.clone(),
            tasks: s.tasks.len(),
        });
    }
    if !until_synced {
        return Ok(None);
    }
    let status = wait_synced(migration, SYNC_TIMEOUT).await?;
    step(Step::CaughtUp {
        partitions: status.partitions.len(),
    });
    Ok(Some(status))
}
