//! Talking to one cluster: connection with diagnosable errors (`client`), the admin calls
//! rust-rdkafka lacks (`native`), reading an [`Inventory`] (`read`, `inventory`), and which
//! Kafka release the brokers are at least (`release`). Decides nothing about what changes.

mod client;
pub mod inventory;
pub mod native;
mod read;
pub mod release;

pub use client::{ClusterClient, ClusterContext, ClusterError, ErrorKind};
pub use inventory::{Inventory, Role};
pub use read::{Scope, CONCURRENT_GROUP_REQUESTS};
