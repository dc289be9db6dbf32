//! The migration's identity as the clusters tell it now: both cluster ids, checked against
//! what the migration recorded ([`crate::state::identity`]). A cluster that is not the
//! recorded one is refused here, before anything reads offsets that belong to another log.

use crate::cluster::{ClusterClient, ClusterError, ErrorKind, Role};
use crate::config::Migration;
use crate::state::identity::{compare, Identity, Mismatch};
use crate::state::Progress;

/// Reads both cluster ids and compares them with what `recorded` (the migration's progress,
/// when it has one) holds: the identity as it is now, or the refusal naming both ids.
pub async fn check(
    migration: &Migration,
    source: &ClusterClient,
    target: &ClusterClient,
    recorded: Option<&Progress>,
) -> Result<Identity, ClusterError> {
    let now = Identity {
        migration: migration.name.clone(),
        source_cluster_id: source.cluster_id().await?,
        target_cluster_id: target.cluster_id().await?,
        topic_rename: migration.topics.rename.clone(),
        group_rename: migration.consumer_groups.rename.clone(),
    };
    if let Some(recorded) = recorded.and_then(|p| p.identity.as_ref()) {
        compare(
            recorded,
            now.source_cluster_id.as_deref(),
            now.target_cluster_id.as_deref(),
        )
        .map_err(refusal)?;
        same_names(recorded, &now)?;
    }
    Ok(now)
}

/// Refuses a migration file that renames otherwise than the migration recorded: its records
/// and offsets are under the recorded names on the target, and its progress says so.
fn same_names(recorded: &Identity, now: &Identity) -> Result<(), ClusterError> {
    for (what, then, file) in [
        ("topics", &recorded.topic_rename, &now.topic_rename),
        ("consumer_groups", &recorded.group_rename, &now.group_rename),
    ] {
        if then != file {
            let shown = |r: &crate::config::Rename| {
                if r.is_identity() {
                    "no rename".to_string()
                } else {
                    format!("prefix {:?}, names {:?}", r.prefix, r.names)
                }
            };
            return Err(ClusterError {
                role: crate::cluster::Role::Target,
                operation: "checking the migration's names".into(),
                cause: format!(
                    "migration \"{}\" replicated with {what} renamed as {} on the target, but the migration file now renames them as {}",
                    recorded.migration,
                    crate::quote::terminal(&shown(then)),
                    crate::quote::terminal(&shown(file))
                ),
                kind: ErrorKind::NotTheMigrations,
                help: Some(format!(
                    "what it replicated is under the recorded names: put the {what} rename block back as it was, or give the migration another `name` to start afresh under the new names"
                )),
            });
        }
    }
    Ok(())
}

/// The error a mismatch is told with: which side, both ids, and what to do.
pub fn refusal(mismatch: Mismatch) -> ClusterError {
    ClusterError {
        role: mismatch.role,
        operation: "checking that it is the migration's cluster".into(),
        cause: mismatch.cause(),
        kind: ErrorKind::NotTheMigrations,
        help: Some(mismatch.help()),
    }
}

/// Checks only the source of a migration whose progress was read without a survey (the
/// status of its lag): connects to the target only when there is an identity to compare.
pub async fn check_recorded(
    migration: &Migration,
    source: &ClusterClient,
    recorded: &Progress,
) -> Result<(), ClusterError> {
    if recorded.identity.is_none() {
        return Ok(());
    }
    let target = ClusterClient::of(migration, Role::Target).await?;
    check(migration, source, &target, Some(recorded)).await?;
    Ok(())
}
