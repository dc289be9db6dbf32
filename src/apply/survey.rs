//! Surveying both clusters for a migration: connect, read both inventories (and the
//! migration's progress on the target), compute the plan, and ask the target whether it would
//! accept the plan's topic and config changes. `plan` shows the result; `apply` compares it
//! with a saved plan and carries it out.

use std::sync::Arc;

use crate::cluster::{ClusterClient, ClusterError, Inventory, Role, Scope};
use crate::config::Migration;
use crate::plan::{self, Plan};
use crate::replicate::{self, Settings};

/// Both clusters, what they hold, and the plan computed from them.
pub struct Survey {
    pub source: ClusterClient,
    pub target: ClusterClient,
    pub source_inventory: Inventory,
    pub target_inventory: Inventory,
    pub plan: Plan,
}

/// Reads both clusters and plans the migration.
pub async fn survey(migration: &Migration) -> Result<Survey, ClusterError> {
    let source = ClusterClient::connect(
        Role::Source,
        &crate::auth::client_properties(migration.source()),
    )
    .await?;
    let target = ClusterClient::connect(
        Role::Target,
        &crate::auth::client_properties(migration.target()),
    )
    .await?;
    let progress_topic = replicate::progress_topic(&migration.name);
    let selects_topic = |t: &str| migration.topics.selects(t);
    let selects_topic_or_progress = |t: &str| t == progress_topic || migration.topics.selects(t);
    let selects_group = |g: &str| migration.consumer_groups.selects(g);
    let source_inventory = source
        .inventory(&Scope {
            topic: &selects_topic,
            group: &selects_group,
        })
        .await?;
    let mut target_inventory = target
        .inventory(&Scope {
            topic: &selects_topic_or_progress,
            group: &selects_group,
        })
        .await?;
    if target_inventory.topics.contains_key(&progress_topic) {
        let settings = Arc::new(Settings::from_migration(migration, false));
        let progress = tokio::task::spawn_blocking(move || replicate::read_progress(&settings))
            .await
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?;
        target_inventory.replicated = progress.replicated();
    }
    let mut plan = plan::diff(migration, &source_inventory, &target_inventory);
    plan.blockers
        .extend(super::validate_on_target(&target, &plan.actions).await?);
    Ok(Survey {
        source,
        target,
        source_inventory,
        target_inventory,
        plan,
    })
}
