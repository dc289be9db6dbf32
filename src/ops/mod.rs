//! The operations: one async function per command — plan, show, apply, status, verify,
//! cutover, rollback, destroy, export, offsets translate, init (and its report) — of the migration and its options, telling an
//! observer as it goes and returning a typed report. This is where a command's steps are
//! sequenced over the layers below (survey, plan, apply's metadata actions, an
//! [`crate::apply::Engine`], group sync, verify, the cutover gates). It parses no arguments and draws nothing: the CLI calls
//! it and renders what it returns. A long operation takes a [`CancellationToken`]: cancelled,
//! it finishes what it is doing, commits and returns.

pub mod apply;
pub mod cutover;
pub mod destroy;
pub mod engines;
pub mod export;
pub mod offsets;
pub mod plan;
pub mod report;
pub mod show;
pub mod status;
pub mod verify;

pub use engines::Requested;
pub use tokio_util::sync::CancellationToken;

/// `init`: writes the migration file from the source (or a template); what was done.
pub async fn init(request: &crate::init::Request) -> miette::Result<String> {
    crate::init::init(request).await
}
