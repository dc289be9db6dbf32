//! `destroy`: removes from the target what a mistaken migration created there — its internal
//! topics, and the topics it created that hold nothing but its own records, as
//! [`crate::plan::destroy_plan`] proves from the recorded progress and the target's offsets —
//! after confirmation. Refuses a migration that was cut over (the target is the system of
//! record) and one an apply replicates now. Never touches the source.

use miette::miette;

use crate::cluster::{ClusterClient, Role, Scope};
use crate::config::{names, Migration};
use crate::plan::{destroy_plan, DestroyPlan};
use crate::state::{Progress, Store};

/// How `destroy` ended.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Destroyed {
    #[serde(flatten)]
    pub plan: DestroyPlan,
    /// Whether the topics the plan removes were removed (false: nothing to remove, or not
    /// confirmed).
    pub removed: bool,
}

/// Plans the removal of what `migration` created on the target, asks `confirm` (unless
/// `auto_approve`) and removes it.
pub async fn destroy(
    migration: &Migration,
    auto_approve: bool,
    confirm: &mut dyn FnMut(&DestroyPlan) -> miette::Result<bool>,
) -> miette::Result<Destroyed> {
    let target = ClusterClient::of(migration, Role::Target).await?;
    // The failback's progress topic is on the source, which destroy leaves alone.
    let internal: Vec<String> = names::internal_topics(&migration.name)
        .into_iter()
        .filter(|t| *t != names::failback_progress_topic(&migration.name))
        .collect();
    let inventory = target
        .inventory(&Scope {
            topic: &|t: &str| internal.iter().any(|i| i == t) || migration.topics.selects(t),
            group: &|_: &str| false,
        })
        .await?;
    let store = Store::of(migration);
    let progress = if inventory.topics.contains_key(&store.topic) {
        let topic = store.topic.clone();
        tokio::task::spawn_blocking(move || store.read())
            .await
            .map_err(|e| miette!("reading {topic}: {e}"))?
            .map_err(|e| miette!("reading {topic}: {e}"))?
    } else {
        Progress::default()
    };
    if let Some(point) = progress.cut_over().and_then(|c| c.point.as_ref()) {
        return Err(miette!(
            help = "after a cutover, applications write to the target: remove its topics yourself if you mean to",
            "migration \"{}\" was cut over at {}: the target is the system of record, and destroy removes nothing",
            migration.name,
            crate::state::cutover::utc(point.at_ms)
        ));
    }
    if progress.activity.running(crate::state::cutover::now_ms()) {
        return Err(miette!(
            help = "stop the apply (Ctrl-C), then run destroy again",
            "an apply of migration \"{}\" replicates now: destroy would remove topics under it",
            migration.name
        ));
    }
    let mut plan = destroy_plan(&migration.name, &internal, &inventory, &progress);
    // Decided in the source's names (the progress keeps them); shown and removed under the
    // target's.
    for removal in plan.topics.iter_mut() {
        removal.topic = target.cluster_topic(&removal.topic).into_owned();
    }
    let removed = plan.removed();
    if removed.is_empty() || !(auto_approve || confirm(&plan)?) {
        return Ok(Destroyed {
            plan,
            removed: false,
        });
    }
    target.delete_topics(&removed).await?;
    Ok(Destroyed {
        plan,
        removed: true,
    })
}
