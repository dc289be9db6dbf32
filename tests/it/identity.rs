//! A migration's identity on real clusters: two migrations from two sources into one target
//! replicate at once and cut over one after the other, each recording its own clusters; a
//! migration file pointed at another source than the recorded one is refused by every
//! command, naming both cluster ids; a migration without the record gets it at its next run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kafka_harness::{data, shared, Cluster};
use kafka_migrate::state::progress::ProgressKey;
use kafka_migrate::state::Store;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::{
    assert_identical, full_check_file, kafka_migrate, props, topic_with_records_over, Running,
};

/// The cluster id `cluster`'s brokers report, read with an independent client.
pub fn cluster_id(cluster: &Cluster) -> String {
    let c: BaseConsumer = cluster.admin_config().create().unwrap();
    c.client()
        .fetch_cluster_id(Duration::from_secs(10))
        .expect("the broker reports a cluster id")
}

/// A migration of `PREFIX.orders` (2 partitions, `records` records) from `source` to the
/// shared target, in a folder of its own.
struct Side {
    dir: tempfile::TempDir,
    config: PathBuf,
    prefix: String,
    orders: String,
}

async fn side(name: &str, source: &Cluster, records: usize) -> Side {
    let prefix = data::unique_name(name).replace('-', "_");
    let orders = format!("{prefix}.orders");
    topic_with_records_over(source, &orders, 2, records).await;
    let dir = tempfile::tempdir().unwrap();
    let config = full_check_file(dir.path(), &prefix, source, shared::target(), "2s");
    Side {
        dir,
        config,
        prefix,
        orders,
    }
}

/// Runs `kafka-migrate -c config ARGS…`: exit code, and both outputs on one line.
fn run(config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = kafka_migrate(config).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), crate::support::flat(&text))
}

#[tokio::test]
async fn two_sources_into_one_target_apply_at_once_cut_over_apart_and_refuse_a_swapped_source() {
    let (first_source, second_source, target) = (
        shared::plain_source(),
        shared::auto_create(),
        shared::target(),
    );
    let (a, b) = (
        side("consolidate-a", first_source, 120).await,
        side("consolidate-b", second_source, 80).await,
    );
    let (id_a, id_b, id_target) = (
        cluster_id(first_source),
        cluster_id(second_source),
        cluster_id(target),
    );
    assert_ne!(id_a, id_b);

    // Both applies run at the same time, each to the end of its own source.
    let args = ["apply", "--auto-approve", "--until-synced"];
    let mut runs: Vec<Running> = [&a, &b]
        .iter()
        .map(|m| Running::start(&m.config, &args, m.dir.path(), |_| {}))
        .collect();
    for run in &mut runs {
        let status = run.wait_exit(Duration::from_secs(240));
        assert!(status.success(), "{}", run.output());
    }
    assert_eq!(assert_identical(first_source, target, &a.orders), 120);
    assert_eq!(assert_identical(second_source, target, &b.orders), 80);
    // Each recorded its own clusters.
    for (m, source_id) in [(&a, &id_a), (&b, &id_b)] {
        let identity = Store::new(&m.prefix, props(target))
            .read()
            .unwrap()
            .identity
            .expect("the identity is recorded at the first run");
        assert_eq!(identity.migration, m.prefix);
        assert_eq!(
            identity.source_cluster_id.as_deref(),
            Some(source_id.as_str())
        );
        assert_eq!(
            identity.target_cluster_id.as_deref(),
            Some(id_target.as_str())
        );
    }

    // A migration replicated before the record existed gets it at its next apply, silently.
    let store = Store::new(&b.prefix, props(target));
    store
        .write(&[(ProgressKey::Identity.encode(), Vec::new())])
        .unwrap();
    assert_eq!(store.read().unwrap().identity, None);
    let (code, out) = run(&b.config, &["plan"]);
    assert_eq!(code, Some(0), "{out}");
    crate::support::apply_until_synced(&b.config);
    let identity = store.read().unwrap().identity.unwrap();
    assert_eq!(identity.source_cluster_id.as_deref(), Some(id_b.as_str()));

    // A's file pointed at B's source: every command refuses it, naming both cluster ids.
    let swapped_dir = tempfile::tempdir().unwrap();
    let swapped = swapped_dir.path().join("migration.hcl");
    let text = std::fs::read_to_string(&a.config)
        .unwrap()
        .replace(&first_source.bootstrap(), &second_source.bootstrap());
    std::fs::write(&swapped, text).unwrap();
    for command in [
        &["plan"][..],
        &["apply", "--auto-approve", "--until-synced"],
        &["status"],
        &["cutover"],
        &["rollback"],
    ] {
        let (code, out) = run(&swapped, command);
        assert_eq!(code, Some(1), "{command:?}: {out}");
        // Without whitespace: a wrapped line may break inside an id at its `-`.
        let squeezed: String = out.split_whitespace().collect();
        assert!(
            squeezed.contains(&format!("sourceclusterid\"{id_a}\""))
                && squeezed.contains(&format!("hasid\"{id_b}\"")),
            "{command:?}: {out}"
        );
        assert!(out.contains("another `name`"), "{command:?}: {out}");
    }
    // `status` of a migration that syncs no groups reads the progress without a survey.
    let lag_only = swapped_dir.path().join("lag-only.hcl");
    let text = std::fs::read_to_string(&swapped).unwrap();
    std::fs::write(
        &lag_only,
        text.replace("consumer_groups {\n", "consumer_groups {\n  sync = false\n"),
    )
    .unwrap();
    let (code, out) = run(&lag_only, &["status"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&id_a) && out.contains(&id_b), "{out}");
    let (code, report) = crate::support::verify(&swapped);
    assert_ne!(code, 0, "{report:#}");
    let connectivity = crate::support::check(&report, "connectivity");
    assert_eq!(connectivity["status"], "FAIL", "{report:#}");
    let evidence = connectivity.to_string();
    assert!(
        evidence.contains(&id_a) && evidence.contains(&id_b),
        "{report:#}"
    );
    // Nothing of B's source reached A's topics.
    assert_eq!(assert_identical(first_source, target, &a.orders), 120);

    // The two cut over one after the other, each at its own point.
    let (code, out) = run(&a.config, &["cutover"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("CUT OVER"), "{out}");
    let progress_b = Store::new(&b.prefix, props(target)).read().unwrap();
    assert!(progress_b.cutover.is_none(), "{:?}", progress_b.cutover);
    let (code, out) = run(&b.config, &["cutover"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("[3/5] drain: done"), "{out}");
    for (m, other) in [(&a, &b), (&b, &a)] {
        let point = crate::support::cutover_point(&m.prefix, target);
        assert!(point.get(&m.orders, 0).is_some() && point.get(&m.orders, 1).is_some());
        assert!(point.get(&other.orders, 0).is_none());
    }
}
