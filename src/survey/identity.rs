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
    };
    if let Some(recorded) = recorded.and_then(|p| p.identity.as_ref()) {
        compare(
            recorded,
            now.source_cluster_id.as_deref(),
            now.target_cluster_id.as_deref(),
        )
        .map_err(refusal)?;
    }
    Ok(now)
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
