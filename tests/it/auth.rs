//! Authentication on real clusters and against AWS's own MSK IAM signer:
//! - plan, apply and verify through the CLI with the source and the target on mTLS (SSL with
//!   client certificates) and on SASL_SSL with SCRAM, each way round;
//! - a wrong CA, a wrong client certificate and a wrong password each fail naming the cluster
//!   and the cause, without the password;
//! - plan, apply and verify to a target that takes MSK IAM tokens over SASL_SSL/OAUTHBEARER
//!   (a broker-side validator checks each token's form, region and expiry), and a token for
//!   another region refused naming the cluster and the cause; a running `apply` renewing its
//!   tokens as short-lived credentials expire, with sessions re-authenticating every 5 s;
//! - the MSK IAM token equals the one `aws-msk-iam-sasl-signer-python` makes for the same
//!   credentials, region and time, parameter by parameter and in its signature.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use base64::Engine;
use kafka_harness::data;
use kafka_harness::{shared, Cluster};
use kafka_migrate::auth::iam_token::{sign_token, TOKEN_LIFETIME};
use serde_json::Value;

use crate::support::http::{Reply, StandIn};
use crate::support::{
    assert_identical, in_own_process, kafka_migrate_process, run_in_own_process, wait_for, Running,
};

pub(crate) const PASSWORD_VAR: &str = "KAFKA_MIGRATE_TEST_SCRAM_PASSWORD";

/// How a migration file's cluster block connects.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scheme {
    /// SSL with the admin's client certificate.
    Mtls,
    /// SASL_SSL with SCRAM-SHA-512 as admin (password from the environment).
    ScramSsl,
    /// SASL_SSL with MSK IAM tokens (credentials from the environment, see [`run`]).
    MskIam,
}

/// A cluster block's `bootstrap_servers` and `security` for `scheme`.
pub(crate) fn cluster_block(cluster: &Cluster, scheme: Scheme) -> String {
    let tls = cluster.tls().expect("a Tls-flavour cluster");
    let quote = |p: PathBuf| p.display().to_string();
    match scheme {
        Scheme::Mtls => format!(
            r#"  bootstrap_servers = ["{}"]
  security {{
    protocol = "SSL"
    tls {{
      ca_file   = "{}"
      cert_file = "{}"
      key_file  = "{}"
    }}
  }}"#,
            cluster.bootstrap(),
            quote(tls.ca()),
            quote(tls.cert("admin")),
            quote(tls.key_file("admin")),
        ),
        Scheme::ScramSsl => format!(
            r#"  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_SSL"
    sasl {{
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("{PASSWORD_VAR}")
    }}
    tls {{ ca_file = "{}" }}
  }}"#,
            cluster.sasl_ssl_bootstrap().unwrap(),
            quote(tls.ca()),
        ),
        Scheme::MskIam => format!(
            r#"  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_SSL"
    aws_iam {{ region = "{}" }}
    tls {{ ca_file = "{}" }}
  }}"#,
            cluster.sasl_ssl_bootstrap().unwrap(),
            shared::TLS_TARGET_MSK_IAM_REGION,
            quote(tls.ca()),
        ),
    }
}

/// The AWS access key id [`run`] gives the tool (the secret is made up too: the test broker
/// checks a token's form, region and expiry, not its signature).
const ACCESS_KEY_ID: &str = "AKIAKAFKAMIGRATETEST";

pub(crate) fn migration(
    dir: &Path,
    name: &str,
    prefix: &str,
    source: &str,
    target: &str,
) -> PathBuf {
    let text = format!(
        r#"name = "{name}"
cluster "source" {{
{source}
}}
cluster "target" {{
{target}
}}
topics {{
  include            = ["^{prefix}\\..*"]
  replication_factor = 1
}}
consumer_groups {{
  include = ["^{prefix}-"]
}}
cutover {{
  quiet_period = "1s"
  data_check   = "full"
}}
"#
    );
    let path = dir.join("migration.hcl");
    std::fs::write(&path, text).unwrap();
    path
}

/// Gives `cmd` an environment whose AWS credentials come from `credentials` only (no profile
/// files, no instance metadata): every other AWS variable is removed or set to nothing that
/// answers.
pub(crate) fn aws_environment(cmd: &mut Process, credentials: &[(&str, &str)]) {
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (name, value) in credentials {
        cmd.env(name, value);
    }
}

pub(crate) fn run(config: &Path, args: &[&str], password: &str) -> std::process::Output {
    let mut cmd = kafka_migrate_process(Some(config));
    cmd.args(args).env(PASSWORD_VAR, password);
    // AWS credentials from the environment only, for MSK IAM.
    aws_environment(
        &mut cmd,
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
            (
                "AWS_SECRET_ACCESS_KEY",
                "kafka-migrate-test-secret-access-key",
            ),
        ],
    );
    cmd.output().unwrap()
}

pub(crate) fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Migrates a topic with committed group offsets from `source` to `target` over the given
/// schemes: plan, apply --until-synced and verify all succeed, and the target holds the
/// records.
async fn migrate_over(source_scheme: Scheme, target_scheme: Scheme) {
    let (source, target) = (shared::tls_source(), shared::tls_target());
    let prefix = data::unique_name("auth").replace('-', "_");
    let topic = format!("{prefix}.orders");
    data::create_topic(&source.admin_config(), &topic, 2, 1, &[])
        .await
        .unwrap();
    let records = data::sample_records(200, 2);
    data::produce(&source.admin_config(), &topic, &records)
        .await
        .unwrap();
    // A fresh cluster's group coordinator may still be loading.
    wait_for(
        Duration::from_secs(60),
        || "the source's group coordinator to take a commit",
        || {
            data::commit_offsets(
                &source.admin_config(),
                &format!("{prefix}-app"),
                &[(topic.as_str(), 0, 30), (topic.as_str(), 1, 70)],
            )
            .is_ok()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let config = migration(
        dir.path(),
        &prefix,
        &prefix,
        &cluster_block(source, source_scheme),
        &cluster_block(target, target_scheme),
    );
    let schemes = format!("source {source_scheme:?}, target {target_scheme:?}");
    let plan = run(&config, &["plan"], "admin-secret");
    assert!(
        plan.status.success(),
        "plan over {schemes}: {}",
        text(&plan)
    );
    assert!(
        text(&plan).contains(&format!("topic \"{topic}\"")),
        "plan over {schemes} lacks the topic: {}",
        text(&plan)
    );
    let apply = run(
        &config,
        &["apply", "--auto-approve", "--until-synced"],
        "admin-secret",
    );
    assert!(
        apply.status.success(),
        "apply over {schemes}: {}",
        text(&apply)
    );
    let copied = data::read_all(&target.admin_config(), &topic).unwrap();
    let copied: usize = copied.values().map(Vec::len).sum();
    assert_eq!(
        copied,
        records.len(),
        "records on the target over {schemes}"
    );
    let verify = run(&config, &["verify", "--json"], "admin-secret");
    let report: Value = serde_json::from_slice(&verify.stdout).unwrap_or_else(|e| {
        panic!(
            "verify over {schemes} printed no JSON ({e}): {}",
            text(&verify)
        )
    });
    crate::support::schema::assert_valid("verify.schema.json", &report);
    assert_eq!(
        report["verdict"], "READY FOR CUTOVER",
        "verify over {schemes}: {report:#}"
    );
    assert!(
        verify.status.success(),
        "verify over {schemes}: {}",
        text(&verify)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mtls_source_to_msk_iam_target() {
    let log = shared::tls_target().msk_iam_log();
    let before = std::fs::read_to_string(&log).unwrap_or_default().len();
    migrate_over(Scheme::Mtls, Scheme::MskIam).await;
    // Every client of plan, apply and verify authenticated with a token the broker accepted.
    let seen = std::fs::read_to_string(&log).unwrap_or_default()[before..].to_string();
    let accepted = seen
        .lines()
        .filter(|l| l.starts_with(&format!("ACCEPTED {ACCESS_KEY_ID} ")))
        .count();
    assert!(accepted >= 3, "too few MSK IAM logins: {seen}");
    // (Tokens for another region are the refusal test's, which may run at the same time.)
    assert!(
        !seen
            .lines()
            .any(|l| l.starts_with("REJECTED") && !l.contains(OTHER_REGION)),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mtls_source_to_scram_over_tls_target() {
    migrate_over(Scheme::Mtls, Scheme::ScramSsl).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scram_over_tls_source_to_mtls_target() {
    migrate_over(Scheme::ScramSsl, Scheme::Mtls).await;
}

/// `plan` with the source block `source` fails; its output names the source cluster and
/// contains each of `causes` (case-insensitive), and never the password given.
fn assert_source_refused(source: String, password: &str, causes: &[&str]) {
    let target = shared::tls_target();
    let dir = tempfile::tempdir().unwrap();
    let config = migration(
        dir.path(),
        "refused",
        "refused",
        &source,
        &cluster_block(target, Scheme::Mtls),
    );
    let out = run(&config, &["plan"], password);
    let output = text(&out);
    assert!(!out.status.success(), "plan should fail: {output}");
    // miette wraps lines and draws a gutter: compare words.
    let lower = output
        .to_lowercase()
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        lower.contains("source cluster"),
        "names the cluster: {output}"
    );
    for cause in causes {
        assert!(lower.contains(cause), "says {cause:?}: {output}");
    }
    assert!(!output.contains(password), "shows the password: {output}");
}

#[test]
fn wrong_ca_fails_naming_the_cluster_and_the_certificate() {
    let source = shared::tls_source();
    let tls = source.tls().unwrap();
    let block = cluster_block(source, Scheme::Mtls).replace(
        &tls.ca().display().to_string(),
        &tls.other_ca().display().to_string(),
    );
    assert_source_refused(
        block,
        "admin-secret",
        &[
            "certificate verify failed",
            "the broker's certificate is not signed by a ca in tls.ca_file",
        ],
    );
}

#[test]
fn wrong_client_certificate_fails_naming_the_cluster_and_the_refusal() {
    let source = shared::tls_source();
    let tls = source.tls().unwrap();
    let (cert, key) = tls.stranger_cert();
    let block = cluster_block(source, Scheme::Mtls)
        .replace(
            &tls.cert("admin").display().to_string(),
            &cert.display().to_string(),
        )
        .replace(
            &tls.key_file("admin").display().to_string(),
            &key.display().to_string(),
        );
    assert_source_refused(
        block,
        "admin-secret",
        &[
            "bad certificate",
            "the broker refused the client certificate",
        ],
    );
}

#[test]
fn wrong_password_fails_naming_the_cluster_and_the_authentication() {
    let source = shared::tls_source();
    assert_source_refused(
        cluster_block(source, Scheme::ScramSsl),
        "not-the-password-9f2c",
        &[
            "authentication failed",
            "the broker refused the sasl user name or password",
        ],
    );
}

// --- MSK IAM tokens against aws-msk-iam-sasl-signer-python -------------------------------

/// A venv with AWS's signer, made once under the harness cache.
fn python_signer() -> PathBuf {
    let venv = kafka_harness::runtime::cache_root().join("msk-iam-signer-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("INSTALLED");
    if !marker.exists() {
        let status = Process::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(status.success(), "python3 -m venv failed");
        // pkg_resources, which the signer imports, left setuptools in version 81.
        let status = Process::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "aws-msk-iam-sasl-signer-python",
                "setuptools<81",
            ])
            .status()
            .expect("pip runs");
        assert!(
            status.success(),
            "installing aws-msk-iam-sasl-signer-python failed"
        );
        std::fs::write(&marker, "").unwrap();
    }
    let script = venv.join("msk_sign.py");
    std::fs::write(&script, include_str!("msk_sign.py")).unwrap();
    script
}

/// The Python signer's token and expiry (ms) for the credentials, region and signing time.
fn python_token(
    script: &Path,
    region: &str,
    at: u64,
    access: &str,
    secret: &str,
    session: Option<&str>,
) -> (String, i64) {
    let python = script.parent().unwrap().join("bin/python");
    let mut cmd = Process::new(python);
    cmd.arg(script)
        .args([region, &at.to_string(), access, secret])
        .env("TZ", "UTC");
    if let Some(token) = session {
        cmd.arg(token);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "the Python signer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let token = lines.next().unwrap().to_string();
    let expiry = lines.next().unwrap().trim().parse().unwrap();
    (token, expiry)
}

/// The URL in a token, split into its base and query parameters (still percent-encoded).
fn decode(token: &str) -> (String, BTreeMap<String, String>) {
    assert!(!token.contains('='), "unpadded: {token}");
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .unwrap();
    let url = String::from_utf8(url).unwrap();
    let (base, query) = url.split_once('?').unwrap();
    let params = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    (base.to_string(), params)
}

#[test]
fn iam_token_equals_the_aws_python_signers() {
    let script = python_signer();
    let access = "AKIAIOSFODNN7EXAMPLE";
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let session = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+session/token=";
    for (region, at, session) in [
        ("us-east-1", 1_700_000_000u64, None),
        ("eu-west-1", 1_767_225_599u64, Some(session)),
        ("ap-southeast-2", 1_704_067_200u64, Some(session)),
    ] {
        let credentials = Credentials::new(access, secret, session.map(String::from), None, "test");
        let ours = sign_token(&credentials, region, UNIX_EPOCH + Duration::from_secs(at)).unwrap();
        let (theirs, their_expiry) = python_token(&script, region, at, access, secret, session);
        let (our_base, mut our_params) = decode(&ours.token);
        let (their_base, mut their_params) = decode(&theirs);
        assert_eq!(our_base, their_base, "{region}");
        assert_eq!(our_base, format!("https://kafka.{region}.amazonaws.com/"));
        let our_agent = our_params.remove("User-Agent").unwrap();
        let their_agent = their_params.remove("User-Agent").unwrap();
        assert!(our_agent.starts_with("kafka-migrate%2F"), "{our_agent}");
        assert!(
            their_agent.starts_with("aws-msk-iam-sasl-signer-python"),
            "{their_agent}"
        );
        assert_eq!(
            our_params,
            their_params,
            "query parameters for {region} at {at} (session token: {})",
            session.is_some()
        );
        assert!(our_params.contains_key("X-Amz-Signature"));
        assert_eq!(
            our_params.contains_key("X-Amz-Security-Token"),
            session.is_some()
        );
        assert_eq!(ours.expires_at_ms(), their_expiry, "expiry for {region}");
        assert_eq!(
            ours.expires_at_ms(),
            (at + TOKEN_LIFETIME.as_secs()) as i64 * 1000
        );
    }
}

#[test]
fn iam_token_expires_with_credentials_that_expire_sooner() {
    let at = SystemTime::now();
    let soon = at + Duration::from_secs(120);
    let credentials = Credentials::new("AKID", "SECRET", Some("TOKEN".into()), Some(soon), "test");
    let token = sign_token(&credentials, "us-east-1", at).unwrap();
    assert_eq!(token.expires_at, soon);
    let lasting = Credentials::new("AKID", "SECRET", None, None, "test");
    let token = sign_token(&lasting, "us-east-1", at).unwrap();
    assert_eq!(token.expires_at, at + TOKEN_LIFETIME);
}

// --- export iam-policy on a real source ------------------------------------------------

/// The ACLs a test gives its own principals on the `Secure` source: a prefixed topic Read, a
/// literal topic DENY, a group Read, a transactional-id Write and a cluster IdempotentWrite.
fn source_acls(p: &str) -> Vec<kafka_migrate::cluster::native::AclBinding> {
    use kafka_migrate::cluster::native::*;
    let binding =
        |resource_type, name: String, pattern_type, principal: &str, operation, permission| {
            AclBinding {
                resource_type,
                name,
                pattern_type,
                principal: format!("User:{p}-{principal}"),
                host: "*".into(),
                operation,
                permission,
            }
        };
    vec![
        binding(
            ResourceType::Topic,
            format!("{p}."),
            PatternType::Prefixed,
            "reader",
            AclOperation::Read,
            AclPermission::Allow,
        ),
        binding(
            ResourceType::Topic,
            format!("{p}.secret"),
            PatternType::Literal,
            "reader",
            AclOperation::Read,
            AclPermission::Deny,
        ),
        binding(
            ResourceType::Group,
            format!("{p}-app"),
            PatternType::Literal,
            "reader",
            AclOperation::Read,
            AclPermission::Allow,
        ),
        binding(
            ResourceType::TransactionalId,
            format!("{p}-tx-"),
            PatternType::Prefixed,
            "writer",
            AclOperation::Write,
            AclPermission::Allow,
        ),
        binding(
            ResourceType::Topic,
            format!("{p}.orders"),
            PatternType::Literal,
            "writer",
            AclOperation::Write,
            AclPermission::Allow,
        ),
        binding(
            ResourceType::Cluster,
            "kafka-cluster".into(),
            PatternType::Literal,
            "writer",
            AclOperation::IdempotentWrite,
            AclPermission::Allow,
        ),
        // A topic outside the migration: not exported.
        binding(
            ResourceType::Topic,
            format!("other_{p}"),
            PatternType::Literal,
            "reader",
            AclOperation::Write,
            AclPermission::Allow,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn export_iam_policy_translates_the_sources_acls() {
    use std::sync::Arc;

    use kafka_migrate::cluster::native::AdminExt;
    use rdkafka::admin::AdminClient;
    use rdkafka::client::DefaultClientContext;

    let source = shared::secure_source();
    let p = data::unique_name("iam").replace('-', "_");
    data::create_topic(&source.admin_config(), &format!("{p}.orders"), 1, 1, &[])
        .await
        .unwrap();
    data::create_topic(&source.admin_config(), &format!("other_{p}"), 1, 1, &[])
        .await
        .unwrap();
    let admin: AdminClient<DefaultClientContext> = source.admin_config().create().unwrap();
    AdminExt::new(Arc::new(admin))
        .create_acls(source_acls(&p))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration(
        dir.path(),
        &p,
        &p,
        &format!(
            r#"  bootstrap_servers = ["{}"]
  security {{
    protocol = "SASL_PLAINTEXT"
    sasl {{
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("{PASSWORD_VAR}")
    }}
  }}"#,
            source.bootstrap()
        ),
        r#"  bootstrap_servers = ["b-1.orders.kafka.eu-west-1.amazonaws.com:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam {
      region      = "eu-west-1"
      cluster_arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/orders/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-3"
    }
  }"#,
    );
    let out = run(&config, &["export", "iam-policy"], "admin-secret");
    assert!(out.status.success(), "{}", text(&out));
    let mut export: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The shared source holds other tests' principals: keep this test's own.
    export["policies"].as_array_mut().unwrap().retain(|policy| {
        policy["principal"]
            .as_str()
            .unwrap()
            .starts_with(&format!("User:{p}-"))
    });
    let actual = serde_json::to_string_pretty(&export)
        .unwrap()
        .replace(&p, "PREFIX");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/iam-policy-cli.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{actual}\n")).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        actual.trim_end(),
        golden.trim_end(),
        "tests/golden/iam-policy-cli.json"
    );
}

#[test]
fn export_iam_policy_needs_an_iam_target_with_its_arn() {
    let dir = tempfile::tempdir().unwrap();
    let plain = r#"  bootstrap_servers = ["a:9092"]"#;
    let config = migration(dir.path(), "m", "m", plain, plain);
    let out = run(&config, &["export", "iam-policy"], "");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("the target cluster does not use IAM authentication"),
        "{}",
        text(&out)
    );
    let iam = r#"  bootstrap_servers = ["b:9098"]
  security {
    protocol = "SASL_SSL"
    aws_iam { region = "eu-west-1" }
  }"#;
    let config = migration(dir.path(), "m", "m", plain, iam);
    let out = run(&config, &["export", "iam-policy"], "");
    assert!(!out.status.success());
    assert!(text(&out).contains("has no cluster_arn"), "{}", text(&out));
}

/// The token the clients' refresh hook makes for `region` (and `profile`) from the AWS
/// credential chain of this process's environment. The tests calling this run in a process
/// of their own ([`run_in_own_process`]) that starts with the AWS environment they need.
fn token_from_chain(region: &str, profile: Option<&str>) -> rdkafka::client::OAuthToken {
    use kafka_migrate::auth::iam_token::{generate, oauthbearer_config};
    use kafka_migrate::config::AwsIam;

    let iam = AwsIam {
        region: region.into(),
        profile: profile.map(String::from),
        role_arn: None,
        cluster_arn: None,
    };
    generate(Some(&oauthbearer_config(&iam))).unwrap()
}

#[test]
fn the_refresh_hook_takes_credentials_from_a_shared_profile() {
    const TEST: &str = "auth::the_refresh_hook_takes_credentials_from_a_shared_profile";
    if !in_own_process(TEST) {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(
            &credentials,
            "[migrator]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = profile-secret\n",
        )
        .unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, "[profile migrator]\nregion = eu-west-1\n").unwrap();
        return run_in_own_process(TEST, |cmd| {
            aws_environment(
                cmd,
                &[
                    ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
                    ("AWS_CONFIG_FILE", config.to_str().unwrap()),
                ],
            )
        });
    }
    let token = token_from_chain("eu-west-1", Some("migrator"));
    let (base, params) = decode(&token.token);
    assert_eq!(base, "https://kafka.eu-west-1.amazonaws.com/");
    assert!(
        params["X-Amz-Credential"].starts_with("AKIDFROMPROFILE%2F"),
        "{params:?}"
    );
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(token.lifetime_ms > now_ms);
    assert!(token.lifetime_ms <= now_ms + TOKEN_LIFETIME.as_millis() as i64);
}

#[test]
fn the_refresh_hook_takes_credentials_from_the_container_endpoint() {
    const TEST: &str = "auth::the_refresh_hook_takes_credentials_from_the_container_endpoint";
    if !in_own_process(TEST) {
        let body = r#"{"AccessKeyId":"AKIDFROMCONTAINER","SecretAccessKey":"container-secret","Token":"container-session","Expiration":"2099-01-01T00:00:00Z"}"#;
        // The container credentials endpoint (ECS/EKS) on loopback.
        let endpoint = StandIn::serve(move |_| Reply::json(body.to_string()));
        let uri = format!("{}/credentials", endpoint.url());
        // Nothing earlier in the chain answers: the default profile exists in no file.
        return run_in_own_process(TEST, |cmd| {
            aws_environment(cmd, &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)])
        });
    }
    let token = token_from_chain("eu-north-1", None);
    let (base, params) = decode(&token.token);
    assert_eq!(base, "https://kafka.eu-north-1.amazonaws.com/");
    assert!(
        params["X-Amz-Credential"].starts_with("AKIDFROMCONTAINER%2F"),
        "{params:?}"
    );
    assert_eq!(params["X-Amz-Security-Token"], "container-session");
}

/// A region whose tokens the MSK IAM test broker refuses.
const OTHER_REGION: &str = "us-west-2";

#[test]
fn msk_iam_token_for_another_region_fails_naming_the_cluster_and_the_authentication() {
    let cluster = shared::tls_target();
    let block = cluster_block(cluster, Scheme::MskIam).replace(
        &format!("region = \"{}\"", shared::TLS_TARGET_MSK_IAM_REGION),
        &format!("region = \"{OTHER_REGION}\""),
    );
    assert_source_refused(
        block,
        "admin-secret",
        &[
            "sasl authentication error",
            "invalid_token",
            "the broker refused the oauthbearer token",
            "that aws_iam.region is the cluster's region",
        ],
    );
}

/// Serves temporary credentials as the container endpoint (ECS/EKS) on loopback, each
/// expiring `lifetime` after it was served, for as long as the test process runs.
fn expiring_credentials_endpoint(access_key_id: &'static str, lifetime: Duration) -> String {
    let endpoint = StandIn::serve(move |_| {
        let expiration = (time::OffsetDateTime::now_utc() + lifetime)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        Reply::json(format!(
            r#"{{"AccessKeyId":"{access_key_id}","SecretAccessKey":"renewed-secret","Token":"renewed-session","Expiration":"{expiration}"}}"#
        ))
    });
    format!("{}/credentials", endpoint.url())
}

#[tokio::test(flavor = "multi_thread")]
async fn msk_iam_tokens_are_renewed_while_apply_runs() {
    use kafka_harness::{ClusterSpec, Flavour};
    const RENEWED_KEY: &str = "AKIARENEWEDTEST";
    // Credentials live 30 s, tokens signed with them are refused after 40 s, and every
    // session re-authenticates after 5 s: a client that kept its first token fails.
    let target = Cluster::start(
        ClusterSpec::new("iam-renewal", Flavour::Tls)
            .msk_iam(shared::TLS_TARGET_MSK_IAM_REGION)
            .msk_iam_max_token_age(Duration::from_secs(40))
            .broker_config(
                "listener.name.sasl_ssl.oauthbearer.connections.max.reauth.ms",
                "5000",
            ),
    )
    .unwrap();
    let source = shared::plain_source();
    let prefix = data::unique_name("renewal").replace('-', "_");
    let topic = format!("{prefix}.events");
    data::create_topic(&source.admin_config(), &topic, 2, 1, &[])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = migration(
        dir.path(),
        &prefix,
        &prefix,
        &format!("  bootstrap_servers = [\"{}\"]", source.bootstrap()),
        &cluster_block(&target, Scheme::MskIam),
    );
    let credentials = expiring_credentials_endpoint(RENEWED_KEY, Duration::from_secs(30));
    let mut apply = Running::start(&config, &["apply", "--auto-approve"], dir.path(), |cmd| {
        aws_environment(cmd, &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &credentials)])
    });
    let output = |apply: &Running| {
        format!(
            "apply's {}\ntokens:\n{}",
            apply.output(),
            std::fs::read_to_string(target.msk_iam_log()).unwrap_or_default()
        )
    };
    // Records keep arriving on the source; each batch must reach the target, until tokens
    // signed at least three times, over more than the 40 s a token is accepted, were used.
    let signed_at = || -> Vec<String> {
        let log = std::fs::read_to_string(target.msk_iam_log()).unwrap_or_default();
        let mut dates: Vec<String> = log
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("ACCEPTED {RENEWED_KEY} ")))
            .map(str::to_string)
            .collect();
        dates.sort();
        dates.dedup();
        dates
    };
    let started = std::time::Instant::now();
    let mut produced = 0;
    while signed_at().len() < 3 || started.elapsed() < Duration::from_secs(50) {
        data::produce(
            &source.admin_config(),
            &topic,
            &data::sample_records(100, 2),
        )
        .await
        .unwrap();
        produced += 100;
        wait_for(
            Duration::from_secs(60),
            || format!("{produced} records on the target; {}", output(&apply)),
            || {
                data::read_all(&target.admin_config(), &topic)
                    .map(|parts| parts.values().map(Vec::len).sum::<usize>())
                    .unwrap_or(0)
                    == produced
            },
        );
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "tokens were not renewed: {}",
            output(&apply)
        );
    }
    apply.interrupt();
    let status = apply.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{}", output(&apply));
    assert_identical(source, &target, &topic);
    let log = std::fs::read_to_string(target.msk_iam_log()).unwrap_or_default();
    assert!(!log.contains("REJECTED"), "{}", output(&apply));
}
