//! Broker faults while `apply` replicates, on a three-broker source and a three-broker target
//! (started once for every fault), with a producer writing to the source throughout:
//!
//! 1. the target broker leading the busy partitions is killed (SIGKILL) and started again;
//! 2. the source broker leading them is killed and started again;
//! 3. every target broker is frozen (SIGSTOP) for 60 seconds — connections stay open and
//!    nothing answers, as when a network partition cuts the target off — then thawed;
//! 4. every target broker is killed and stays down until `apply` gives up, which it does
//!    with an error naming the target; the brokers start again and a second `apply` finishes.
//!
//! One `apply` rides through the first three, catching up after each; after the second
//! `apply` the target holds every record the source holds, once, in order, and `verify` says
//! READY. What `apply` printed during each
//! fault and how long the target took to catch up are printed to standard error.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kafka_harness::data;
use kafka_harness::{Cluster, ClusterSpec, Flavour};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::support::{
    apply_until_synced, assert_identical, assert_ready, migration_file_rf, wait_for, Running,
};

const PARTITIONS: i32 = 6;
/// How long the whole target stays frozen.
const UNREACHABLE: Duration = Duration::from_secs(60);
/// Longest wait for the target to catch up with the source after a fault.
const CATCH_UP: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread")]
async fn apply_rides_through_broker_faults_and_a_rerun_finishes_after_one_it_cannot() {
    let (source, target) = std::thread::scope(|s| {
        let start = |name: &'static str| {
            s.spawn(move || {
                Cluster::start(ClusterSpec::new(name, Flavour::Plain).nodes(3))
                    .unwrap_or_else(|e| panic!("starting {name}: {e}"))
            })
        };
        let (source, target) = (start("faults-source"), start("faults-target"));
        (source.join().unwrap(), target.join().unwrap())
    });
    let p = data::unique_name("faults").replace('-', "_");
    let topic = format!("{p}.busy");
    data::create_topic(&source.admin_config(), &topic, PARTITIONS, 3, &[])
        .await
        .unwrap();
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(600, PARTITIONS),
    )
    .await
    .unwrap();
    let group_offsets: Vec<(&str, i32, i64)> =
        (0..PARTITIONS).map(|p| (topic.as_str(), p, 50)).collect();
    data::commit_offsets(&source.admin_config(), &format!("{p}-app"), &group_offsets).unwrap();
    // The same migration, retrying as often and waiting for the target as long as apply does
    // by default, then retrying once with a 10 s transaction timeout (so that it gives up soon).
    let (dir, budget_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let file = |dir: &tempfile::TempDir, retries: u32, timeout: &str| {
        migration_file_rf(
            dir.path(),
            &p,
            &p,
            &source,
            &target,
            3,
            &format!("replication {{\n  tasks = 2\n  commit_interval = \"200ms\"\n  max_retries = {retries}\n  transaction_timeout = \"{timeout}\"\n}}\ncutover {{\n  quiet_period = \"1s\"\n  data_check   = \"full\"\n}}\n"),
        )
    };
    let (config, budget_config) = (file(&dir, 6, "60s"), file(&budget_dir, 1, "10s"));
    let writer = Writer::start(&source, &topic);
    let tail = Tail::start(&target, &topic);
    let mut apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |_| {});
    let watch = Watch {
        source: &source,
        topic: &topic,
        tail: &tail,
        apply: &apply,
    };
    watch.caught_up("the first records");

    // 1. The target leader of the busy partitions crashes and comes back; 2. the source's.
    for (side, cluster) in [("target", &target), ("source", &source)] {
        let leader = leader_index(cluster, &topic);
        watch.fault(
            &format!("{side} broker {} (leader) killed and restarted", leader + 1),
            || cluster.kill_node(leader),
            || {
                cluster.start_node(leader).unwrap();
                cluster.wait_ready(3).unwrap();
            },
            true,
        );
    }
    // 3. The whole target is cut off for a minute.
    watch.fault(
        &format!("every target broker frozen for {}s", UNREACHABLE.as_secs()),
        || {
            for i in 0..target.node_count() {
                target.freeze_node(i);
            }
            let frozen = Instant::now();
            // verify while the target is cut off: NOT READY or an error, never READY.
            let mut verify = Running::start(&config, &["verify"], dir.path(), |_| {});
            let verdict = match verify.exit_within(
                (UNREACHABLE - Duration::from_secs(5)).saturating_sub(frozen.elapsed()),
            ) {
                Some(status) => status.code(),
                None => {
                    verify.kill();
                    None
                }
            };
            assert_ne!(
                verdict,
                Some(0),
                "verify said READY with the target cut off"
            );
            eprintln!(
                "== verify with the target frozen: exit {verdict:?} after {:.0}s",
                frozen.elapsed().as_secs_f64()
            );
            std::thread::sleep(UNREACHABLE.saturating_sub(frozen.elapsed()));
        },
        || {
            for i in 0..target.node_count() {
                target.thaw_node(i);
            }
            target.wait_ready(3).unwrap();
        },
        false,
    );
    apply.interrupt();
    let status = apply.wait_exit(Duration::from_secs(120));
    assert!(
        status.success(),
        "apply exited with {status}; {}",
        apply.output()
    );

    // 4. The whole target goes down for longer than apply retries (once): apply stops, naming
    // the target; once the target is back, a second apply finishes.
    let mut apply = Running::start(
        &budget_config,
        &["apply", "--auto-approve"],
        budget_dir.path(),
        |_| {},
    );
    Watch {
        source: &source,
        topic: &topic,
        tail: &tail,
        apply: &apply,
    }
    .caught_up("the records written before the outage");
    for i in 0..target.node_count() {
        target.kill_node(i);
    }
    let down = Instant::now();
    let status = apply.wait_exit(Duration::from_secs(600));
    let gave_up = down.elapsed();
    let sent = writer.stop();
    let stderr = apply.stderr();
    let said = stderr.trim_end();
    assert_eq!(status.code(), Some(1), "{}", apply.output());
    // The diagnostic as one line, without its wrapping.
    let error = said
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        error.contains("stopped after retrying 1 time(s):") && error.contains("target failed"),
        "the error says neither that apply gave up nor on which cluster: {said}"
    );
    for i in 0..target.node_count() {
        target.start_node(i).unwrap();
    }
    target.wait_ready(3).unwrap();
    let back = Instant::now();
    apply_until_synced(&config);
    let rerun = back.elapsed();
    eprintln!(
        "== every target broker killed until apply gave up: it gave up after {:.0}s; the rerun finished {:.0}s after the target was back; apply printed:\n{}\n{}",
        gave_up.as_secs_f64(),
        rerun.as_secs_f64(),
        apply.stdout().trim_end(),
        said.get(said.rfind('×').unwrap_or(0)..).unwrap_or_default(),
    );
    assert_eq!(assert_identical(&source, &target, &topic), 600 + sent);
    assert_ready(&config);
}

/// The node (0-based) leading partition 0 of `topic`.
fn leader_index(cluster: &Cluster, topic: &str) -> usize {
    let consumer: BaseConsumer = cluster.admin_config().create().unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let leader = md.topics()[0].partitions()[0].leader();
    usize::try_from(leader - 1).unwrap()
}

/// Watches the migration while faults happen.
struct Watch<'a> {
    source: &'a Cluster,
    topic: &'a str,
    tail: &'a Tail,
    apply: &'a Running,
}

impl Watch<'_> {
    /// Waits until the target holds every record the source holds now; returns how long that
    /// took.
    fn caught_up(&self, what: &str) -> Duration {
        let since = Instant::now();
        let ends = end_offsets(self.source, self.topic);
        wait_for(
            CATCH_UP,
            || {
                format!(
                    "the target to catch up with {what} (source {ends:?}, target {:?}); {}",
                    self.tail.counts(),
                    self.apply.output()
                )
            },
            || {
                self.tail
                    .counts()
                    .iter()
                    .zip(&ends)
                    .all(|(got, want)| got >= want)
            },
        );
        since.elapsed()
    }

    /// Injects a fault, (when `progress_while_down`) waits until replication goes on
    /// without the lost broker, ends the fault and waits until the target caught up; says
    /// what `apply` printed meanwhile and how long each step took (on standard error).
    fn fault(
        &self,
        name: &str,
        inject: impl FnOnce(),
        end: impl FnOnce(),
        progress_while_down: bool,
    ) {
        let (out_at, err_at) = (self.apply.stdout().len(), self.apply.stderr().len());
        let start = Instant::now();
        inject();
        let during = progress_while_down
            .then(|| self.caught_up(&format!("the records written since: {name}")));
        let ended = Instant::now();
        end();
        let restarted = ended.elapsed();
        let recovered = self.caught_up(&format!("the records written during: {name}"));
        let (out, err) = (self.apply.stdout(), self.apply.stderr());
        let warnings = err
            .get(err_at..)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" WARN kafka_migrate") || l.contains(" ERROR kafka_migrate"))
            .count();
        let mut line = format!("== {name}:");
        if let Some(during) = during {
            line += &format!(
                " caught up {:.1}s after the fault, with the broker still down;",
                during.as_secs_f64()
            );
        }
        line += &format!(
            " fault ended after {:.1}s (broker back in {:.1}s); caught up {:.1}s after it ended; apply logged {warnings} warning(s) and printed:\n{}",
            ended.duration_since(start).as_secs_f64(),
            restarted.as_secs_f64(),
            (restarted + recovered).as_secs_f64(),
            out.get(out_at..).unwrap_or_default().trim_end()
        );
        eprintln!("{line}");
    }
}

/// The high watermark of each partition of `topic` (the source has no transactions, so it
/// is the partition's record count), asked again (by a new client, with fresh metadata) while
/// a partition has no leader.
fn end_offsets(cluster: &Cluster, topic: &str) -> Vec<i64> {
    let mut ends = Vec::new();
    wait_for(
        Duration::from_secs(120),
        || format!("the end offsets of {topic} on {}", cluster.name()),
        || {
            let consumer: BaseConsumer = cluster.admin_config().create().unwrap();
            ends = (0..PARTITIONS)
                .map_while(|p| {
                    consumer
                        .fetch_watermarks(topic, p, Duration::from_secs(5))
                        .ok()
                        .map(|w| w.1)
                })
                .collect();
            ends.len() == PARTITIONS as usize
        },
    );
    ends
}

/// Counts the records in each partition of a topic as a read_committed consumer sees them.
struct Tail {
    counts: Arc<Mutex<Vec<i64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tail {
    fn start(cluster: &Cluster, topic: &str) -> Tail {
        let consumer: BaseConsumer = cluster
            .admin_config()
            .set("group.id", data::unique_name("tail"))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .unwrap();
        }
        let counts = Arc::new(Mutex::new(vec![0; PARTITIONS as usize]));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (counts, stop) = (counts.clone(), stop.clone());
            std::thread::spawn(move || {
                consumer.assign(&tpl).unwrap();
                while !stop.load(Ordering::Relaxed) {
                    if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                        counts.lock().unwrap()[m.partition() as usize] += 1;
                    }
                }
            })
        };
        Tail {
            counts,
            stop,
            thread: Some(thread),
        }
    }

    fn counts(&self) -> Vec<i64> {
        self.counts.lock().unwrap().clone()
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A producer writing small records to the source all along (idempotent, acks=all, no
/// delivery timeout short enough to give up during a fault).
struct Writer {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<usize>,
}

#[derive(Default)]
struct Deliveries {
    failed: AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Writer {
    /// Writes about 500 records a second until [`Writer::stop`].
    fn start(cluster: &Cluster, topic: &str) -> Writer {
        let producer: BaseProducer<Deliveries> = cluster
            .admin_config()
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "600000")
            .create_with_context(Deliveries::default())
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let topic = topic.to_string();
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut sent = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10 {
                        let (key, value) = (format!("k{sent}"), format!("written-{sent}"));
                        let mut record = BaseRecord::to(&topic).key(&key).payload(&value);
                        while let Err((_, back)) = producer.send(record) {
                            record = back;
                            producer.poll(Duration::from_millis(10));
                        }
                        sent += 1;
                    }
                    producer.poll(Duration::from_millis(20));
                }
                producer.flush(Duration::from_secs(600)).unwrap();
                let failed = producer.context().failed.load(Ordering::Relaxed);
                assert_eq!(failed, 0, "records the source refused");
                sent
            })
        };
        Writer { stop, thread }
    }

    /// Stops writing, waits for every delivery and returns how many records were written.
    fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}
