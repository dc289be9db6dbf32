//! A minimal Kafka protocol connection for the admin requests librdkafka has no API for
//! (client quotas): one TCP connection to a bootstrap broker, TLS and SASL (PLAIN, SCRAM,
//! OAUTHBEARER with MSK IAM tokens) set up from the cluster's security settings as librdkafka
//! would, then one request at a time with non-flexible (header v1) framing. The requests'
//! bodies are written and read by their callers with [`Writer`] and [`Reader`].
//!
//! Secrets (passwords, tokens) go to the broker only; no error quotes them.

mod scram;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{ClusterConfig, SaslMechanism};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response read (a broker's default `socket.request.max.bytes` is 100 MiB).
const MAX_RESPONSE: usize = 100 << 20;
const CLIENT_ID: &str = "kafka-migrate";

const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;

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
        let security = &cluster.security;
        if security
            .tls
            .as_ref()
            .is_some_and(|t| t.key_password.is_some())
        {
            return Err(WireError::Unsupported(
                "an encrypted client key (tls.key_password) is not supported for client \
                 quotas: give an unencrypted PKCS#8 key"
                    .into(),
            ));
        }
        let mut last = String::from("no bootstrap server");
        for server in &cluster.bootstrap_servers {
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
            servers: cluster.bootstrap_servers.join(","),
            cause: last,
        })
    }

    /// Sends request `api_key` version `version` with `body` and returns the response body.
    pub async fn request(
        &mut self,
        api_key: i16,
        version: i16,
        body: &[u8],
    ) -> Result<Vec<u8>, WireError> {
        self.correlation += 1;
        let mut header = Writer::default();
        header.i16(api_key).i16(version).i32(self.correlation);
        header.string(Some(CLIENT_ID));
        let size = header.0.len() + body.len();
        let mut frame = Vec::with_capacity(4 + size);
        frame.extend_from_slice(&(size as i32).to_be_bytes());
        frame.extend_from_slice(&header.0);
        frame.extend_from_slice(body);
        let exchange = async {
            self.stream.write_all(&frame).await?;
            self.stream.flush().await?;
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await?;
            let size = i32::from_be_bytes(size);
            if size < 4 || size as usize > MAX_RESPONSE {
                return Err(std::io::Error::other(format!("a response of {size} bytes")));
            }
            let mut response = vec![0u8; size as usize];
            self.stream.read_exact(&mut response).await?;
            Ok(response)
        };
        let response = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| WireError::Malformed("no response within 30 s".into()))?
            .map_err(|e| WireError::Malformed(format!("the connection failed: {e}")))?;
        let mut reader = Reader::new(&response);
        let correlation = reader.i32()?;
        if correlation != self.correlation {
            return Err(WireError::Malformed(format!(
                "response {correlation} to request {}",
                self.correlation
            )));
        }
        Ok(response[4..].to_vec())
    }

    /// SaslHandshake, then SaslAuthenticate rounds for the configured mechanism.
    async fn authenticate(&mut self, cluster: &ClusterConfig) -> Result<(), WireError> {
        let security = &cluster.security;
        let mechanism = match (&security.sasl, &security.aws_iam) {
            (_, Some(_)) => "OAUTHBEARER",
            (Some(sasl), None) => match sasl.mechanism {
                SaslMechanism::Plain => "PLAIN",
                SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
                SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            },
            (None, None) => {
                return Err(WireError::Authentication(
                    "the security protocol uses SASL but no sasl or aws_iam block is set".into(),
                ))
            }
        };
        let mut body = Writer::default();
        body.string(Some(mechanism));
        let response = self.request(SASL_HANDSHAKE, 1, &body.0).await?;
        let mut r = Reader::new(&response);
        let code = r.i16()?;
        if code != 0 {
            return Err(WireError::Authentication(format!(
                "the broker does not take SASL mechanism {mechanism} (error {code})"
            )));
        }
        match (&security.sasl, &security.aws_iam) {
            (_, Some(iam)) => {
                let config = crate::auth::iam_token::oauthbearer_config(iam);
                // The token provider runs its own runtime for the credential chain.
                let token = tokio::task::spawn_blocking(move || {
                    crate::auth::iam_token::generate(Some(&config))
                })
                .await
                .map_err(|e| WireError::Authentication(e.to_string()))?
                .map_err(|e| WireError::Authentication(e.to_string()))?;
                let message = format!("n,,\u{1}auth=Bearer {}\u{1}\u{1}", token.token);
                self.sasl_round(message.as_bytes()).await?;
            }
            (Some(sasl), None) => match sasl.mechanism {
                SaslMechanism::Plain => {
                    let message = format!("\0{}\0{}", sasl.username, sasl.password.expose());
                    self.sasl_round(message.as_bytes()).await?;
                }
                SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                    let hash = if sasl.mechanism == SaslMechanism::ScramSha256 {
                        scram::Hash::Sha256
                    } else {
                        scram::Hash::Sha512
                    };
                    let client = scram::Client::new(hash, &sasl.username, &scram::nonce());
                    let first = self.sasl_round(client.first().as_bytes()).await?;
                    let (last, expected) = client
                        .last(&String::from_utf8_lossy(&first), sasl.password.expose())
                        .map_err(WireError::Authentication)?;
                    let verdict = self.sasl_round(last.as_bytes()).await?;
                    if !scram::verifies(&String::from_utf8_lossy(&verdict), &expected) {
                        return Err(WireError::Authentication(
                            "the broker's SCRAM signature did not verify".into(),
                        ));
                    }
                }
            },
            (None, None) => {}
        }
        Ok(())
    }

    /// One SaslAuthenticate (v1) exchange: the client's bytes out, the broker's back.
    async fn sasl_round(&mut self, bytes: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut body = Writer::default();
        body.bytes(bytes);
        let response = self.request(SASL_AUTHENTICATE, 1, &body.0).await?;
        let mut r = Reader::new(&response);
        let code = r.i16()?;
        let message = r.string()?;
        if code != 0 {
            return Err(WireError::Authentication(format!(
                "the broker refused the SASL authentication: {}",
                message.unwrap_or_else(|| format!("error {code}"))
            )));
        }
        r.bytes()
    }
}

/// A TLS session over `tcp` with `cluster`'s trust and client certificate.
async fn tls(
    cluster: &ClusterConfig,
    server: &str,
    tcp: TcpStream,
) -> Result<tokio_native_tls::TlsStream<TcpStream>, WireError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| WireError::Authentication(format!("reading {}: {e}", path.display())))
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

/// Writes a request body in Kafka's non-flexible encoding.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn i8(&mut self, v: i8) -> &mut Self {
        self.0.push(v as u8);
        self
    }
    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.i8(v as i8)
    }
    /// A nullable string (`None` is null).
    pub fn string(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(s) => {
                self.i16(s.len() as i16);
                self.0.extend_from_slice(s.as_bytes());
            }
            None => {
                self.i16(-1);
            }
        }
        self
    }
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.i32(v.len() as i32);
        self.0.extend_from_slice(v);
        self
    }
    /// An array: its length, then each item written by `item`.
    pub fn array<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.i32(items.len() as i32);
        for i in items {
            item(self, i);
        }
        self
    }
}

/// Reads a response body in Kafka's non-flexible encoding.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data, at: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.data.len());
        let end = end
            .ok_or_else(|| WireError::Malformed(format!("it ends before byte {}", self.at + n)))?;
        let slice = &self.data[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn i16(&mut self) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.fixed()?))
    }
    pub fn i32(&mut self) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.fixed()?))
    }
    pub fn f64(&mut self) -> Result<f64, WireError> {
        Ok(f64::from_be_bytes(self.fixed()?))
    }
    /// A nullable string.
    pub fn string(&mut self) -> Result<Option<String>, WireError> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| WireError::Malformed("a string that is not UTF-8".into()))
    }
    pub fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let len = self.i32()?;
        Ok(self.take(len.max(0) as usize)?.to_vec())
    }
    /// An array (a null one is empty), each item read by `item`.
    pub fn array<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, WireError>,
    ) -> Result<Vec<T>, WireError> {
        let len = self.i32()?;
        (0..len.max(0)).map(|_| item(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let mut w = Writer::default();
        w.i16(48).string(Some("user")).string(None).f64(1024.5);
        w.array(&["a", "bc"], |w, s| {
            w.string(Some(s));
        })
        .bool(true);
        let mut r = Reader::new(&w.0);
        assert_eq!(r.i16().unwrap(), 48);
        assert_eq!(r.string().unwrap().as_deref(), Some("user"));
        assert_eq!(r.string().unwrap(), None);
        assert_eq!(r.f64().unwrap(), 1024.5);
        let items = r.array(|r| r.string()).unwrap();
        assert_eq!(items, [Some("a".into()), Some("bc".into())]);
        assert_eq!(r.take(1).unwrap(), [1]);
        assert!(matches!(r.i16(), Err(WireError::Malformed(_))));
    }
}
