//! kafka-migrate: migrate a self-managed Apache Kafka cluster to Amazon MSK (or any Kafka
//! cluster) the way Terraform moves infrastructure — `validate`, `plan`, `apply`, `status`,
//! `verify`, `cutover`, `rollback` and `export`, all driven by one HCL migration file.
//!
//! The binary builds the one async runtime and runs a thin command line (`cli`) on it; each
//! command is one operation (`ops`) of this library, whose report `render` draws. Each module
//! depends only on those below it (`cargo run -p xtask -- modules` checks it, and that `cli`
//! talks to no cluster and `plan` reads nothing):
//! `cli` → `render` → `ops` → `cutover` → `verify` / `apply` → `connect` → `replicate` →
//! `survey` → `groups` → `plan` → `init` → `state` → `cluster` → `auth` → `config` → `quote`
//! (text from a cluster made safe for where it is written).
//!
//! `survey` reads both clusters (inventories, recorded state, the groups' exact offsets, the
//! target's validate-only answers) and `plan` makes the plan from what it read, purely;
//! `groups` translates offsets both ways and syncs them; the survey sits above `plan` to ask
//! it for the draft whose creations and groups it reads about. ARCHITECTURE.md draws it.

pub mod apply;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connect;
pub mod cutover;
pub mod groups;
pub mod init;
pub mod ops;
pub mod plan;
pub mod quote;
pub mod render;
pub mod replicate;
pub mod state;
pub mod survey;
#[cfg(test)]
mod testing;
pub mod verify;
