//! Talking to one cluster: connection with diagnosable errors (`client`), the admin calls
//! rust-rdkafka lacks (`native`), and reading an [`Inventory`] (`read`, `inventory`). Decides
//! nothing about what changes.

mod client;
pub mod inventory;
pub mod native;
mod read;

pub use client::{ClusterClient, ClusterContext, ClusterError, ErrorKind};
pub use inventory::{Inventory, Role};
pub use read::{Scope, CONCURRENT_GROUP_REQUESTS};
