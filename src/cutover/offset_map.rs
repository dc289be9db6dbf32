//! The offset map taken at the cutover point: the progress as the drain left it, both logs
//! walked whole ([`crate::groups::offset_map`]) and the map recorded in chunks in the
//! progress topic, so that source offsets kept outside Kafka translate once the source is
//! gone. `export offset-map` takes it the same way when no current map is recorded.
//!
//! It costs one read_committed read of every selected partition on both clusters (as
//! `data_check = "full"` does), once; its size is a few numbers per run of consecutive
//! offsets (about one per transaction the engine committed).

use crate::cluster::ClusterClient;
use crate::config::Migration;
use crate::state::cutover::now_ms;
use crate::state::{OffsetMap, Progress, Store};

use super::CutoverError;

/// Takes the offset map of `partitions` from the progress recorded now and records it; the
/// map. `target` is the target's client (for errors).
pub async fn take(
    migration: &Migration,
    target: &ClusterClient,
    partitions: &[(String, i32)],
) -> Result<OffsetMap, CutoverError> {
    let store = Store::of(migration);
    let progress = read(&store).await?;
    let map = crate::groups::offset_map(migration, partitions, &progress, target, now_ms()).await?;
    super::write(&store, map.records()).await?;
    tracing::info!(
        partitions = map.partitions.len(),
        runs = map.partitions.iter().map(|p| p.runs.len()).sum::<usize>(),
        "Recorded the offset map."
    );
    Ok(map)
}

/// The progress recorded now.
pub async fn read(store: &Store) -> Result<Progress, CutoverError> {
    let reading = store.clone();
    tokio::task::spawn_blocking(move || reading.read())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|cause| CutoverError::Read {
            topic: store.topic.clone(),
            cause,
        })
}
