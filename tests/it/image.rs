//! The container image (`Containerfile`, `scripts/image`) as an operator runs it: built here
//! with podman from this machine's files and the release binary (`scripts/image` builds it,
//! as it does for users), `validate` on an example, `apply --until-synced` and `verify` against
//! the harness's clusters from inside the container (host network), and SIGTERM — what an
//! orchestrator sends — draining and committing like Ctrl-C. Under CI (`CI` set) a machine
//! without podman fails the test (`.ci/run` installs podman or stops); elsewhere the test says
//! so and checks nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use kafka_harness::{data, shared};

use crate::support::{assert_identical, flat, migration_file, wait_for, Running};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// podman with the project's settings for machines like this one.
fn podman() -> Command {
    let mut cmd = Command::new("podman");
    cmd.env("CONTAINERS_CONF", root().join("scripts/podman.conf"));
    cmd
}

/// The image's tag, built once per test run as users build it: `scripts/image`, which builds
/// the release binary. None without podman, outside CI.
fn image() -> Option<&'static str> {
    static TAG: OnceLock<Option<String>> = OnceLock::new();
    TAG.get_or_init(|| {
        if Command::new("podman").arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "podman is not installed: under CI the container image must be tested (.ci/run installs podman)"
            );
            eprintln!("podman is not installed: the container image is not tested here");
            return None;
        }
        let tag = format!("kafka-migrate:it-{}", std::process::id());
        let out = Command::new(root().join("scripts/image"))
            .args(["--tag", &tag, "--engine", "podman"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/image failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(tag)
    })
    .as_deref()
}

/// `podman run` of the image with `dir` mounted at /migration and the host's network.
fn run_in(tag: &str, dir: &Path, name: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = podman();
    cmd.args(["run", "--rm", "--network", "host", "-v"])
        .arg(format!("{}:/migration", dir.display()))
        .args(["-e", "NO_COLOR=1"]);
    if let Some(name) = name {
        cmd.args(["--name", name]);
    }
    cmd.arg(tag).args(args);
    cmd
}

fn succeeds_in(tag: &str, dir: &Path, args: &[&str]) -> String {
    let out = run_in(tag, dir, None, args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

#[tokio::test]
async fn the_image_validates_migrates_verifies_and_drains_on_sigterm() {
    let Some(tag) = image() else { return };
    // An example, validated inside the container.
    let examples = root().join("examples");
    let out = run_in(
        tag,
        &examples,
        None,
        &["validate", "-c", "/migration/plaintext.hcl"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("plaintext.hcl is valid"));

    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("image").replace('-', "_");
    let topic = format!("{p}.a");
    crate::support::topic_with_records_over(source, &topic, 3, 20_000).await;
    let dir = tempfile::tempdir().unwrap();
    // The container's user (not root) reads the migration file.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    migration_file(
        dir.path(),
        &p,
        &p,
        source,
        target,
        "replication {\n  commit_interval = \"100ms\"\n  transaction_bytes = \"64KiB\"\n}\ncutover {\n  quiet_period = \"1s\"\n  data_check = \"full\"\n}\n",
    );

    // SIGTERM while apply replicates: it drains, commits and exits 0.
    let name = format!("{p}-apply");
    let mut apply = Running::spawn(
        run_in(tag, dir.path(), Some(&name), &["apply", "--auto-approve"]),
        dir.path(),
        |_| {},
    );
    wait_for(
        Duration::from_secs(120),
        || format!("the containerised apply to replicate: {}", apply.stderr()),
        || {
            data::read_all(&target.admin_config(), &topic)
                .is_ok_and(|r| r.values().map(Vec::len).sum::<usize>() > 0)
        },
    );
    let killed = podman()
        .args(["kill", "--signal", "TERM", &name])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = apply.wait_exit(Duration::from_secs(60));
    let said = flat(&apply.stderr());
    assert!(
        status.success(),
        "apply after SIGTERM exited {status}: {said}"
    );
    assert!(
        said.contains("Stopping: finishing the current batch and committing"),
        "{said}"
    );

    // A rerun from the container finishes exactly-once; verify there says READY.
    succeeds_in(
        tag,
        dir.path(),
        &["apply", "--auto-approve", "--until-synced"],
    );
    assert_eq!(assert_identical(source, target, &topic), 20_000);
    let report = succeeds_in(tag, dir.path(), &["verify"]);
    assert!(report.contains("READY FOR CUTOVER"), "{report}");
    let _ = podman().args(["rmi", "--force", tag]).output();
}
