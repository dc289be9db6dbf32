//! MSK IAM through assumed roles: with `aws_iam.role_arn` the tool assumes the role with the
//! credentials of the chain, and with a web identity (EKS service accounts) the chain itself
//! exchanges the token for role credentials. A stand-in for AWS STS on loopback hands out
//! the role credentials; the test broker accepts only tokens for its region and logs the
//! access key each one was signed with, so the tokens are seen to come from the role.

use std::path::Path;

use kafka_harness::{data, shared};

use crate::auth::{aws_environment, cluster_block, migration, text, Scheme};
use crate::support::http::{Reply, Request, StandIn};
use crate::support::kafka_migrate_process;

/// Serves AssumeRole and AssumeRoleWithWebIdentity on loopback, answering with credentials
/// whose access key id is `access_key_id`; it records the requests it receives.
fn sts(access_key_id: &'static str) -> StandIn {
    StandIn::serve(move |request| {
        let action = request.form("Action").unwrap_or_default();
        Reply::xml(format!(
            r#"<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <{action}Result>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/migrator/kafka-migrate</Arn>
      <AssumedRoleId>AROATESTROLE:kafka-migrate</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{access_key_id}</AccessKeyId>
      <SecretAccessKey>role-secret</SecretAccessKey>
      <SessionToken>role-session</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
  </{action}Result>
  <ResponseMetadata><RequestId>kafka-migrate-test</RequestId></ResponseMetadata>
</{action}Response>"#
        ))
    })
}

/// `kafka-migrate plan` from the plain source to the shared MSK IAM target, with the target's
/// `aws_iam` block getting `extra` and the AWS environment `env` only; it must succeed.
fn plan_over_iam(dir: &Path, extra: &str, env: &[(&str, &str)]) {
    let prefix = data::unique_name("roles").replace('-', "_");
    // A topic to select: a selection of nothing is an error.
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(data::create_topic(
            &shared::plain_source().admin_config(),
            &format!("{prefix}.a"),
            1,
            1,
            &[],
        ))
        .unwrap();
    let region = shared::TLS_TARGET_MSK_IAM_REGION;
    let target = cluster_block(shared::tls_target(), Scheme::MskIam).replace(
        &format!("aws_iam {{ region = \"{region}\" }}"),
        &format!("aws_iam {{\n      region = \"{region}\"\n      {extra}\n    }}"),
    );
    let source = format!(
        "  bootstrap_servers = [\"{}\"]",
        shared::plain_source().bootstrap()
    );
    let config = migration(dir, &prefix, &prefix, &source, &target);
    let mut cmd = kafka_migrate_process(Some(&config));
    cmd.arg("plan");
    aws_environment(&mut cmd, env);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// The first `action` request STS received.
fn request(sts: &StandIn, action: &str) -> Request {
    let requests = sts.requests();
    requests
        .iter()
        .find(|r| r.form("Action").as_deref() == Some(action))
        .cloned()
        .unwrap_or_else(|| panic!("no {action} request: {requests:?}"))
}

/// Whether the shared MSK IAM target accepted a token signed with `access_key_id`.
fn accepted(access_key_id: &str) -> bool {
    std::fs::read_to_string(shared::tls_target().msk_iam_log())
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with(&format!("ACCEPTED {access_key_id} ")))
}

#[test]
fn role_arn_signs_tokens_with_the_assumed_roles_credentials() {
    const BASE_KEY: &str = "AKIABASEFORROLETEST";
    const ROLE_KEY: &str = "ASIAASSUMEDROLETEST";
    const ROLE: &str = "arn:aws:iam::123456789012:role/kafka-migrate-test";
    let sts = sts(ROLE_KEY);
    let dir = tempfile::tempdir().unwrap();
    plan_over_iam(
        dir.path(),
        &format!("role_arn = \"{ROLE}\""),
        &[
            ("AWS_ACCESS_KEY_ID", BASE_KEY),
            ("AWS_SECRET_ACCESS_KEY", "base-secret"),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
        ],
    );
    let assumed = request(&sts, "AssumeRole");
    assert_eq!(
        assumed.form("RoleArn").as_deref(),
        Some(ROLE),
        "{assumed:?}"
    );
    assert_eq!(
        assumed.form("RoleSessionName").as_deref(),
        Some("kafka-migrate"),
        "{assumed:?}"
    );
    // Signed with the chain's credentials, in the cluster's region.
    let authorization = assumed.header("authorization").unwrap_or_default();
    assert!(
        authorization.contains(&format!("Credential={BASE_KEY}/"))
            && authorization.contains(&format!("/{}/sts/", shared::TLS_TARGET_MSK_IAM_REGION)),
        "{authorization}"
    );
    assert!(
        accepted(ROLE_KEY),
        "no token signed with the role's key was accepted"
    );
    assert!(
        !accepted(BASE_KEY),
        "a token was signed with the base credentials"
    );
}

#[test]
fn a_web_identity_signs_tokens_with_the_roles_credentials() {
    const ROLE_KEY: &str = "ASIAWEBIDENTITYTEST";
    const ROLE: &str = "arn:aws:iam::123456789012:role/kafka-migrate-web";
    const IDENTITY: &str = "eyJhbGciOiJSUzI1NiJ9.service-account-token.signature";
    let sts = sts(ROLE_KEY);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, IDENTITY).unwrap();
    let token_file = token_file.display().to_string();
    plan_over_iam(
        dir.path(),
        "",
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file),
            ("AWS_ROLE_ARN", ROLE),
            ("AWS_ENDPOINT_URL_STS", sts.url()),
        ],
    );
    let exchanged = request(&sts, "AssumeRoleWithWebIdentity");
    assert_eq!(
        exchanged.form("RoleArn").as_deref(),
        Some(ROLE),
        "{exchanged:?}"
    );
    assert_eq!(
        exchanged.form("WebIdentityToken").as_deref(),
        Some(IDENTITY),
        "{exchanged:?}"
    );
    assert!(
        accepted(ROLE_KEY),
        "no token signed with the role's key was accepted"
    );
}
