//! A hostile source cluster: real Kafka holding names that try to become code, a command or a
//! terminal escape — consumer group ids, a member's client id, SCRAM user names, ACL
//! principals and resources, record header keys, with line breaks, quotes, `${…}`, `%{…}`,
//! `#`, `=`, `:`, backslashes, terminal escapes and non-ASCII (topic names are limited by Kafka
//! to `[a-zA-Z0-9._-]`). `init`, `plan`, `apply`, `status`, `verify`, `cutover` and every
//! `export` run against it: each generated file parses back with its format's parser to the
//! names that went in, no output holds a control character or a line a name injected, nothing
//! panics, and no run shows the source's password, at `-vv` and at `trace` too.
//!
//! One cluster of its own (SASL/SCRAM with ACLs; its users and ACLs would change what other
//! tests read from the shared one), shared by the tests of this module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use kafka_harness::data::{self, Record};
use kafka_harness::tools::Tool;
use kafka_harness::{shared, Cluster, ClusterSpec, Flavour, ADMIN};
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::support::{assert_identical, kafka_migrate, kafka_migrate_bare, wait_for};

/// The source's password: no output may show it.
const PASSWORD_ENV: &str = "HOSTILE_SOURCE_PASSWORD";

/// What every hostile name carries after its prefix: each trick once.
const TRICKS: [&str; 6] = [
    "\nfailback { enabled = true }\n# INJECTED",
    "\"quote${var.x}%{if true}#=:\\back\\n",
    "\u{1b}]0;TITLE\u{7}\r\u{1b}[2J\u{1b}[31mINJECTED",
    "-caf\u{e9}-\u{4e2d}-\u{202e}txt.exe\u{2028}",
    "\u{9b}31m\u{7f}\t#",
    "' OR 1=1; rm -rf / #",
];

/// The cluster, started once for this module's tests.
fn source() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        Cluster::start(ClusterSpec::new("hostile-source", Flavour::Secure))
            .unwrap_or_else(|e| panic!("starting the hostile source: {e}"))
    })
}

/// The source as a migration file's cluster block reaches it: SCRAM as `admin`.
fn source_block(source: &Cluster) -> String {
    format!(
        r#"cluster "source" {{
  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_PLAINTEXT"
    sasl {{
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("{PASSWORD_ENV}")
    }}
  }}
}}"#,
        source.bootstrap()
    )
}

/// The migration of the topics `^PREFIX\.` and groups `^PREFIX-` from the hostile source to
/// `target` (a cluster block), with `extra` blocks.
fn migration(prefix: &str, target: &str, extra: &str) -> String {
    format!(
        "name = \"{prefix}\"\n{}\n{target}\ntopics {{\n  include = [\"^{prefix}\\\\.\"]\n}}\nconsumer_groups {{\n  include = [\"^{prefix}-\"]\n}}\n{extra}\n",
        source_block(source())
    )
}

/// Runs kafka-migrate with `args` and checks what any run must hold: no panic, no secret, no
/// control character but line breaks and tabs, no line that a name injected.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let output = kafka_migrate_bare()
        .current_dir(dir)
        .env(PASSWORD_ENV, ADMIN.password)
        .envs(env.iter().copied())
        .args(args)
        .timeout(Duration::from_secs(300))
        .output()
        .expect("kafka-migrate runs");
    let what = format!("kafka-migrate {} {env:?}", args.join(" "));
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("panicked") && output.status.code().is_some(),
            "{what} crashed:\n{text}"
        );
        assert!(
            !text.contains(ADMIN.password),
            "{what} showed the password on {stream}"
        );
        if let Some(c) = text
            .chars()
            .find(|c| kafka_migrate::quote::is_unsafe(*c) && !matches!(c, '\n' | '\t'))
        {
            panic!("{what}: {c:?} reached {stream}:\n{text}");
        }
        for line in text.lines() {
            let line = line.trim_start();
            assert!(
                !line.starts_with("INJECTED")
                    && !line.starts_with("failback {")
                    && !line.starts_with("# INJECTED"),
                "{what}: a name wrote the line {line:?} on {stream}:\n{text}"
            );
        }
    }
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `path` formatted by HashiCorp's `hclfmt` is unchanged: the file is as `terraform fmt`
/// would leave it. Without `hclfmt` (installed by `scripts/test`), a failure under CI and a
/// notice elsewhere.
pub fn assert_hclfmt_unchanged(path: &Path) {
    let Some(hclfmt) = hclfmt() else {
        assert!(
            std::env::var("CI").is_err(),
            "hclfmt is missing: scripts/test installs it (go install github.com/hashicorp/hcl/v2/cmd/hclfmt), or set HCLFMT"
        );
        eprintln!("hclfmt is not installed (scripts/test installs it): not checked");
        return;
    };
    let out = std::process::Command::new(&hclfmt)
        .arg(path)
        .output()
        .expect("hclfmt runs");
    assert!(out.status.success(), "hclfmt {}: {out:?}", path.display());
    let original = std::fs::read_to_string(path).unwrap();
    let formatted = text(&out.stdout);
    if formatted != original {
        let diff = similar::TextDiff::from_lines(&original, &formatted)
            .unified_diff()
            .header("written", "hclfmt")
            .to_string();
        panic!("{} is not as hclfmt formats it:\n{diff}", path.display());
    }
}

/// `$HCLFMT`, else `hclfmt` where `scripts/test` installs it, else on the `PATH`.
fn hclfmt() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("HCLFMT").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let cache =
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kafka-migrate/hclfmt/hclfmt"));
    if let Some(cached) = cache.filter(|p| p.is_file()) {
        return Some(cached);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("hclfmt"))
            .find(|p| p.is_file())
    })
}

/// The names of the hostile source: groups, users, principals.
struct Names {
    groups: Vec<String>,
    live_group: String,
    client_id: String,
    users: Vec<String>,
    principals: Vec<String>,
    transactional_id: String,
    header_keys: Vec<String>,
}

impl Names {
    fn new(prefix: &str) -> Names {
        Names {
            groups: TRICKS
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{prefix}-g{i}{t}"))
                .collect(),
            live_group: format!("{prefix}-live{}", TRICKS[2]),
            client_id: format!("client{}{}", TRICKS[0], TRICKS[2]),
            users: TRICKS
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{prefix}-u{i}{t}"))
                .chain([format!("{prefix}.a.b"), format!("{prefix}_a_b")])
                .collect(),
            principals: vec![
                format!("User:{prefix}{}", TRICKS[0]),
                format!("User:{prefix}{}", TRICKS[2]),
            ],
            transactional_id: format!("{prefix}-tx{}", TRICKS[1]),
            header_keys: TRICKS.iter().map(|t| format!("h{t}")).collect(),
        }
    }
}

/// Fills the source: a topic whose records carry hostile header keys, groups with committed
/// offsets, SCRAM users (with Kafka's own tool), ACLs for the hostile principals on the topic,
/// a group and a transactional id.
async fn fill(source: &Cluster, names: &Names, topic: &str) {
    data::create_topic(&source.admin_config(), topic, 2, 1, &[])
        .await
        .unwrap();
    let records: Vec<Record> = data::sample_records(40, 2)
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r.headers = names
                .header_keys
                .iter()
                .map(|k| (k.clone(), Some(format!("v{i}\n\u{1b}[2J").into_bytes())))
                .collect();
            r
        })
        .collect();
    data::produce(&source.admin_config(), topic, &records)
        .await
        .unwrap();
    for group in &names.groups {
        data::commit_offsets(
            &source.admin_config(),
            group,
            &[(topic, 0, 10), (topic, 1, 5)],
        )
        .unwrap();
    }
    std::thread::scope(|scope| {
        for user in &names.users {
            scope.spawn(move || {
                source
                    .tool(
                        Tool::Configs,
                        &[
                            "--alter",
                            "--entity-type",
                            "users",
                            "--entity-name",
                            user,
                            "--add-config",
                            "SCRAM-SHA-512=[iterations=4096,password=hostile-user-secret]",
                        ],
                    )
                    .unwrap_or_else(|e| panic!("SCRAM user {user:?}: {e}"))
            });
        }
        scope.spawn(|| {
            let mut args = vec!["--add"];
            for p in &names.principals {
                args.extend(["--allow-principal", p.as_str()]);
            }
            args.extend(["--operation", "Read", "--topic", topic]);
            args.extend(["--group", names.groups[0].as_str()]);
            source.tool(Tool::Acls, &args).unwrap();
            let mut args = vec!["--add"];
            for p in &names.principals {
                args.extend(["--allow-principal", p.as_str()]);
            }
            args.extend([
                "--operation",
                "Write",
                "--transactional-id",
                names.transactional_id.as_str(),
            ]);
            source.tool(Tool::Acls, &args).unwrap();
        });
    });
}

/// A consumer that stays a member of the live group on the source, with the hostile client id,
/// until dropped.
struct LiveConsumer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveConsumer {
    fn start(source: &Cluster, names: &Names, topic: &str) -> LiveConsumer {
        let consumer: BaseConsumer = source
            .admin_config()
            .set("group.id", &names.live_group)
            .set("client.id", &names.client_id)
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let _ = consumer.poll(Duration::from_millis(100));
            }
        });
        LiveConsumer {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LiveConsumer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The group names in a `plan --json`'s group offsets.
fn planned_groups(plan: &serde_json::Value) -> BTreeSet<String> {
    plan["group_offsets"]
        .as_array()
        .unwrap_or_else(|| panic!("no group_offsets in {plan:#}"))
        .iter()
        .map(|g| g["group"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_source_s_names_stay_data_in_every_command() {
    let (source, target) = (source(), shared::target());
    let prefix = data::unique_name("hostile").replace('-', "_");
    let names = Names::new(&prefix);
    let topic = format!("{prefix}.t");
    fill(source, &names, &topic).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    // init: the file it writes parses back with the names as data, as hclfmt lays it out,
    // and `validate` takes it.
    let out = run(
        d,
        &[
            "init",
            "--source",
            &source.bootstrap(),
            "--source-sasl-mechanism",
            "scram-sha-512",
            "--source-sasl-username",
            "admin",
            "--source-sasl-password-env",
            PASSWORD_ENV,
            "--target",
            &target.bootstrap(),
            "--out",
            "init.hcl",
        ],
        &[],
    );
    assert!(out.status.success(), "init: {}", text(&out.stderr));
    let written = std::fs::read_to_string(d.join("init.hcl")).unwrap();
    let body: hcl::Body =
        hcl::from_str(&written).unwrap_or_else(|e| panic!("init's file: {e}\n{written}"));
    let top: Vec<String> = body
        .iter()
        .map(|s| match s {
            hcl::Structure::Attribute(a) => a.key().to_string(),
            hcl::Structure::Block(b) => b.identifier().to_string(),
        })
        .collect();
    assert_eq!(
        top,
        [
            "name",
            "cluster",
            "cluster",
            "topics",
            "acls",
            "consumer_groups",
            "replication",
            "cutover"
        ],
        "{written}"
    );
    for user in &names.users {
        let shown = kafka_migrate::quote::comment(user);
        assert!(
            written.contains(&format!("#   {shown} (SCRAM-SHA-512)")),
            "user {user:?} not listed as {shown:?}:\n{written}"
        );
    }
    let groups = body
        .blocks()
        .find(|b| b.identifier() == "consumer_groups")
        .unwrap();
    let include: Vec<regex::Regex> = match groups
        .body()
        .attributes()
        .find(|a| a.key() == "include")
        .map(|a| a.expr().clone())
    {
        Some(hcl::Expression::Array(items)) => items
            .iter()
            .map(|e| match e {
                hcl::Expression::String(s) => regex::Regex::new(s).unwrap(),
                other => panic!("not a string: {other:?}"),
            })
            .collect(),
        other => panic!("consumer_groups.include: {other:?}\n{written}"),
    };
    for group in &names.groups {
        assert!(
            include.iter().any(|r| r.is_match(group)),
            "group {group:?} not selected by init's patterns:\n{written}"
        );
    }
    assert_hclfmt_unchanged(&d.join("init.hcl"));
    let out = run(d, &["-c", "init.hcl", "validate"], &[]);
    assert!(out.status.success(), "validate: {}", text(&out.stderr));

    // The migration of the hostile topic and groups.
    let config = d.join("migration.hcl");
    let target_block = format!(
        "cluster \"target\" {{\n  bootstrap_servers = [\"{}\"]\n}}",
        target.bootstrap()
    );
    let cutover = "cutover {\n  quiet_period = \"1s\"\n  data_check   = \"full\"\n}";
    std::fs::write(&config, migration(&prefix, &target_block, cutover)).unwrap();
    let c = config.to_str().unwrap();

    // plan: the JSON holds the names as they are; text and logs show them escaped.
    let out = run(d, &["-c", c, "plan", "--json"], &[]);
    assert!(out.status.success(), "plan --json: {}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wanted: BTreeSet<String> = names.groups.iter().cloned().collect();
    assert_eq!(planned_groups(&plan), wanted);
    let acls = serde_json::to_string(&plan["actions"]).unwrap();
    for principal in &names.principals {
        assert!(
            acls.contains(&serde_json::to_string(principal).unwrap()),
            "principal {principal:?} not planned: {acls}"
        );
    }
    let out = run(d, &["-c", c, "plan"], &[]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "plan: {shown}{}", text(&out.stderr));
    let g0 = kafka_migrate::quote::terminal(&names.groups[0]).into_owned();
    assert!(shown.contains(&g0), "plan does not show {g0:?}:\n{shown}");
    run(d, &["-vv", "-c", c, "plan"], &[]);
    run(d, &["-c", c, "plan"], &[("KAFKA_MIGRATE_LOG", "trace")]);

    // apply: records, headers included, replicated as they are; the groups synced.
    let out = run(
        d,
        &["-vv", "-c", c, "apply", "--auto-approve", "--until-synced"],
        &[],
    );
    assert!(
        out.status.success(),
        "apply: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(assert_identical(source, target, &topic), 40);
    let out = run(
        d,
        &["-c", c, "apply", "--auto-approve", "--until-synced"],
        &[("KAFKA_MIGRATE_LOG", "trace")],
    );
    assert!(out.status.success(), "apply again: {}", text(&out.stderr));
    let out = run(
        d,
        &[
            "-c",
            c,
            "apply",
            "--auto-approve",
            "--until-synced",
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "apply --json: {}", text(&out.stderr));
    for line in text(&out.stdout).lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("apply --json line {line:?}: {e}"));
    }

    // status and verify, text and JSON.
    let out = run(d, &["-c", c, "status"], &[]);
    assert!(out.status.success(), "status: {}", text(&out.stderr));
    let out = run(d, &["-c", c, "status", "--json"], &[]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let json = status.to_string();
    for group in &names.groups {
        let quoted = serde_json::to_string(group).unwrap();
        assert!(
            json.contains(&quoted),
            "status --json lacks {quoted}: {json}"
        );
    }
    let out = run(d, &["-c", c, "verify"], &[]);
    assert_eq!(out.status.code(), Some(0), "verify: {}", text(&out.stdout));
    let out = run(d, &["-vv", "-c", c, "verify", "--json"], &[]);
    let verify: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verify["verdict"], "READY FOR CUTOVER", "{verify:#}");
    run(d, &["-c", c, "verify"], &[("KAFKA_MIGRATE_LOG", "trace")]);

    // cutover while a member with a hostile client id consumes a hostile group: the quiet
    // gate names both, escaped, and does not pass.
    let live = LiveConsumer::start(source, &names, &topic);
    let admin: BaseConsumer = source.admin_config().create().unwrap();
    wait_for(
        Duration::from_secs(60),
        || format!("{:?} to have a member", names.live_group),
        || {
            admin
                .fetch_group_list(Some(&names.live_group), Duration::from_secs(5))
                .is_ok_and(|l| l.groups().iter().any(|g| !g.members().is_empty()))
        },
    );
    let out = run(d, &["-c", c, "cutover", "--timeout", "5s"], &[]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "cutover: {said}");
    let client = kafka_migrate::quote::terminal(&names.client_id).into_owned();
    let group = kafka_migrate::quote::terminal(&names.live_group).into_owned();
    assert!(
        said.contains(&format!("client id \"{client}\"")) && said.contains(&group),
        "cutover does not name {client:?} of {group:?}:\n{said}"
    );
    let out = run(d, &["-c", c, "cutover", "--timeout", "2s", "--json"], &[]);
    let cutover: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cutover --json: {e}: {}", text(&out.stdout)));
    assert_eq!(cutover["complete"], false, "{cutover:#}");
    drop(live);

    // export connect: every properties line is one key and value; the connector JSON parses.
    let out = run(d, &["-c", c, "export", "connect", "--dir", "connect"], &[]);
    assert!(
        out.status.success(),
        "export connect: {}",
        text(&out.stderr)
    );
    let key = regex::Regex::new(r"^[a-z][a-z0-9._-]*=").unwrap();
    for entry in std::fs::read_dir(d.join("connect")).unwrap() {
        let path = entry.unwrap().path();
        let written = std::fs::read_to_string(&path).unwrap();
        if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str::<serde_json::Value>(&written)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else {
            for line in written
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                assert!(key.is_match(line), "{}: {line:?}", path.display());
            }
        }
    }

    // export scram-secrets: the Terraform parses, names each user's secret exactly, gives
    // every user its own resources, and is as hclfmt lays it out.
    let out = run(d, &["-c", c, "export", "scram-secrets"], &[]);
    assert!(
        out.status.success(),
        "export scram-secrets: {}",
        text(&out.stderr)
    );
    let terraform = text(&out.stdout);
    std::fs::write(d.join("scram.tf"), &terraform).unwrap();
    let body: hcl::Body =
        hcl::from_str(&terraform).unwrap_or_else(|e| panic!("scram-secrets: {e}\n{terraform}"));
    let mut labels = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    for block in body.blocks().filter(|b| b.identifier() == "resource") {
        let kind = block.labels()[0].as_str().to_string();
        let label = block.labels()[1].as_str().to_string();
        assert!(
            labels.insert((kind.clone(), label.clone())),
            "{kind}.{label} twice"
        );
        if kind == "aws_secretsmanager_secret" {
            match block
                .body()
                .attributes()
                .find(|a| a.key() == "name")
                .map(|a| a.expr())
            {
                Some(hcl::Expression::String(s)) => {
                    secrets.insert(s.clone());
                }
                other => panic!("{label}: name {other:?}"),
            }
        }
    }
    for user in &names.users {
        assert!(
            secrets.contains(&format!("AmazonMSK_{user}")),
            "no secret for {user:?}: {secrets:?}"
        );
    }
    assert_hclfmt_unchanged(&d.join("scram.tf"));

    // export iam-policy: JSON with the principals as they are.
    let iam = d.join("iam.hcl");
    let target_block = r#"cluster "target" {
  bootstrap_servers = ["b-1.example.kafka.us-east-1.amazonaws.com:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region      = "us-east-1"
      cluster_arn = "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abcd1234-0000-0000-0000-000000000000-1"
    }
  }
}"#;
    std::fs::write(&iam, migration(&prefix, target_block, "")).unwrap();
    let out = run(
        d,
        &["-c", iam.to_str().unwrap(), "export", "iam-policy"],
        &[],
    );
    assert!(
        out.status.success(),
        "export iam-policy: {}",
        text(&out.stderr)
    );
    let policies: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let principals: BTreeSet<String> = policies["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["principal"].as_str().unwrap().to_string())
        .collect();
    for principal in &names.principals {
        assert!(
            principals.contains(principal),
            "{principal:?} not in {principals:?}"
        );
    }
}

/// The generated HCL and Terraform files the tests pin (`init` on a live source, `export
/// scram-secrets`), `init`'s template and the examples are as HashiCorp's formatter lays them
/// out.
#[test]
fn generated_hcl_is_as_hclfmt_formats_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "tests/golden/init-source.hcl",
        "tests/golden/scram-secrets.tf",
    ] {
        assert_hclfmt_unchanged(&root.join(file));
    }
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.hcl");
    kafka_migrate(&template).arg("init").assert().success();
    assert_hclfmt_unchanged(&template);
}

/// An https stand-in for a Kafka Connect REST API: a certificate for 127.0.0.1 made with
/// `openssl`, signed by nobody, and `{}` for every request; the CA file to trust it with.
struct TlsStandIn {
    url: String,
    certificate: PathBuf,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TlsStandIn {
    fn start(dir: &Path) -> TlsStandIn {
        let (certificate, key) = (dir.join("connect.pem"), dir.join("connect.key"));
        let status = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl req");
        let identity = native_tls::Identity::from_pkcs8(
            &std::fs::read(&certificate).unwrap(),
            &std::fs::read(&key).unwrap(),
        )
        .unwrap();
        let acceptor = native_tls::TlsAcceptor::new(identity).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            use std::io::{BufRead, Write};
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                // A client that refuses the certificate ends the handshake: next connection.
                let Ok(tls) = acceptor.accept(stream) else {
                    continue;
                };
                let mut reader = std::io::BufReader::new(tls);
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                log.lock().unwrap().push(head);
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        TlsStandIn {
            url,
            certificate,
            requests,
        }
    }
}

/// Kafka Connect credentials come from `--connect-user` with the environment or a file, not
/// only the URL (where process lists and manifests show them); they are sent as basic
/// authentication and never shown; credentials in the URL or over plain http are warned about;
/// an https REST API is verified: a certificate nobody vouches for is refused unless
/// `--connect-ca-file` trusts its CA.
#[tokio::test]
async fn connect_credentials_stay_out_of_sight_and_https_is_verified() {
    use base64::Engine as _;
    let (source, target) = (shared::plain_source(), shared::target());
    let p = data::unique_name("connect_auth").replace('-', "_");
    crate::support::topic_with_records(source, &format!("{p}.a"), 1).await;
    let dir = tempfile::tempdir().unwrap();
    let config = crate::support::migration_file(dir.path(), &p, &p, source, target, "");
    let http =
        crate::support::http::StandIn::serve(|_| crate::support::http::Reply::json("{}".into()));
    let plan = |url: &str, extra: &[&str], env: &[(&str, &str)]| -> Output {
        let mut args = vec!["plan", "--engine", "connect", "--connect-url", url];
        args.extend(extra);
        let out = kafka_migrate(&config)
            .args(&args)
            .envs(env.iter().copied())
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            !said.contains("SECRET-MARKER"),
            "{args:?} showed a password: {said}"
        );
        out
    };
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let sent = || -> Vec<String> {
        http.requests()
            .iter()
            .map(|r| r.header("authorization").unwrap_or_default().to_string())
            .collect()
    };

    // From the environment, over http: sent, and warned about.
    let out = plan(
        http.url(),
        &["--connect-user", "migrator"],
        &[("KAFKA_MIGRATE_CONNECT_PASSWORD", "SECRET-MARKER-env")],
    );
    let err = crate::support::flat(&text(&out.stderr));
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "Warning: the Kafka Connect credentials go to {} over plain http",
            http.url()
        )),
        "{err}"
    );
    assert!(!err.contains("process lists"), "{err}");
    assert!(
        sent()
            .iter()
            .all(|h| *h == basic("migrator", "SECRET-MARKER-env")),
        "{:?}",
        sent()
    );
    let asked = sent().len();
    assert!(asked > 0);

    // From a file.
    let file = dir.path().join("connect-password");
    std::fs::write(&file, "SECRET-MARKER-file\n").unwrap();
    let out = plan(
        http.url(),
        &[
            "--connect-user",
            "migrator",
            "--connect-password-file",
            file.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(sent()[asked..]
        .iter()
        .all(|h| *h == basic("migrator", "SECRET-MARKER-file")));

    // In the URL: still used, and warned about.
    let inside = http
        .url()
        .replace("http://", "http://migrator:SECRET-MARKER-url@");
    let out = plan(&inside, &[], &[]);
    let err = crate::support::flat(&text(&out.stderr));
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("credentials are in --connect-url, where process lists"),
        "{err}"
    );
    assert!(err.contains("over plain http"), "{err}");
    assert_eq!(
        sent().last().unwrap(),
        &basic("migrator", "SECRET-MARKER-url")
    );

    // https: a certificate nobody vouches for is refused; trusted with --connect-ca-file.
    let https = TlsStandIn::start(dir.path());
    let env = [("KAFKA_MIGRATE_CONNECT_PASSWORD", "SECRET-MARKER-tls")];
    let user = ["--connect-user", "migrator"];
    let out = plan(&https.url, &user, &env);
    let err = crate::support::flat(&text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unverified https API was used: {err}"
    );
    assert!(err.contains("could not be reached"), "{err}");
    assert!(
        https.requests.lock().unwrap().is_empty(),
        "a request went through"
    );
    let ca = https.certificate.to_str().unwrap();
    let out = plan(
        &https.url,
        &[&user[..], &["--connect-ca-file", ca]].concat(),
        &env,
    );
    let err = crate::support::flat(&text(&out.stderr));
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("plain http"), "{err}");
    let heads = https.requests.lock().unwrap().clone();
    assert!(!heads.is_empty());
    let wanted = format!("authorization: {}", basic("migrator", "SECRET-MARKER-tls"));
    assert!(
        heads.iter().all(|h| h
            .to_ascii_lowercase()
            .contains(&wanted.to_ascii_lowercase())),
        "{heads:?}"
    );
}
