//! The migration's state: what kafka-migrate records on the target and how it is read.
//!
//! - [`progress`]: the progress topic's records (positions, index, cut-over, group-synced
//!   writers and cutover records) and how they fold into a [`Progress`];
//! - [`cutover`]: the cutover record: the steps `cutover` did and the cutover point;
//! - [`offset_map`]: where each replicated source record landed, compact, for translation
//!   once the source is gone;
//! - [`identity`]: the cluster ids of the source and target the migration replicates between;
//! - [`store`]: reading and writing the progress topic;
//! - [`read`]: the one read_committed range reader every read of records goes through;
//! - [`mirror_progress`]: MirrorMaker 2's offsets read as a [`Progress`].
//!
//! The names of what a migration creates are [`crate::config::names`]'. This layer knows no
//! plan and runs no engine: it reads and records, and others decide.

pub mod cutover;
pub mod identity;
mod mirrored;
pub mod offset_map;
pub mod progress;
pub mod read;
pub mod store;

pub use cutover::{CutoverPoint, CutoverRecord, CutoverStep, PartitionEnd, PointPartition};
pub use identity::Identity;
pub use mirrored::mirror_progress;
pub use offset_map::{Mapped, OffsetMap, PartitionMap};
pub use progress::{
    cut_over_record, forget_group, group_synced_record, released_record, writers_record,
    PartitionProgress, Position, Progress, Synced, SyncedOffset,
};
pub use read::{Range, RangeReader, ReadError};
pub use store::{Isolation, Store, StoreError, Successor};
