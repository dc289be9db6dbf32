//! Consumer offsets: exact source → target translation from the engine's progress, and the
//! sync of group offsets to the target. Never copies data.

mod state;
mod sync;
mod translate;
pub(crate) mod walk;

pub use state::{group_states, mark_cut_over, GroupState, GroupStatus};
pub use sync::{sync_groups, translate_groups, GroupSync, GroupSynced, Known};
pub use translate::{
    translator_config, TranslateError, Translation, Translations, Translator, Wanted,
};
