//! Surveying both clusters for a migration: connect, read both inventories (and the
//! migration's progress on the target, or MirrorMaker 2's when the Connect engine replicated),
//! compute the plan, and ask the target whether it would
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
    /// The migration's progress on the target, when it has started.
    pub progress: Option<replicate::Progress>,
    /// Which engine wrote that progress.
    pub replicated_by: ReplicatedBy,
    pub plan: Plan,
}

impl Survey {
    /// The built-in engine's progress, when it replicated the migration.
    pub fn engine_progress(&self) -> Option<&replicate::Progress> {
        self.progress
            .as_ref()
            .filter(|_| self.replicated_by == ReplicatedBy::Engine)
    }
}

/// Which engine has replicated the migration so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicatedBy {
    Nothing,
    /// kafka-migrate's own engine (its progress topic is on the target).
    Engine,
    /// MirrorMaker 2 on Kafka Connect (its offset-syncs topic of the migration is).
    MirrorMaker2,
}

/// Reads both clusters and plans the migration.
pub async fn survey(migration: &Migration) -> Result<Survey, ClusterError> {
    survey_with(migration, &crate::offsets::Known::default()).await
}

/// [`survey`], taking group offset translations from `known` and adding those it finds.
pub async fn survey_with(
    migration: &Migration,
    known: &crate::offsets::Known,
) -> Result<Survey, ClusterError> {
    let source = ClusterClient::of(migration, Role::Source).await?;
    let target = ClusterClient::of(migration, Role::Target).await?;
    let progress_topic = replicate::progress_topic(&migration.name);
    let selects_topic = |t: &str| migration.topics.selects(t);
    let mirror_marker = crate::connect::offset_syncs_topic(&migration.name);
    let selects_topic_or_progress =
        |t: &str| t == progress_topic || t == mirror_marker || migration.topics.selects(t);
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
    let mut replicated_by = ReplicatedBy::Nothing;
    if target_inventory.topics.contains_key(&progress_topic) {
        let settings = Arc::new(Settings::from_migration(migration, false));
        let read = tokio::task::spawn_blocking(move || replicate::read_progress(&settings))
            .await
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?
            .map_err(|e| target.error("reading the migration's progress", e.to_string()))?;
        if let Some(theirs) = read.foreign_writer(&migration.name) {
            return Err(target.error(
                "reading the migration's progress",
                format!("{progress_topic} holds the progress of migration \"{theirs}\", not \"{}\": names that differ only in `.` and `_` share a progress topic; give this migration another name", migration.name),
            ));
        }
        target_inventory.replicated = read.replicated();
        progress = Some(read);
        replicated_by = ReplicatedBy::Engine;
    } else if target_inventory.topics.remove(&mirror_marker).is_some() {
        // MirrorMaker 2 (the Connect engine) replicated: its state is in the offsets.
        let mirrored =
            crate::connect::mirror_progress(migration, &source_inventory, &target_inventory)
                .await?;
        target_inventory.replicated = mirrored.replicated();
        progress = Some(mirrored);
        replicated_by = ReplicatedBy::MirrorMaker2;
    }
    target_inventory.topics.remove(&mirror_marker);
    account_for_leftovers(migration, &mut target_inventory, &target).await?;
    let mut plan = plan::diff(migration, &source_inventory, &target_inventory);
    if let Some(progress) = progress.as_ref().filter(|_| !plan.group_offsets.is_empty()) {
        plan.group_offsets = translate(
            migration,
            std::mem::take(&mut plan.group_offsets),
            progress,
            &target,
            known.clone(),
        )
        .await?;
    }
    let engine = progress
        .as_ref()
        .filter(|_| replicated_by == ReplicatedBy::Engine);
    let (none, nothing) = (Default::default(), Default::default());
    crate::offsets::mark_cut_over(
        &mut plan.group_offsets,
        engine.map_or(&none, |p| &p.cut_over),
        engine.map_or(&nothing, |p| &p.synced),
    );
    plan::warn_group_states(&mut plan);
    super::validate_on_target(migration, &target, &mut plan).await?;
    Ok(Survey {
        source,
        target,
        source_inventory,
        target_inventory,
        progress,
        replicated_by,
        plan,
    })
}

/// Exact target offsets for the plan's group offsets, from the engine's progress.
async fn translate(
    migration: &Migration,
    mut groups: Vec<plan::GroupOffsets>,
    progress: &replicate::Progress,
    target: &ClusterClient,
    known: crate::offsets::Known,
) -> Result<Vec<plan::GroupOffsets>, ClusterError> {
    let reader = |cluster: &crate::config::ClusterConfig| {
        crate::auth::token_supply::create::<_, rdkafka::consumer::BaseConsumer<_>>(
            &crate::offsets::translator_config(
                &crate::auth::client_properties(cluster),
                &migration.name,
            ),
            replicate::SourceContext,
        )
    };
    let fail = |e: String| target.error("translating group offsets", e);
    let source = reader(migration.source()).map_err(|e| fail(e.to_string()))?;
    let target_reader = reader(migration.target()).map_err(|e| fail(e.to_string()))?;
    let progress = progress.clone();
    tokio::task::spawn_blocking(move || {
        let mut translator = crate::offsets::Translator::new(
            source,
            target_reader,
            std::time::Duration::from_secs(60),
        );
        crate::offsets::translate_groups(&mut groups, &progress, &mut translator, &known)
            .map(|()| groups)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(e.to_string()))
}

/// Target partitions holding more than this migration's position (plus its last commit
/// marker) may only hold what a crashed run left: aborted or still-open transactions,
/// invisible to read_committed readers. Each such partition is read from the migration's
/// position; if no committed record follows, the partition is accounted for up to its end.
async fn account_for_leftovers(
    migration: &Migration,
    inventory: &mut Inventory,
    target: &ClusterClient,
) -> Result<(), ClusterError> {
    let mut suspects = Vec::new();
    for (name, topic) in &inventory.topics {
        if !migration.topics.selects(name) {
            continue;
        }
        for (p, part) in &topic.partitions {
            let from = inventory
                .replicated
                .get(name)
                .and_then(|w| w.get(p))
                .copied()
                .unwrap_or(part.log_start);
            if part.end > from + 1
                || (part.end > from
                    && !inventory
                        .replicated
                        .get(name)
                        .is_some_and(|w| w.contains_key(p)))
            {
                suspects.push((name.clone(), *p, from, part.end));
            }
        }
    }
    if suspects.is_empty() {
        return Ok(());
    }
    // Each suspect is read up to its end: the broker must answer a fetch at the end at once,
    // not after fetch.wait.max.ms (500 ms by default, half a second per partition).
    let mut config = replicate::reader_config(
        &crate::auth::client_properties(migration.target()),
        &migration.name,
        "inspector",
    );
    config.set("fetch.wait.max.ms", "10");
    let consumer: rdkafka::consumer::BaseConsumer<replicate::SourceContext> =
        crate::auth::token_supply::create(&config, replicate::SourceContext)
            .map_err(|e| target.error("inspecting target partitions", e.to_string()))?;
    let clean = tokio::task::spawn_blocking(move || {
        suspects
            .into_iter()
            .filter(|(topic, partition, from, _)| {
                !replicate::read::has_committed_records(&consumer, topic, *partition, *from)
            })
            .map(|(topic, partition, _, end)| (topic, partition, end))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| target.error("inspecting target partitions", e.to_string()))?;
    for (topic, partition, end) in clean {
        inventory
            .replicated
            .entry(topic)
            .or_default()
            .insert(partition, end);
    }
    Ok(())
}
