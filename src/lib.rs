//! kafka-migrate: migrate a self-managed Apache Kafka cluster to Amazon MSK (or any Kafka
//! cluster) the way Terraform moves infrastructure — `validate`, `plan`, `apply`, `status`,
//! `verify`, `cutover`, `rollback` and `export`, all driven by one HCL migration file.
//!
//! The binary is a thin layer (`cli`) over this library. Each module depends only on those
//! below it (`cargo run -p xtask -- modules` checks it):
//! `cli` → `render` → `cutover` → `verify` / `apply` → `connect` → `replicate` → `plan` → `init` →
//! `offsets` → `state` → `cluster` → `auth` → `config`.

pub mod apply;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connect;
pub mod cutover;
pub mod init;
pub mod offsets;
pub mod plan;
pub mod render;
pub mod replicate;
pub mod state;
#[cfg(test)]
mod testing;
pub mod verify;
