//! Consumer groups, exactly: where a committed offset lands on the other cluster, forward
//! (source → target, from the engine's progress) and back (target → source, for failback);
//! and the sync that commits those offsets on the target (or, back, on the source) while the
//! group has no members there.
//!
//! - `translate`: the walk of both logs (read_committed) from the nearest alignment a
//!   progress recorded, and its pure arithmetic;
//! - `exact`: which offsets to translate, off the async runtime, and the translations kept
//!   across rounds;
//! - `sync`: the sync rounds of an `apply`, recording what they commit and which groups cut
//!   over;
//! - `back`: failback's translation back and its commits on the source.
//!
//! Reads both logs and commits group offsets; never copies data, never commits on the source
//! during forward replication, and decides nothing the plan decides.

mod back;
mod exact;
mod sync;
mod translate;

pub use back::{sync_back, translate_back, Sides};
pub use exact::{
    offset_map, translate_between, translate_forward, translate_groups, translate_offsets,
    translations, Known,
};
pub use sync::{sync_groups, GroupSync, GroupSynced};
pub use translate::{translator_config, Translation, Translations, Translator, Wanted, Whole};

/// Why a translation failed: reading one of the logs.
pub type TranslateError = crate::state::ReadError;
