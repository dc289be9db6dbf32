//! Exact consumer-offset translation, source → target, from the engine's progress: where a
//! group's committed source offset lands on the target, found by walking both logs from the
//! nearest alignment the progress recorded. Reads only; never commits offsets or copies data.

mod translate;

pub use translate::{translator_config, Translation, Translations, Translator, Wanted};

/// Why a translation failed: reading one of the logs.
pub type TranslateError = crate::state::ReadError;
