//! Consumer offsets: exact source → target translation from the engine's progress, and the
//! sync of group offsets to the target. Never copies data.

mod sync;
mod translate;

pub use sync::{sync_groups, translate_groups, GroupSynced};
pub use translate::{TranslateError, Translation, Translator};
