//! The quick-start demo: a local SASL/SCRAM source with ACLs and a PLAINTEXT target on the
//! ports `examples/local.hcl` names, sample topics, records, configs, ACLs and consumer groups
//! on the source, then `kafka-migrate` validate → plan → apply → verify on that file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use kafka_harness::data::{self, Record};
use kafka_harness::tools::Tool;
use kafka_harness::{Cluster, ClusterSpec, Flavour, ADMIN};

const SOURCE_PORT: u16 = 19092;
const TARGET_PORT: u16 = 29092;

/// A sample topic: name, partitions, records, topic configs.
type SampleTopic = (
    &'static str,
    i32,
    usize,
    &'static [(&'static str, &'static str)],
);

const TOPICS: &[SampleTopic] = &[
    (
        "demo.orders",
        6,
        6_000,
        &[
            ("retention.ms", "1209600000"),
            ("max.message.bytes", "2097152"),
        ],
    ),
    ("demo.payments", 3, 3_000, &[("retention.ms", "2592000000")]),
    (
        "demo.customers",
        3,
        1_500,
        &[
            ("cleanup.policy", "compact"),
            ("min.compaction.lag.ms", "60000"),
        ],
    ),
    ("demo.audit", 1, 500, &[]),
];

/// Consumer groups and how far through each topic they have committed (a fraction).
const GROUPS: &[(&str, &str, f64)] = &[
    ("demo-billing", "demo.orders", 0.5),
    ("demo-billing", "demo.payments", 1.0),
    ("demo-crm", "demo.customers", 0.25),
];

pub fn run(args: &[String]) -> Result<i32> {
    let keep = args.iter().any(|a| a == "--keep");
    let root = workspace_root();
    println!("==> Starting the source (SASL/SCRAM, ACLs enforced) on 127.0.0.1:{SOURCE_PORT} and the target on 127.0.0.1:{TARGET_PORT}");
    let source =
        Cluster::start(ClusterSpec::new("demo-source", Flavour::Secure).base_port(SOURCE_PORT))
            .context("starting the demo source cluster")?;
    let target =
        Cluster::start(ClusterSpec::new("demo-target", Flavour::Plain).base_port(TARGET_PORT))
            .context("starting the demo target cluster")?;

    println!(
        "==> Loading sample topics, records, configs, ACLs and consumer groups into the source"
    );
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(load(&source))?;

    println!(
        "    The source's super user is {} with password {} (SCRAM-SHA-512); examples/local.hcl reads it from SOURCE_PASSWORD.",
        ADMIN.name, ADMIN.password
    );
    let binary = build_kafka_migrate(&root)?;
    let config = root.join("examples/local.hcl");
    let steps: &[&[&str]] = &[
        &["validate"],
        &["plan"],
        &["apply", "--auto-approve", "--until-synced"],
        &["verify"],
    ];
    let mut code = 0;
    for step in steps {
        println!(
            "\n==> kafka-migrate {} -c examples/local.hcl",
            step.join(" ")
        );
        let status = Command::new(&binary)
            .args(*step)
            .arg("-c")
            .arg(&config)
            .env("SOURCE_PASSWORD", ADMIN.password)
            .status()
            .with_context(|| format!("running {}", binary.display()))?;
        if !status.success() {
            code = status.code().unwrap_or(1);
            println!(
                "==> `kafka-migrate {}` ended with {status}; the demo stops here.",
                step[0]
            );
            break;
        }
    }
    if keep {
        println!(
            "\n==> Clusters keep running (source {}, target {}); Ctrl-C or SIGTERM stops them. Try:\n    SOURCE_PASSWORD={} {} status -c examples/local.hcl",
            source.bootstrap(),
            target.bootstrap(),
            ADMIN.password,
            binary.display()
        );
        // Until a signal, whether or not standard input is a terminal (a closed one must not
        // stop the clusters).
        runtime.block_on(until_signal())?;
        println!("==> Stopping the clusters.");
    }
    Ok(code)
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM.
async fn until_signal() -> Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = term.recv() => {}
    }
    Ok(())
}

async fn load(source: &Cluster) -> Result<()> {
    let admin = source.admin_config();
    for (topic, partitions, count, configs) in TOPICS {
        data::create_topic(&admin, topic, *partitions, 1, configs).await?;
        let mut records: Vec<Record> = data::sample_records(*count, *partitions);
        if configs.contains(&("cleanup.policy", "compact")) {
            // Compacted topics need a key on every record.
            for (i, r) in records.iter_mut().enumerate() {
                r.key = Some(format!("customer-{}", i % 500).into_bytes());
            }
        }
        data::produce(&admin, topic, &records).await?;
    }
    for (group, topic, fraction) in GROUPS {
        let (_, partitions, count, _) = TOPICS
            .iter()
            .find(|t| t.0 == *topic)
            .context("a demo group names a demo topic")?;
        let per_partition = (*count as f64 / f64::from(*partitions) * fraction) as i64;
        let offsets: Vec<(&str, i32, i64)> = (0..*partitions)
            .map(|p| (*topic, p, per_partition))
            .collect();
        data::commit_offsets(&admin, group, &offsets)?;
    }
    let acls: &[&[&str]] = &[
        &[
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--operation",
            "Describe",
            "--topic",
            "demo.orders",
        ],
        &[
            "--add",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--group",
            "demo-",
            "--resource-pattern-type",
            "prefixed",
        ],
        &[
            "--add",
            "--allow-principal",
            "User:bob",
            "--operation",
            "Write",
            "--topic",
            "demo.",
            "--resource-pattern-type",
            "prefixed",
        ],
        &[
            "--add",
            "--deny-principal",
            "User:bob",
            "--operation",
            "Read",
            "--topic",
            "demo.payments",
        ],
    ];
    for acl in acls {
        source.tool(Tool::Acls, acl)?;
    }
    Ok(())
}

/// Builds kafka-migrate in the profile `scripts/demo` chose (`KAFKA_MIGRATE_DEMO_PROFILE`:
/// release when a release build is there, else debug): its path.
fn build_kafka_migrate(root: &Path) -> Result<PathBuf> {
    let release = std::env::var("KAFKA_MIGRATE_DEMO_PROFILE").is_ok_and(|p| p == "release");
    let profile = if release { "release" } else { "debug" };
    println!("==> Building kafka-migrate ({profile})");
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.args(["build", "--quiet", "--bin", "kafka-migrate"]);
    if release {
        build.arg("--release");
    }
    let status = build.current_dir(root).status()?;
    if !status.success() {
        bail!("building kafka-migrate failed");
    }
    Ok(kafka_harness::shared::target_dir()
        .join(profile)
        .join("kafka-migrate"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
