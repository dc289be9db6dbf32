//! Process-wide state: the run folder under `target/`, log keeping on failure, and the
//! clusters that the tests of one test binary share (each test isolates itself with unique
//! topic and group names).
//!
//! Each process writes under `target/kafka-harness/run-<pid>/`. Folders of finished runs are
//! removed when the next run starts, unless a panic marked them `KEEP`: a failed test's broker
//! logs stay, and their path is printed.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::cluster::{Cluster, ClusterSpec, Flavour};
use crate::runtime::Release;

const KEEP: &str = "KEEP";

/// `target/` of the workspace (or `$CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or(Path::new("."))
            .join("target"),
    }
}

/// This process's run folder; the first call prunes finished runs and installs the panic hook
/// that keeps logs.
pub fn run_dir() -> &'static Path {
    static RUN_DIR: OnceLock<PathBuf> = OnceLock::new();
    RUN_DIR.get_or_init(|| {
        let root = target_dir().join("kafka-harness");
        prune(&root);
        let dir = root.join(format!("run-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            keep_logs();
        }));
        dir
    })
}

/// Marks this run's folder to be kept and says where it is (once).
pub fn keep_logs() {
    static SAID: OnceLock<()> = OnceLock::new();
    let dir = run_dir();
    SAID.get_or_init(|| {
        let _ = fs::write(dir.join(KEEP), "");
        eprintln!("Kafka logs of this run are kept in {}", dir.display());
    });
}

fn prune(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !crate::process::is_alive(pid) && !entry.path().join(KEEP).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn shared(cell: &'static OnceLock<Cluster>, name: &str, flavour: Flavour) -> &'static Cluster {
    shared_spec(cell, ClusterSpec::new(name, flavour))
}

fn shared_spec(cell: &'static OnceLock<Cluster>, spec: ClusterSpec) -> &'static Cluster {
    cell.get_or_init(|| {
        let name = spec.name.clone();
        Cluster::start(spec).unwrap_or_else(|e| panic!("starting the shared `{name}` cluster: {e}"))
    })
}

/// A shared single-node PLAINTEXT cluster used as a migration source.
pub fn plain_source() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared(&CLUSTER, "plain-source", Flavour::Plain)
}

/// A shared single-node PLAINTEXT migration source running `release` (ZooKeeper-based for
/// Kafka 2.8); for the current release, [`plain_source`].
pub fn source_of(release: Release) -> &'static Cluster {
    static KAFKA28: OnceLock<Cluster> = OnceLock::new();
    static KAFKA39: OnceLock<Cluster> = OnceLock::new();
    let (cell, name) = match release {
        Release::Kafka28 => (&KAFKA28, "source-kafka-2.8"),
        Release::Kafka39 => (&KAFKA39, "source-kafka-3.9"),
        Release::Current => return plain_source(),
    };
    shared_spec(
        cell,
        ClusterSpec::new(name, Flavour::Plain).release(release),
    )
}

/// A shared single-node SASL/SCRAM cluster with ACLs enforced, used as a migration source.
pub fn secure_source() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared(&CLUSTER, "secure-source", Flavour::Secure)
}

/// A shared single-node PLAINTEXT cluster used as a migration target.
pub fn target() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared(&CLUSTER, "target", Flavour::Plain)
}

/// A shared single-node cluster with an mTLS listener and a SASL_SSL SCRAM listener, used as
/// a migration source.
pub fn tls_source() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared(&CLUSTER, "tls-source", Flavour::Tls)
}

/// The AWS region whose MSK IAM tokens [`tls_target`] accepts.
pub const TLS_TARGET_MSK_IAM_REGION: &str = "eu-west-1";

/// A shared single-node cluster with an mTLS listener and a SASL_SSL listener taking SCRAM
/// and MSK IAM tokens (for [`TLS_TARGET_MSK_IAM_REGION`]), used as a migration target.
pub fn tls_target() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared_spec(
        &CLUSTER,
        ClusterSpec::new("tls-target", Flavour::Tls).msk_iam(TLS_TARGET_MSK_IAM_REGION),
    )
}

/// A shared single-node PLAINTEXT cluster whose broker creates a topic a client names
/// (`auto.create.topics.enable=true`, unlike every other cluster here): a second migration
/// source beside [`plain_source`], and a target on which a client allowed to have topics
/// auto-created would be seen doing it.
pub fn auto_create() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    shared_spec(
        &CLUSTER,
        ClusterSpec::new("auto-create", Flavour::Plain)
            .broker_config("auto.create.topics.enable", "true"),
    )
}
