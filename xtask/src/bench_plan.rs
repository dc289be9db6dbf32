//! `bench plan`: time to survey two clusters and plan a migration of 2,000 topics × 6
//! partitions (inventory of both sides, diff, validate-only checks on the target).
//!
//! ```text
//! cargo run --release -p xtask -- bench plan [--topics 2000] [--partitions 6]
//! ```

use std::time::{Duration, Instant};

use anyhow::Result;
use kafka_harness::{Cluster, ClusterSpec, Flavour};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;

pub fn run(args: &[String]) -> Result<i32> {
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (topics, partitions) = (flag("--topics", 2_000), flag("--partitions", 6) as i32);
    let mut spec = ClusterSpec::new("bench-plan-source", Flavour::Plain);
    spec.heap_mb = 1536;
    let source = Cluster::start(spec)?;
    let target = Cluster::start(ClusterSpec::new("bench-plan-target", Flavour::Plain))?;
    let rt = tokio::runtime::Runtime::new()?;
    println!("Creating {topics} topics × {partitions} partitions on the source …");
    rt.block_on(async {
        let admin: AdminClient<DefaultClientContext> = source.admin_config().create()?;
        let names: Vec<String> = (0..topics).map(|i| format!("bench.plan-{i:05}")).collect();
        for chunk in names.chunks(200) {
            let new: Vec<NewTopic<'_>> = chunk
                .iter()
                .map(|n| {
                    NewTopic::new(n, partitions, TopicReplication::Fixed(1))
                        .set("retention.ms", "86400000")
                })
                .collect();
            let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(120)));
            for result in admin.create_topics(new.iter(), &opts).await? {
                result.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
            }
        }
        anyhow::Ok(())
    })?;
    // Wait until every partition has a leader: the plan is timed, not topic creation.
    let consumer: rdkafka::consumer::BaseConsumer = source.admin_config().create()?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let md =
            rdkafka::consumer::Consumer::fetch_metadata(&consumer, None, Duration::from_secs(30))?;
        let ready = md
            .topics()
            .iter()
            .filter(|t| t.name().starts_with("bench.plan-"))
            .filter(|t| t.error().is_none() && t.partitions().iter().all(|p| p.leader() >= 0))
            .count();
        if ready == topics {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {ready} of {topics} topics have leaders after 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let text = format!(
        "name = \"bench-plan\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{\n  include = [\"^bench\\\\.plan-\"]\n  replication_factor = 1\n}}\n",
        source.bootstrap(),
        target.bootstrap()
    );
    let migration =
        kafka_migrate::config::parse("bench.hcl", &text, std::path::Path::new("."), &[])?;
    for run in 1..=3 {
        let start = Instant::now();
        let survey = rt.block_on(kafka_migrate::survey::survey(
            &migration,
            kafka_migrate::plan::Engine::Native,
            &Default::default(),
        ))?;
        println!(
            "plan #{run}: {} topics, {} partitions → {} actions in {:.2}s",
            survey.snapshot.source_inventory.topics.len(),
            survey
                .snapshot
                .source_inventory
                .topics
                .values()
                .map(|t| t.partitions.len())
                .sum::<usize>(),
            survey.plan.actions.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(0)
}
