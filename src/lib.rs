//! kafka-migrate: migrate a self-managed Apache Kafka cluster to Amazon MSK (or any Kafka
//! cluster) the way Terraform moves infrastructure — `validate`, `plan`, `apply`, `status`,
//! `verify`, `cutover`, `rollback` and `export`, all driven by one HCL migration file.
//!
//! The binary builds the one async runtime and runs a thin command line (`cli`) on it; each
//! command is one operation (`ops`) of this library, whose report `render` draws. Each module
//! depends only on those below it (`cargo run -p xtask -- modules` checks it, and that `cli`
//! talks to no cluster and `plan` reads nothing):
//! `cli` → `render` → `ops` → `cutover` → `verify` / `apply` → `connect` → `replicate` → `plan` →
//! `init` → `offsets` → `state` → `cluster` → `auth` → `config`. See ARCHITECTURE.md.

pub mod apply;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connect;
pub mod cutover;
pub mod init;
pub mod offsets;
pub mod ops;
pub mod plan;
pub mod render;
pub mod replicate;
pub mod state;
#[cfg(test)]
mod testing;
pub mod verify;
