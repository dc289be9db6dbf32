//! Talking to one cluster: the one factory every client of the tool is made by (`factory`),
//! connection with diagnosable errors (`client`), the admin calls
//! rust-rdkafka lacks (`native`), those librdkafka lacks too over the tool's own protocol
//! connection (`wire`, `quotas`), what MSK's API says the cluster is (`msk_api`), which Kafka
//! release the brokers are at least (`release`), who still writes or consumes (`activity`),
//! and reading an [`Inventory`] (`read`, `inventory`). Decides nothing about what changes.

mod activity;
mod client;
pub mod factory;
pub mod inventory;
pub mod msk_api;
pub mod native;
pub mod quotas;
mod read;
pub mod release;
pub mod residents;
mod wire;

pub use activity::{GroupActivity, GroupMember, Member};
pub use client::{ClusterClient, ClusterContext, ClusterError, ErrorKind};
pub use factory::{DeliveryContext, PartitionKey, ReaderContext};
pub use inventory::{Inventory, Role};
pub use read::{Scope, CONCURRENT_GROUP_REQUESTS};

/// How long an admin request that creates or changes topics (or asks whether it may) may take.
pub const ADMIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
