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
    let mut progress = None;
    if target_inventory.topics.contains_key(&progress_topic) {
        let settings = Arc::new(Settings::from_migration(migration, false));
        let read = tokio::task::spawn_blocking(move || replicate::read_progress(&settings))
            .await
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?;
        target_inventory.replicated = read.replicated();
        progress = Some(read);
    }
    let mut plan = plan::diff(migration, &source_inventory, &target_inventory);
    if let Some(progress) = progress.filter(|_| !plan.group_offsets.is_empty()) {
        plan.group_offsets = translate(
            migration,
            std::mem::take(&mut plan.group_offsets),
            progress,
            &target,
        )
        .await?;
    }
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

/// Exact target offsets for the plan's group offsets, from the engine's progress.
async fn translate(
    migration: &Migration,
    mut groups: Vec<plan::GroupOffsets>,
    progress: replicate::Progress,
    target: &ClusterClient,
) -> Result<Vec<plan::GroupOffsets>, ClusterError> {
    let reader = |cluster: &crate::config::ClusterConfig| {
        let mut config = rdkafka::ClientConfig::new();
        for (k, v) in crate::auth::client_properties(cluster) {
            config.set(k, v);
        }
        config
            .set(
                "group.id",
                format!("kafka-migrate-{}-translator", migration.name),
            )
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("isolation.level", "read_committed")
            .create::<rdkafka::consumer::BaseConsumer>()
    };
    let fail = |e: String| target.error("translating group offsets", e);
    let source = reader(migration.source()).map_err(|e| fail(e.to_string()))?;
    let target_reader = reader(migration.target()).map_err(|e| fail(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        crate::offsets::translate_groups(&mut groups, &progress, &source, &target_reader)
            .map(|()| groups)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(e.to_string()))
}
