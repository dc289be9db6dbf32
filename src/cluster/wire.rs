//! A minimal Kafka protocol connection for the requests librdkafka has no API for (client
//! quotas, DescribeProducers): one TCP connection to a bootstrap broker (or to a given broker),
//! TLS and SASL (PLAIN, SCRAM, OAUTHBEARER with MSK IAM tokens) set up from the cluster's
//! security settings as librdkafka would, then one request at a time. Messages and headers are
//! encoded and decoded by the `kafka-protocol` crate, the SASL mechanisms run by `rsasl`; this
//! module owns the socket, the framing and the errors.
//!
//! Secrets (passwords, tokens) go to the broker only; no error quotes them.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    RequestHeader, ResponseHeader, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use rsasl::callback::{Context, Request as SaslRequest, SessionCallback, SessionData};
use rsasl::prelude::{Mechname, MessageSent, SASLClient, SASLConfig, SessionError, State};
use rsasl::property::{AuthId, OAuthBearerToken, Password};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{ClusterConfig, SaslMechanism};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response read (a broker's default `socket.request.max.bytes` is 100 MiB).
const MAX_RESPONSE: usize = 100 << 20;
const CLIENT_ID: &str = "kafka-migrate";

/// Why a request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("no broker of {servers} answered: {cause}")]
    Unreachable { servers: String, cause: String },
    #[error("{0}")]
    Authentication(String),
    #[error("the broker's answer was malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Unsupported(String),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An authenticated connection to one broker of a cluster.
pub struct Connection {
    stream: Box<dyn Stream>,
    correlation: i32,
}

impl Connection {
    /// Connects to the first of `cluster`'s bootstrap servers that answers, with its TLS and
    /// SASL settings.
    pub async fn open(cluster: &ClusterConfig) -> Result<Connection, WireError> {
        Self::open_at(cluster, &cluster.bootstrap_servers).await
    }

    /// Connects to the first of `servers` (brokers of `cluster`) that answers, with
    /// `cluster`'s TLS and SASL settings.
    pub async fn open_at(
        cluster: &ClusterConfig,
        servers: &[String],
    ) -> Result<Connection, WireError> {
        let security = &cluster.security;
        if security
            .tls
            .as_ref()
            .is_some_and(|t| t.key_password.is_some())
        {
            return Err(WireError::Unsupported(
                "an encrypted client key (tls.key_password) is not supported for client \
                 quotas and DescribeProducers: give an unencrypted PKCS#8 key"
                    .into(),
            ));
        }
        let mut last = String::from("no broker address");
        for server in servers {
            let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(server)).await
            {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => {
                    last = format!("{server}: {e}");
                    continue;
                }
                Err(_) => {
                    last = format!("{server}: timed out");
                    continue;
                }
            };
            let stream: Box<dyn Stream> = if security.protocol.uses_tls() {
                Box::new(tls(cluster, server, tcp).await?)
            } else {
                Box::new(tcp)
            };
            let mut connection = Connection {
                stream,
                correlation: 0,
            };
            if security.protocol.uses_sasl() {
                connection.authenticate(cluster).await?;
            }
            return Ok(connection);
        }
        Err(WireError::Unreachable {
            servers: servers.join(","),
            cause: last,
        })
    }

    /// Sends `request` as version `version` and returns the broker's response.
    pub async fn request<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, WireError> {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header
            .encode(&mut frame, R::header_version(version))
            .and_then(|()| request.encode(&mut frame, version))
            .map_err(|e| WireError::Malformed(format!("encoding the request: {e}")))?;
        let size = (frame.len() - 4) as i32;
        frame[..4].copy_from_slice(&size.to_be_bytes());
        let exchange = async {
            self.stream.write_all(&frame).await?;
            self.stream.flush().await?;
            let size = self.stream.read_i32().await?;
            if size < 4 || size as usize > MAX_RESPONSE {
                return Err(std::io::Error::other(format!("a response of {size} bytes")));
            }
            let mut response = vec![0u8; size as usize];
            self.stream.read_exact(&mut response).await?;
            Ok(Bytes::from(response))
        };
        let mut response = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| WireError::Malformed("no response within 30 s".into()))?
            .map_err(|e| WireError::Malformed(format!("the connection failed: {e}")))?;
        fn malformed(e: impl std::fmt::Display) -> WireError {
            WireError::Malformed(e.to_string())
        }
        let header = ResponseHeader::decode(&mut response, R::Response::header_version(version))
            .map_err(malformed)?;
        if header.correlation_id != self.correlation {
            return Err(WireError::Malformed(format!(
                "response {} to request {}",
                header.correlation_id, self.correlation
            )));
        }
        R::Response::decode(&mut response, version).map_err(malformed)
    }

    /// SaslHandshake, then SaslAuthenticate rounds until the configured mechanism is done.
    async fn authenticate(&mut self, cluster: &ClusterConfig) -> Result<(), WireError> {
        let security = &cluster.security;
        let (mechanism, credentials) = match (&security.sasl, &security.aws_iam) {
            (_, Some(iam)) => {
                let config = crate::auth::iam_token::oauthbearer_config(iam);
                // The token provider runs its own runtime for the credential chain.
                let token = tokio::task::spawn_blocking(move || {
                    crate::auth::iam_token::generate(Some(&config))
                })
                .await
                .map_err(|e| WireError::Authentication(e.to_string()))?
                .map_err(|e| WireError::Authentication(e.to_string()))?;
                ("OAUTHBEARER", Credentials::Token(token.token))
            }
            (Some(sasl), None) => {
                let mechanism = match sasl.mechanism {
                    SaslMechanism::Plain => "PLAIN",
                    SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
                    SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
                };
                let credentials = Credentials::Password {
                    user: sasl.username.clone(),
                    password: sasl.password.expose().to_string(),
                };
                (mechanism, credentials)
            }
            (None, None) => {
                return Err(WireError::Authentication(
                    "the security protocol uses SASL but no sasl or aws_iam block is set".into(),
                ))
            }
        };
        let handshake =
            SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
        let code = self.request(&handshake, 1).await?.error_code;
        if code != 0 {
            return Err(WireError::Authentication(format!(
                "the broker does not take SASL mechanism {mechanism} (error {code})"
            )));
        }
        let failed =
            |e: &dyn std::fmt::Display| WireError::Authentication(format!("SASL {mechanism}: {e}"));
        let config = SASLConfig::builder()
            .with_default_mechanisms()
            .with_callback(credentials)
            .map_err(|e| failed(&e))?;
        let name = Mechname::parse(mechanism.as_bytes()).map_err(|e| failed(&e))?;
        let mut session = SASLClient::new(config)
            .start_suggested(&[name])
            .map_err(|e| failed(&e))?;
        let mut input: Option<Bytes> = None;
        loop {
            let mut output = Vec::new();
            let state = session
                .step(input.as_deref(), &mut output)
                .map_err(|e| match e {
                    SessionError::MutualAuthenticationFailed => WireError::Authentication(
                        "the broker's SCRAM signature did not verify".into(),
                    ),
                    e => failed(&e),
                })?;
            if state == State::Finished(MessageSent::No) {
                return Ok(());
            }
            input = Some(self.sasl_round(output).await?);
            if state == State::Finished(MessageSent::Yes) {
                return Ok(());
            }
        }
    }

    /// One SaslAuthenticate (v1) exchange: the client's bytes out, the broker's back.
    async fn sasl_round(&mut self, bytes: Vec<u8>) -> Result<Bytes, WireError> {
        let request = SaslAuthenticateRequest::default().with_auth_bytes(bytes.into());
        let response = self.request(&request, 1).await?;
        if response.error_code != 0 {
            return Err(WireError::Authentication(format!(
                "the broker refused the SASL authentication: {}",
                response.error_message.map_or_else(
                    || format!("error {}", response.error_code),
                    |m| m.to_string()
                )
            )));
        }
        Ok(response.auth_bytes)
    }
}

/// What the SASL mechanism asks for: a user and password, or a bearer token. Kept for one
/// authentication only.
enum Credentials {
    Password { user: String, password: String },
    Token(String),
}

impl SessionCallback for Credentials {
    fn callback(
        &self,
        _session: &SessionData,
        _context: &Context,
        request: &mut SaslRequest<'_>,
    ) -> Result<(), SessionError> {
        match self {
            Credentials::Password { user, password } => {
                request
                    .satisfy::<AuthId>(user)?
                    .satisfy::<Password>(password.as_bytes())?;
            }
            Credentials::Token(token) => {
                request.satisfy::<OAuthBearerToken>(token)?;
            }
        }
        Ok(())
    }
}

/// A TLS session over `tcp` with `cluster`'s trust and client certificate.
async fn tls(
    cluster: &ClusterConfig,
    server: &str,
    tcp: TcpStream,
) -> Result<tokio_native_tls::TlsStream<TcpStream>, WireError> {
    let read = |path: &std::path::Path| {
        crate::config::files::read_bounded(path, crate::config::files::MAX_SMALL_FILE)
            .map_err(|e| WireError::Authentication(e.to_string()))
    };
    let bad = |what: &str, e: native_tls::Error| WireError::Authentication(format!("{what}: {e}"));
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(tls) = &cluster.security.tls {
        if let Some(ca) = &tls.ca_file {
            builder.disable_built_in_roots(true);
            for cert in native_tls::Certificate::stack_from_pem(&read(ca)?)
                .map_err(|e| bad("tls.ca_file", e))?
            {
                builder.add_root_certificate(cert);
            }
        }
        if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
            let identity = native_tls::Identity::from_pkcs8(&read(cert)?, &read(key)?)
                .map_err(|e| bad("tls.cert_file / tls.key_file", e))?;
            builder.identity(identity);
        }
        builder.danger_accept_invalid_hostnames(!tls.verify_hostname);
    }
    let connector = builder.build().map_err(|e| bad("setting up TLS", e))?;
    let host = server.rsplit_once(':').map_or(server, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    tokio_native_tls::TlsConnector::from(connector)
        .connect(host, tcp)
        .await
        .map_err(|e| WireError::Authentication(format!("TLS handshake with {server}: {e}")))
}
