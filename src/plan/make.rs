//! Making the plan from a [`Snapshot`]: the diff of both inventories for the engine, the
//! exact target offsets of the selected groups (from the engine's progress), the groups that
//! cut over, and the target's word on every creation and config change. The only place a plan
//! is built; nothing edits one after it is made.

use std::collections::BTreeMap;

use crate::cluster::{ClusterClient, ClusterError};
use crate::config::Migration;
use crate::offsets::Translator;
use crate::state::{Progress, ReaderContext, Snapshot};

use super::groups::{mark_cut_over, translate_groups, Known};
use super::{diff, validate, warn_group_states, Engine, GroupOffsets, Plan};

/// How long a walk of either log may read nothing while translating group offsets.
const TRANSLATE_STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// Both clusters as they are, and the plan made from them.
pub struct Survey {
    pub snapshot: Snapshot,
    pub plan: Plan,
}

/// Reads both clusters and plans the migration for `engine` (see [`make`]).
pub async fn survey(
    migration: &Migration,
    engine: Engine,
    known: &Known,
) -> Result<Survey, ClusterError> {
    let snapshot = crate::state::snapshot(migration).await?;
    let plan = make(migration, &snapshot, engine, known).await?;
    Ok(Survey { snapshot, plan })
}

/// Plans the migration from `snapshot` for `engine`, taking group offset translations from
/// `known` and adding those it finds.
pub async fn make(
    migration: &Migration,
    snapshot: &Snapshot,
    engine: Engine,
    known: &Known,
) -> Result<Plan, ClusterError> {
    let mut plan = diff(
        migration,
        &snapshot.source_inventory,
        &snapshot.target_inventory,
        engine,
    );
    if let Some(progress) = snapshot
        .progress
        .as_ref()
        .filter(|_| !plan.group_offsets.is_empty())
    {
        plan.group_offsets = translate(
            migration,
            std::mem::take(&mut plan.group_offsets),
            progress,
            &snapshot.target,
            known.clone(),
        )
        .await?;
    }
    let engine_progress = snapshot.engine_progress();
    let (none, nothing) = (Default::default(), Default::default());
    mark_cut_over(
        &mut plan.group_offsets,
        engine_progress.map_or(&none, |p| &p.cut_over),
        engine_progress.map_or(&nothing, |p| &p.synced),
    );
    warn_group_states(&mut plan);
    validate::validate_on_target(migration, &snapshot.target, &mut plan).await?;
    Ok(plan)
}

/// Exact target offsets for the plan's group offsets, from the engine's progress.
async fn translate(
    migration: &Migration,
    groups: Vec<GroupOffsets>,
    progress: &Progress,
    target: &ClusterClient,
    known: Known,
) -> Result<Vec<GroupOffsets>, ClusterError> {
    let props = crate::auth::client_properties;
    let clusters = (props(migration.source()), props(migration.target()));
    translate_between(&migration.name, &clusters, groups, progress, target, known).await
}

/// Exact offsets of `groups` from one cluster's log to the other's (`clusters`: the
/// librdkafka properties of the one the offsets are from, then of the one they go to), from
/// `progress` aligning the two; `client` names the cluster in errors.
pub async fn translate_between(
    name: &str,
    clusters: &(BTreeMap<String, String>, BTreeMap<String, String>),
    mut groups: Vec<GroupOffsets>,
    progress: &Progress,
    client: &ClusterClient,
    known: Known,
) -> Result<Vec<GroupOffsets>, ClusterError> {
    let reader = |props: &BTreeMap<String, String>| {
        crate::auth::token_supply::create::<_, rdkafka::consumer::BaseConsumer<_>>(
            &crate::offsets::translator_config(props, name),
            ReaderContext,
        )
    };
    let fail = |e: String| client.error("translating group offsets", e);
    let from = reader(&clusters.0).map_err(|e| fail(e.to_string()))?;
    let to = reader(&clusters.1).map_err(|e| fail(e.to_string()))?;
    let progress = progress.clone();
    tokio::task::spawn_blocking(move || {
        let mut translator = Translator::new(from, to, TRANSLATE_STALL);
        translate_groups(&mut groups, &progress, &mut translator, &known).map(|()| groups)
    })
    .await
    .map_err(|e| fail(e.to_string()))?
    .map_err(|e| fail(e.to_string()))
}
