//! Consumer offsets: exact source → target translation from the engine's progress, and the
//! sync of group offsets to the target. Never copies data.

mod translate;

pub use translate::{TranslateError, Translation, Translator};
