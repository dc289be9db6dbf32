//! MSK IAM authentication tokens for SASL/OAUTHBEARER: a SigV4-presigned
//! `GET https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect` (service
//! `kafka-cluster`, valid 15 minutes), base64url-encoded without padding, as MSK expects.
//! Credentials come from the standard AWS chain (environment, shared profile, web identity,
//! container and instance metadata), optionally through an assumed role.
//!
//! librdkafka asks for a token through [`generate`] (the clients' OAuth refresh hook) when it
//! connects and again before the token expires; the hook finds the cluster's settings in
//! `sasl.oauthbearer.config`, which [`oauthbearer_config`] writes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine;

use crate::config::AwsIam;

/// How long a signed token is valid (the signature's `X-Amz-Expires`).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

const SIGNING_NAME: &str = "kafka-cluster";
/// `Action=kafka-cluster:Connect`, percent-encoded as in the signed URL.
const ACTION_QUERY: &str = "Action=kafka-cluster%3AConnect";
/// Principal name handed to librdkafka with the token (MSK takes the identity from the
/// signature, not from this).
const PRINCIPAL: &str = "kafka-migrate";

/// Why no token could be made.
#[derive(Debug, thiserror::Error)]
pub enum IamTokenError {
    #[error("no AWS credentials for MSK IAM authentication: {0}")]
    Credentials(String),
    #[error("signing the MSK IAM authentication token failed: {0}")]
    Signing(String),
    #[error("the MSK IAM settings are unreadable: {0}")]
    Settings(String),
}

/// A signed token and when it stops being valid.
#[derive(Clone, PartialEq, Eq)]
pub struct IamToken {
    /// The base64url-encoded presigned URL (unpadded): a bearer secret, never print it.
    pub token: String,
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for IamToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IamToken")
            .field("token", &"**REDACTED**")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl IamToken {
    /// Milliseconds since the Unix epoch at which the token expires (librdkafka's lifetime).
    pub fn expires_at_ms(&self) -> i64 {
        self.expires_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// Signs a token for `region` with `credentials` at time `at`. It expires after
/// [`TOKEN_LIFETIME`], or with the credentials when they expire sooner.
pub fn sign_token(
    credentials: &Credentials,
    region: &str,
    at: SystemTime,
) -> Result<IamToken, IamTokenError> {
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(TOKEN_LIFETIME);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_NAME)
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| IamTokenError::Signing(e.to_string()))?
        .into();
    let url = format!("https://kafka.{region}.amazonaws.com/?{ACTION_QUERY}");
    let signable = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| IamTokenError::Signing(e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| IamTokenError::Signing(e.to_string()))?
        .into_parts();
    let mut request = http::Request::get(url.as_str())
        .body(())
        .map_err(|e| IamTokenError::Signing(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    let signed = format!(
        "{}&User-Agent=kafka-migrate%2F{}",
        request.uri(),
        env!("CARGO_PKG_VERSION")
    );
    let mut expires_at = at + TOKEN_LIFETIME;
    if let Some(credentials_expiry) = credentials.expiry() {
        expires_at = expires_at.min(credentials_expiry);
    }
    Ok(IamToken {
        token: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed),
        expires_at,
    })
}

/// The `sasl.oauthbearer.config` value that tells the refresh hook how to sign for a cluster.
pub fn oauthbearer_config(iam: &AwsIam) -> String {
    let mut config = format!("kafka-migrate-msk-iam region={}", iam.region);
    if let Some(profile) = &iam.profile {
        config.push_str(&format!(" profile={profile}"));
    }
    if let Some(role) = &iam.role_arn {
        config.push_str(&format!(" role_arn={role}"));
    }
    config
}

/// The token for a client whose `sasl.oauthbearer.config` is `config`: what every client
/// context's OAuth refresh hook returns.
pub fn generate(config: Option<&str>) -> Result<rdkafka::client::OAuthToken, IamTokenError> {
    let config = config.ok_or_else(|| {
        IamTokenError::Settings("the client has no sasl.oauthbearer.config".into())
    })?;
    let provider = provider_for(config)?;
    let token = provider.token(SystemTime::now())?;
    tracing::debug!(
        expires_at_ms = token.expires_at_ms(),
        "Signed a new MSK IAM authentication token."
    );
    let lifetime_ms = token.expires_at_ms();
    Ok(rdkafka::client::OAuthToken {
        token: token.token,
        principal_name: PRINCIPAL.to_string(),
        lifetime_ms,
    })
}

/// AWS credentials for `iam`'s settings, from the provider its tokens are signed with (for
/// MSK's own API). Blocks: call it off the async runtime.
pub fn credentials(iam: &AwsIam) -> Result<Credentials, IamTokenError> {
    provider_for(&oauthbearer_config(iam))?.credentials()
}

/// One provider per distinct configuration, shared by every client of the process.
fn provider_for(config: &str) -> Result<Arc<TokenProvider>, IamTokenError> {
    static PROVIDERS: OnceLock<Mutex<HashMap<String, Arc<TokenProvider>>>> = OnceLock::new();
    let mut providers = PROVIDERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(provider) = providers.get(config) {
        return Ok(provider.clone());
    }
    let provider = Arc::new(TokenProvider::from_config(config)?);
    providers.insert(config.to_string(), provider.clone());
    Ok(provider)
}

/// Signs tokens for one region with credentials from the AWS chain.
pub struct TokenProvider {
    region: String,
    credentials: SharedCredentialsProvider,
    /// Runs the credential chain's network calls (metadata services, STS) whatever thread
    /// librdkafka calls the hook from.
    runtime: tokio::runtime::Runtime,
}

impl TokenProvider {
    /// A provider for settings written by [`oauthbearer_config`].
    pub fn from_config(config: &str) -> Result<TokenProvider, IamTokenError> {
        let mut words = config.split_whitespace();
        if words.next() != Some("kafka-migrate-msk-iam") {
            return Err(IamTokenError::Settings(
                "sasl.oauthbearer.config was not written by kafka-migrate".into(),
            ));
        }
        let mut settings: HashMap<&str, &str> = HashMap::new();
        for word in words {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| IamTokenError::Settings(format!("\"{word}\" is not key=value")))?;
            settings.insert(k, v);
        }
        let region = settings
            .get("region")
            .ok_or_else(|| IamTokenError::Settings("no region".into()))?
            .to_string();
        let runtime = chain_runtime().map_err(|e| IamTokenError::Credentials(e.to_string()))?;
        let profile = settings.get("profile").map(|p| p.to_string());
        let role = settings.get("role_arn").map(|r| r.to_string());
        let chain_region = region.clone();
        let credentials = run_on(&runtime, async move {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(chain_region));
            if let Some(profile) = profile {
                loader = loader.profile_name(profile);
            }
            let sdk = loader.load().await;
            let chain = sdk.credentials_provider().ok_or_else(|| {
                IamTokenError::Credentials("the AWS credential chain is empty".into())
            })?;
            Ok::<_, IamTokenError>(match role {
                Some(role) => SharedCredentialsProvider::new(
                    aws_config::sts::AssumeRoleProvider::builder(role)
                        .session_name("kafka-migrate")
                        .configure(&sdk)
                        .build()
                        .await,
                ),
                None => chain,
            })
        })?;
        Ok(TokenProvider {
            region,
            credentials,
            runtime,
        })
    }

    /// A provider with the given credentials source (tests pass fixed credentials).
    pub fn new(region: &str, credentials: SharedCredentialsProvider) -> TokenProvider {
        TokenProvider {
            region: region.to_string(),
            credentials,
            runtime: chain_runtime().expect("a one-thread runtime builds"),
        }
    }

    /// Fresh credentials from the chain, then a token signed at `at`.
    pub fn token(&self, at: SystemTime) -> Result<IamToken, IamTokenError> {
        sign_token(&self.credentials()?, &self.region, at)
    }

    /// Fresh credentials from the chain (or the assumed role).
    pub fn credentials(&self) -> Result<Credentials, IamTokenError> {
        let provider = self.credentials.clone();
        run_on(&self.runtime, async move {
            provider
                .provide_credentials()
                .await
                .map_err(|e| IamTokenError::Credentials(error_chain(&e)))
        })
    }
}

/// One worker thread drives the chain's I/O, so any thread may wait on it.
fn chain_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kafka-migrate-aws-credentials")
        .enable_all()
        .build()
}

/// Runs `future` to completion on `runtime` from any thread, inside a tokio runtime or not.
fn run_on<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    future: impl std::future::Future<Output = Result<T, IamTokenError>> + Send + 'static,
) -> Result<T, IamTokenError> {
    let handle = runtime.handle().clone();
    std::thread::scope(|s| {
        s.spawn(move || handle.block_on(future))
            .join()
            .unwrap_or_else(|_| {
                Err(IamTokenError::Credentials(
                    "the credential chain panicked".into(),
                ))
            })
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests;
