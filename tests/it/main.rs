//! The integration tests of kafka-migrate, in one binary: the CLI as a user runs it (`validate`
//! and the other offline commands too), and every behaviour that touches a cluster, against
//! real Apache Kafka brokers started by `kafka-harness`. Each test isolates itself with unique
//! topic and group names.

mod apply_events;
mod apps;
mod auth;
mod cli;
mod compat;
mod connect;
mod crash;
mod cutover;
mod demo;
mod destroy;
mod faults;
mod first_hour;
mod foreign;
mod group_cases;
mod group_state;
mod hostile;
mod iam_roles;
mod identity;
mod image;
mod init;
mod large_records;
mod lifecycle;
mod msk;
mod native;
mod offsets;
mod offsets_translate;
mod plan;
mod quotas;
mod release;
mod replicate;
mod running;
mod scale;
mod schemas;
mod snapshots;
mod support;
mod validate;
mod verify;
