//! MSK IAM through assumed roles: with `aws_iam.role_arn` the tool assumes the role with the
//! credentials of the chain, and with a web identity (EKS service accounts) the chain itself
//! exchanges the token for role credentials. A stand-in for AWS STS on loopback hands out
//! the role credentials; the test broker accepts only tokens for its region and logs the
//! access key each one was signed with, so the tokens are seen to come from the role.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use kafka_harness::{data, shared};

use crate::auth::{aws_environment, cluster_block, migration, text, Scheme};
use crate::support::kafka_migrate;

/// One request STS received: its form parameters and its `Authorization` header.
#[derive(Debug, Clone)]
struct StsRequest {
    form: Vec<(String, String)>,
    authorization: Option<String>,
}

impl StsRequest {
    fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Serves AssumeRole and AssumeRoleWithWebIdentity on loopback, answering with credentials
/// whose access key id is `access_key_id`; returns its URL and the requests it received.
fn sts(access_key_id: &'static str) -> (String, Arc<Mutex<Vec<StsRequest>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let (mut length, mut authorization) = (0, None);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "authorization" => authorization = Some(value.trim().to_string()),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let form: Vec<(String, String)> = form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let request = StsRequest {
                form,
                authorization,
            };
            let action = request.get("Action").unwrap_or_default().to_string();
            log.lock().unwrap().push(request);
            let body = format!(
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
            );
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{address}"), seen)
}

/// `kafka-migrate plan` from the plain source to the shared MSK IAM target, with the target's
/// `aws_iam` block getting `extra` and the AWS environment `env` only; it must succeed.
fn plan_over_iam(dir: &Path, extra: &str, env: &[(&'static str, &str)]) {
    let prefix = data::unique_name("roles").replace('-', "_");
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
    let mut cmd = kafka_migrate(&config);
    cmd.arg("plan");
    for (name, value) in aws_environment(env) {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// The first `action` request STS received.
fn request(requests: &Mutex<Vec<StsRequest>>, action: &str) -> StsRequest {
    let requests = requests.lock().unwrap();
    requests
        .iter()
        .find(|r| r.get("Action") == Some(action))
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
    let (endpoint, requests) = sts(ROLE_KEY);
    let dir = tempfile::tempdir().unwrap();
    plan_over_iam(
        dir.path(),
        &format!("role_arn = \"{ROLE}\""),
        &[
            ("AWS_ACCESS_KEY_ID", BASE_KEY),
            ("AWS_SECRET_ACCESS_KEY", "base-secret"),
            ("AWS_ENDPOINT_URL_STS", &endpoint),
        ],
    );
    let assumed = request(&requests, "AssumeRole");
    assert_eq!(assumed.get("RoleArn"), Some(ROLE), "{assumed:?}");
    assert_eq!(
        assumed.get("RoleSessionName"),
        Some("kafka-migrate"),
        "{assumed:?}"
    );
    // Signed with the chain's credentials, in the cluster's region.
    let authorization = assumed.authorization.clone().unwrap_or_default();
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
    let (endpoint, requests) = sts(ROLE_KEY);
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
            ("AWS_ENDPOINT_URL_STS", &endpoint),
        ],
    );
    let exchanged = request(&requests, "AssumeRoleWithWebIdentity");
    assert_eq!(exchanged.get("RoleArn"), Some(ROLE), "{exchanged:?}");
    assert_eq!(
        exchanged.get("WebIdentityToken"),
        Some(IDENTITY),
        "{exchanged:?}"
    );
    assert!(
        accepted(ROLE_KEY),
        "no token signed with the role's key was accepted"
    );
}
