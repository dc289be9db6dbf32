use std::sync::atomic::{AtomicUsize, Ordering};

use aws_credential_types::provider::{future, ProvideCredentials};

use super::*;

fn decoded(token: &IamToken) -> String {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&token.token)
        .unwrap();
    String::from_utf8(url).unwrap()
}

/// Hands out new credentials on every call, as a rotating role session does.
#[derive(Debug, Default)]
struct Rotating(AtomicUsize);

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        future::ProvideCredentials::ready(Ok(Credentials::new(
            format!("AKIDROTATION{n}"),
            "secret",
            Some(format!("session-{n}")),
            None,
            "rotating",
        )))
    }
}

#[test]
fn a_token_is_a_presigned_connect_request_for_the_region() {
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
    let token = sign_token(&credentials, "eu-central-1", at).unwrap();
    let url = decoded(&token);
    assert!(
        url.starts_with("https://kafka.eu-central-1.amazonaws.com/?"),
        "{url}"
    );
    for part in [
        "Action=kafka-cluster%3AConnect",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Feu-central-1%2Fkafka-cluster%2Faws4_request",
        "X-Amz-Date=20231114T221320Z",
        "X-Amz-Expires=900",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Signature=",
        "User-Agent=kafka-migrate%2F",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    assert!(!url.contains("X-Amz-Security-Token"), "{url}");
    assert_eq!(token.expires_at_ms(), 1_700_000_900_000);
    assert!(!format!("{token:?}").contains(&token.token));
}

#[test]
fn each_refresh_signs_anew_with_fresh_credentials() {
    let provider = TokenProvider::new(
        "us-west-2",
        SharedCredentialsProvider::new(Rotating::default()),
    );
    let first_at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    // librdkafka asks again before the first token expires (at 80% of its lifetime).
    let second_at = first_at + TOKEN_LIFETIME * 4 / 5;
    let first = provider.token(first_at).unwrap();
    let second = provider.token(second_at).unwrap();
    assert_eq!(first.expires_at, first_at + TOKEN_LIFETIME);
    assert_eq!(second.expires_at, second_at + TOKEN_LIFETIME);
    assert!(second.expires_at > first.expires_at);
    assert!(decoded(&first).contains("AKIDROTATION0"));
    assert!(decoded(&second).contains("AKIDROTATION1"));
    assert!(decoded(&second).contains("X-Amz-Security-Token=session-1"));
}

#[test]
fn the_refresh_hook_signs_with_credentials_from_the_environment() {
    // Only this test of the library's unit tests reads AWS variables.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-from-environment");
    std::env::set_var("AWS_SESSION_TOKEN", "token-from-environment");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let iam = AwsIam {
        region: "us-east-1".into(),
        profile: None,
        role_arn: None,
        cluster_arn: None,
    };
    let config = oauthbearer_config(&iam);
    let before = SystemTime::now();
    let token = generate(Some(&config)).unwrap();
    assert_eq!(token.principal_name, PRINCIPAL);
    let lifetime = Duration::from_millis(token.lifetime_ms as u64);
    let expires_at = UNIX_EPOCH + lifetime;
    assert!(expires_at >= before + TOKEN_LIFETIME - Duration::from_secs(1));
    assert!(expires_at <= SystemTime::now() + TOKEN_LIFETIME);
    let url = decoded(&IamToken {
        token: token.token,
        expires_at,
    });
    assert!(
        url.contains("X-Amz-Credential=AKIDFROMENVIRONMENT%2F"),
        "{url}"
    );
    assert!(
        url.contains("X-Amz-Security-Token=token-from-environment"),
        "{url}"
    );
}

#[test]
fn the_hook_refuses_settings_it_did_not_write() {
    for config in [
        None,
        Some("principal=admin"),
        Some("kafka-migrate-msk-iam profile=x"),
    ] {
        assert!(generate(config).is_err(), "{config:?}");
    }
}
