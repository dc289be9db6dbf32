//! Both clusters as they are for a migration: connect, read both inventories (with client
//! quotas when the migration syncs them) and the recorded state of whichever engine
//! replicated (the built-in engine's progress topic, or MirrorMaker 2's offsets), refuse
//! clusters that are not the ones the migration recorded ([`super::identity`]), and account
//! for what a crashed run left on the target or a running one committed since
//! ([`super::leftovers`]). The rest of the survey and `plan` start from a snapshot; `status`,
//! `verify`, `cutover`, `rollback` and the group sync read it.

use crate::cluster::{ClusterClient, ClusterError, Inventory, Role, Scope};
use crate::config::{names, Migration};

use crate::state::{Identity, Progress, Store};

/// Both clusters, what they hold, and what the migration recorded.
pub struct Snapshot {
    pub source: ClusterClient,
    pub target: ClusterClient,
    pub source_inventory: Inventory,
    pub target_inventory: Inventory,
    /// The migration's progress on the target, when it has started.
    pub progress: Option<Progress>,
    /// Which engine wrote that progress.
    pub replicated_by: ReplicatedBy,
    /// The migration's clusters as they are now (checked against the recorded ones).
    pub identity: Identity,
}

impl Snapshot {
    /// The built-in engine's progress, when it replicated the migration.
    pub fn engine_progress(&self) -> Option<&Progress> {
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

/// Reads both clusters and what the migration recorded on the target.
pub async fn take(migration: &Migration) -> Result<Snapshot, ClusterError> {
    let source = ClusterClient::of(migration, Role::Source).await?;
    tracing::info!(cluster = "source", "Connected.");
    let target = ClusterClient::of(migration, Role::Target).await?;
    tracing::info!(cluster = "target", "Connected.");
    let store = Store::of(migration);
    let progress_topic = store.topic.clone();
    let selects_group = |g: &str| migration.consumer_groups.selects(g);
    // Every topic is read, so that the applications living on the source are recognised
    // (`plan::units`); the inventory then keeps what the migration selects and the topics of
    // the units that move with it. Credentials that may not describe every topic see only
    // the selected ones, and no application.
    let everything = |_: &str| true;
    let selected = |t: &str| migration.topics.selects(t);
    let mut source_inventory = match source
        .inventory(&Scope {
            topic: &everything,
            group: &selects_group,
        })
        .await
    {
        Ok(mut all) => {
            all.residents = Some(crate::init::residents::read(migration, &source, &all).await?);
            all
        }
        Err(e) => {
            tracing::warn!(error = %e, "Could not read every topic of the source: applications living on it are not recognised.");
            source
                .inventory(&Scope {
                    topic: &selected,
                    group: &selects_group,
                })
                .await?
        }
    };
    let added =
        crate::plan::units::added(&crate::plan::units::recognise(migration, &source_inventory));
    let selects_topic = |t: &str| migration.topics.selects(t) || added.contains(t);
    source_inventory.topics.retain(|t, _| selects_topic(t));
    source_inventory
        .denied_topics
        .retain(|t, _| selects_topic(t));
    let mirror_marker = names::offset_syncs_topic(&migration.name);
    let selects_topic_or_progress =
        |t: &str| t == progress_topic || t == mirror_marker || selects_topic(t);
    // A selection of nothing would plan nothing, replicate nothing and verify as ready: it is
    // a mistake in the file, told with what came closest — once the clusters are known to be
    // the migration's (a file pointed at another source selects nothing there either).
    let selected_nothing =
        if source_inventory.topics.is_empty() && source_inventory.denied_topics.is_empty() {
            let empty = migration
                .topics
                .empty_selection(&source.topic_names().await?);
            Some(ClusterError {
                role: Role::Source,
                operation: "selecting topics".into(),
                cause: empty.to_string(),
                kind: crate::cluster::ErrorKind::Other,
                help: Some(empty.help("source")),
            })
        } else {
            None
        };
    // Told in the source's names, whatever the target calls them: the rest of the survey and
    // the plan compare the two by name.
    let mut target_inventory = target
        .inventory(&Scope {
            topic: &selects_topic_or_progress,
            group: &selects_group,
        })
        .await?;
    for inventory in [&source_inventory, &target_inventory] {
        tracing::info!(
            cluster = %inventory.role,
            brokers = inventory.brokers,
            topics = inventory.topics.len(),
            partitions = inventory.partitions().len(),
            groups = inventory.groups.len(),
            "Read the cluster's topics and groups the migration selects."
        );
    }
    // The declared MSK type is checked against MSK's own description of the cluster.
    if migration.target().msk.is_some() {
        target_inventory.msk = Some(match &migration.target().security.aws_iam {
            Some(iam) => crate::cluster::msk_api::describe(iam).await,
            None => crate::cluster::msk_api::MskLookup::Unanswered {
                reason: "the target has no aws_iam block with cluster_arn to ask it with".into(),
            },
        });
    }
    // Names and mechanisms only; a source without SCRAM (or that refuses) simply has none.
    match source.ext().describe_user_scram_credentials().await {
        Ok(users) => source_inventory.scram_users = Some(users),
        Err(e) => tracing::debug!(error = %e, "The source's SCRAM users could not be listed."),
    }
    if migration.quotas.sync {
        source_inventory.quotas = Some(source.client_quotas().await?);
        // MSK Serverless has no client quotas to read: the plan leaves the source's out.
        let serverless = migration
            .target()
            .msk
            .as_ref()
            .is_some_and(|m| m.kind == crate::config::MskType::Serverless);
        if !serverless {
            target_inventory.quotas = Some(target.client_quotas().await?);
        }
    }
    let mut progress = None;
    let mut replicated_by = ReplicatedBy::Nothing;
    if target_inventory.topics.contains_key(&progress_topic) {
        let read = tokio::task::spawn_blocking(move || store.read())
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
            crate::state::mirror_progress(migration, &source_inventory, &target_inventory).await?;
        target_inventory.replicated = mirrored.replicated();
        progress = Some(mirrored);
        replicated_by = ReplicatedBy::MirrorMaker2;
    }
    target_inventory.topics.remove(&mirror_marker);
    let identity = super::identity::check(migration, &source, &target, progress.as_ref()).await?;
    if let Some(nothing) = selected_nothing {
        return Err(nothing);
    }
    super::leftovers::account_for(
        migration,
        &selects_topic,
        &mut target_inventory,
        &target,
        replicated_by == ReplicatedBy::Engine,
    )
    .await?;
    tracing::info!(
        replicated_by = ?replicated_by,
        "Read the migration's recorded progress."
    );
    Ok(Snapshot {
        source,
        target,
        source_inventory,
        target_inventory,
        progress,
        replicated_by,
        identity,
    })
}
