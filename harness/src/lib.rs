//! Real Apache Kafka for tests, the demo and benchmarks.
//!
//! The harness resolves a pinned Apache Kafka release from Maven Central into a local cache
//! (`runtime`), starts KRaft clusters of combined broker+controller JVMs on free loopback ports
//! (`cluster`), and offers helpers to create topics, produce and read back records (`data`) and
//! to run Kafka's own command-line tools as an independent oracle (`tools`). Every JVM it starts
//! dies with the process that started it — also on panic or `kill -9` (`process`).
//!
//! It never mocks anything: what a test proves with it, it proves on real brokers.

pub mod apps;
pub mod cluster;
pub mod connect;
pub mod data;
pub mod process;
pub mod runtime;
pub mod shared;
pub mod tls;
pub mod tools;

pub use cluster::{Cluster, ClusterSpec, Flavour, User, ADMIN, ALICE, BOB};
pub use runtime::{Release, Runtime, KAFKA_VERSION};
pub use tls::TlsFiles;

/// Everything that can go wrong while preparing or running real Kafka.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "resolving Apache Kafka {version} with Maven failed ({status}); Maven said:\n{output}"
    )]
    Maven {
        version: &'static str,
        status: String,
        output: String,
    },
    #[error(
        "cluster `{cluster}` did not become ready within {seconds}s: {reason}; broker logs: {logs}"
    )]
    NotReady {
        cluster: String,
        seconds: u64,
        reason: String,
        logs: String,
    },
    #[error("{tool} failed ({status}): {output}")]
    Tool {
        tool: String,
        status: String,
        output: String,
    },
    #[error("Kafka client error: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

pub(crate) fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}
