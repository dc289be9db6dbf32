//! Talking to one cluster: connection with diagnosable errors (`client`), the admin calls
//! rust-rdkafka lacks (`native`), reading an [`Inventory`] (`read`, `inventory`), and who still
//! writes or consumes (`activity`). Decides
//! nothing about what changes.

mod activity;
mod client;
pub mod inventory;
pub mod native;
mod read;

pub use activity::Member;
pub use client::{ClusterClient, ClusterContext, ClusterError, ErrorKind};
pub use inventory::{Inventory, Role};
pub use read::{Scope, CONCURRENT_GROUP_REQUESTS};
