//! Exactly-once under crashes: `apply` killed with SIGKILL at ten random moments while it replicates,
//! started again each time; afterwards the target holds every source record exactly once, in
//! order, with the same key, value, headers and timestamp.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use kafka_harness::{data, shared};

use crate::support::{apply_until_synced, assert_identical, migration_file, wait_for, Running};

/// How many runs must die by SIGKILL (a run that finished before its moment does not count,
/// and must have exited 0).
const KILLS: usize = 10;
/// The signal `Running::kill` sends.
const SIGKILL: i32 = 9;
/// Records produced to each topic before every run.
const PER_RUN: usize = 3_000;

#[tokio::test]
async fn apply_killed_ten_times_leaves_every_record_exactly_once() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("crash").replace('-', "_");
    let topics = [format!("{p}.a"), format!("{p}.b")];
    for t in &topics {
        data::create_topic(&source.admin_config(), t, 3, 1, &[])
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migration.hcl");
    std::fs::write(
        &config,
        format!(
            "name = \"{p}\"\ncluster \"source\" {{ bootstrap_servers = [\"{}\"] }}\ncluster \"target\" {{ bootstrap_servers = [\"{}\"] }}\ntopics {{\n  include = [\"^{p}\\\\.\"]\n  replication_factor = 1\n}}\nreplication {{\n  tasks = 2\n  commit_interval = \"200ms\"\n}}\n",
            source.bootstrap(),
            target.bootstrap()
        ),
    )
    .unwrap();
    // Random moments over start-up, metadata and replication; the seed is printed so that a
    // failing sequence can be replayed with KILL_SEED.
    let seed = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("kill moments from KILL_SEED={seed}");
    let mut moments = fastrand::Rng::with_seed(seed);
    let (mut killed, mut runs) = (0, 0);
    while killed < KILLS {
        assert!(
            runs < 3 * KILLS,
            "only {killed} of {runs} runs were still running when killed"
        );
        runs += 1;
        let delay = moments.u64(500..4_500);
        // New records keep arriving between the crashes.
        for t in &topics {
            data::produce(&source.admin_config(), t, &data::sample_records(PER_RUN, 3))
                .await
                .unwrap();
        }
        let mut run = Running::start(
            &config,
            &["apply", "--auto-approve", "--until-synced"],
            dir.path(),
            |_| {},
        );
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // SIGKILL; a run that ended before its moment must have ended well.
        let status = run.kill();
        if status.signal() == Some(SIGKILL) {
            killed += 1;
        } else {
            assert!(
                status.success(),
                "run {runs} ended on its own before its kill moment, with {status}: {}",
                run.output()
            );
        }
    }
    apply_until_synced(&config);
    for t in &topics {
        assert_eq!(assert_identical(source, target, t), runs * PER_RUN);
    }
}

/// Two `apply` processes on one migration: the second takes it over and the first exits
/// with a message that names it; the target still holds every record exactly once.
#[tokio::test]
async fn a_second_apply_fences_the_first_and_data_stays_exactly_once() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("fence").replace('-', "_");
    let topic = format!("{p}.a");
    data::create_topic(&source.admin_config(), &topic, 3, 1, &[])
        .await
        .unwrap();
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(PER_RUN, 3),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "replication {\n  tasks = 2\n  commit_interval = \"200ms\"\n}\n",
    );
    let mut first = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |_| {});
    // The first process is replicating: the target has the records produced so far.
    wait_for(
        Duration::from_secs(60),
        || "the first apply to replicate",
        || {
            data::read_all(&target.admin_config(), &topic)
                .is_ok_and(|r| r.values().map(Vec::len).sum::<usize>() == PER_RUN)
        },
    );
    data::produce(
        &source.admin_config(),
        &topic,
        &data::sample_records(PER_RUN, 3),
    )
    .await
    .unwrap();
    // The second says plainly that it takes the migration over from the first.
    let second = crate::support::flat(&apply_until_synced(&config));
    assert!(
        second.contains(
            "taking the migration over from the run that held it (kafka-migrate apply (pid"
        ),
        "{second}"
    );
    let status = first.wait_exit(Duration::from_secs(60));
    let stderr = crate::support::flat(&first.stderr());
    assert!(!status.success(), "the fenced apply exited with {status}");
    assert!(
        stderr.contains(&format!(
            "another run of migration \"{p}\" took it over: kafka-migrate apply (pid"
        )),
        "{stderr}"
    );
    assert_eq!(assert_identical(source, target, &topic), 2 * PER_RUN);
}

/// Writes batches of records to `topic` until the returned flag is set; the handle gives the
/// number of records written.
fn steady_writer(
    cluster: &'static kafka_harness::Cluster,
    topic: &str,
    partitions: i32,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    tokio::task::JoinHandle<usize>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let (flag, topic) = (stop.clone(), topic.to_string());
    let handle = tokio::spawn(async move {
        let mut written = 0;
        while !flag.load(Ordering::Relaxed) {
            let batch = data::sample_records(600, partitions);
            data::produce(&cluster.admin_config(), &topic, &batch)
                .await
                .unwrap();
            written += batch.len();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        written
    });
    (stop, handle)
}

/// A migration of topic `PREFIX.a` replicated with `tasks` tasks, committing every 200 ms.
fn with_tasks(dir: &std::path::Path, p: &str, tasks: usize) -> std::path::PathBuf {
    let (source, target) = (shared::plain_source(), shared::target());
    let sub = dir.join(format!("tasks-{tasks}"));
    std::fs::create_dir_all(&sub).unwrap();
    migration_file(
        &sub,
        p,
        p,
        source,
        target,
        &format!("replication {{\n  tasks = {tasks}\n  commit_interval = \"200ms\"\n}}\n"),
    )
}

/// A migration of a 6-partition topic that a steady writer keeps busy, replicated by an
/// `apply` with 6 tasks (running, records on every target partition).
struct Busy {
    p: String,
    topic: String,
    dir: tempfile::TempDir,
    first: Running,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writer: tokio::task::JoinHandle<usize>,
}

async fn six_tasks_replicating(prefix: &str) -> Busy {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name(prefix).replace('-', "_");
    let topic = format!("{p}.a");
    data::create_topic(&source.admin_config(), &topic, 6, 1, &[])
        .await
        .unwrap();
    let (stop, writer) = steady_writer(source, &topic, 6);
    let dir = tempfile::tempdir().unwrap();
    let six = with_tasks(dir.path(), &p, 6);
    let first = Running::start(&six, &["apply", "--auto-approve"], dir.path(), |_| {});
    wait_for(
        Duration::from_secs(90),
        || format!("the 6-task apply to replicate; {}", first.output()),
        || data::read_all(&target.admin_config(), &topic).is_ok_and(|r| r.len() == 6),
    );
    Busy {
        p,
        topic,
        dir,
        first,
        stop,
        writer,
    }
}

impl Busy {
    /// Stops the writer, lets `config` catch up, and checks that every record written is on
    /// the target exactly once.
    async fn finish_exactly_once(self, config: &std::path::Path) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let written = self.writer.await.unwrap();
        apply_until_synced(config);
        let (source, target) = (shared::plain_source(), shared::target());
        assert_eq!(assert_identical(source, target, &self.topic), written);
    }
}

/// An apply with 6 tasks killed while records flow, then at once an apply with 1 task: the
/// killed run's open transactions on task ids 1–5 are fenced (aborted) before progress is
/// read, so nothing it committed is copied again.
#[tokio::test]
async fn fewer_tasks_right_after_a_killed_apply_copy_nothing_twice() {
    let mut busy = six_tasks_replicating("shrink").await;
    busy.first.kill(); // SIGKILL, transactions open
    let one = with_tasks(busy.dir.path(), &busy.p, 1);
    apply_until_synced(&one);
    busy.finish_exactly_once(&one).await;
}

/// An apply with 6 tasks still running when an apply with 1 task starts: the first sees the
/// later run announce itself, stops, and names it; the data stays exactly-once.
#[tokio::test]
async fn a_running_apply_with_more_tasks_is_fenced_by_one_with_fewer() {
    let mut busy = six_tasks_replicating("fence6").await;
    let one = with_tasks(busy.dir.path(), &busy.p, 1);
    apply_until_synced(&one);
    let first = &mut busy.first;
    let status = first.wait_exit(Duration::from_secs(60));
    assert!(!status.success(), "the fenced apply exited with {status}");
    let said = crate::support::flat(&first.stderr());
    assert!(
        said.contains(&format!(
            "another run of migration \"{}\" took it over: kafka-migrate apply (pid",
            busy.p
        )),
        "{}",
        first.output()
    );
    busy.finish_exactly_once(&one).await;
}

/// Two migration names that differ only by `.` and `_` map to one progress topic: the second
/// is refused, naming both, instead of overwriting the first one's positions.
#[tokio::test]
async fn a_migration_whose_name_maps_to_anothers_progress_topic_is_refused() {
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("names").replace('-', "_");
    let topic = format!("{p}.a");
    crate::support::topic_with_records(source, &topic, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let (dotted, underscored) = (format!("{p}.x"), format!("{p}_x"));
    for (name, sub) in [(&dotted, "dotted"), (&underscored, "underscored")] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        migration_file(&dir.path().join(sub), name, &p, source, target, "");
    }
    apply_until_synced(&dir.path().join("dotted/migration.hcl"));
    let out = crate::support::kafka_migrate(&dir.path().join("underscored/migration.hcl"))
        .args(["apply", "--auto-approve", "--until-synced"])
        .assert()
        .code(1);
    let said = crate::support::flat(&String::from_utf8_lossy(&out.get_output().stderr));
    assert!(
        said.contains(&format!(
            "holds the progress of migration \"{dotted}\", not \"{underscored}\""
        )),
        "{said}"
    );
}
