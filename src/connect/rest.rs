//! The Kafka Connect REST API, as far as the engine needs it: put a connector's config, read
//! it back, read its state and its tasks' states.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("the Kafka Connect REST API at {url} could not be reached for {what}: {source}")]
    Unreachable {
        url: String,
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the Kafka Connect REST API at {url} refused {what}: HTTP {status}: {message}")]
    Refused {
        url: String,
        what: String,
        status: u16,
        message: String,
    },
}

/// How long a request is retried while the Connect cluster starts or rebalances.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// A connector's state and its tasks' (`GET /connectors/NAME/status`).
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectorState {
    pub name: String,
    pub connector: TaskState,
    #[serde(default)]
    pub tasks: Vec<TaskState>,
}

/// The state of a connector or of one of its tasks.
#[derive(Debug, Clone, Deserialize)]
pub struct TaskState {
    #[serde(default)]
    pub id: Option<i32>,
    /// UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED or RESTARTING.
    pub state: String,
    #[serde(default)]
    pub worker_id: String,
    /// The stack trace of a FAILED connector or task.
    #[serde(default)]
    pub trace: Option<String>,
}

impl TaskState {
    /// The first line of the trace: the exception and its message.
    pub fn error(&self) -> Option<&str> {
        self.trace.as_deref().and_then(|t| t.lines().next())
    }
}

/// A client of one Connect cluster.
#[derive(Clone)]
pub struct ConnectClient {
    /// The URL requests go to (credentials included when the URL carries them).
    endpoint: String,
    /// The URL as messages show it: without the credentials it may carry.
    shown: String,
    /// HTTP basic authentication given apart from the URL: user and password.
    basic: Option<(String, Secret)>,
    http: reqwest::Client,
}

/// Shows the URL without its credentials.
impl std::fmt::Debug for ConnectClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectClient")
            .field("url", &self.shown)
            .field("user", &self.basic.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// Why a Connect client could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the Kafka Connect CA file {path} is not a PEM certificate: {source}")]
pub struct CaError {
    path: std::path::PathBuf,
    #[source]
    source: reqwest::Error,
}

impl ConnectClient {
    /// A client of the REST API at `url` (credentials in the URL are used).
    pub fn new(url: &str) -> ConnectClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self::made(url, None, http)
    }

    /// A client of the REST API at `url`, with HTTP basic authentication `basic` and, for
    /// `https`, `ca` (PEM, with its path) trusted on top of the system's roots. Certificates
    /// and host names are always verified.
    pub fn with_access(
        url: &str,
        basic: Option<(String, Secret)>,
        ca: Option<(&std::path::Path, &[u8])>,
    ) -> Result<ConnectClient, CaError> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some((path, pem)) = ca {
            let certificate = reqwest::Certificate::from_pem(pem).map_err(|source| CaError {
                path: path.to_path_buf(),
                source,
            })?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|source| CaError {
            path: ca.map(|(p, _)| p.to_path_buf()).unwrap_or_default(),
            source,
        })?;
        Ok(Self::made(url, basic, http))
    }

    fn made(url: &str, basic: Option<(String, Secret)>, http: reqwest::Client) -> ConnectClient {
        let url = url.trim_end_matches('/').to_string();
        ConnectClient {
            shown: crate::config::shown_url(&url),
            endpoint: url,
            basic,
            http,
        }
    }

    /// `request` with the basic authentication given apart from the URL, if any.
    fn authorised(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.basic {
            Some((user, password)) => request.basic_auth(user, Some(password.expose())),
            None => request,
        }
    }

    /// The REST API's URL, without the user name and password it may carry.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// Creates or updates connector `name` (`PUT /connectors/NAME/config`).
    pub async fn put_config(
        &self,
        name: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<(), RestError> {
        let what = format!("the config of connector \"{name}\"");
        let started = std::time::Instant::now();
        loop {
            let response = self
                .authorised(
                    self.http
                        .put(format!("{}/connectors/{name}/config", self.endpoint)),
                )
                .json(config)
                .send()
                .await
                .map_err(|source| self.unreachable(&what, source))?;
            match self.check(response, &what).await {
                Ok(_) => return Ok(()),
                // A worker that is still starting or rebalancing answers 404, 409 or 503.
                Err(RestError::Refused { status, .. })
                    if matches!(status, 404 | 409 | 503) && started.elapsed() < BUSY_TIMEOUT =>
                {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The deployed config of connector `name`, or `None` when there is no such connector.
    pub async fn config(&self, name: &str) -> Result<Option<BTreeMap<String, String>>, RestError> {
        self.get_json(
            &format!("connectors/{name}/config"),
            &format!("the config of connector \"{name}\""),
        )
        .await
    }

    /// The state of connector `name`, or `None` when there is no such connector.
    pub async fn status(&self, name: &str) -> Result<Option<ConnectorState>, RestError> {
        self.get_json(
            &format!("connectors/{name}/status"),
            &format!("the state of connector \"{name}\""),
        )
        .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<Option<T>, RestError> {
        let response = self
            .authorised(self.http.get(format!("{}/{path}", self.endpoint)))
            .send()
            .await
            .map_err(|source| self.unreachable(what, source))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = self.check(response, what).await?;
        response
            .json()
            .await
            .map(Some)
            .map_err(|source| self.unreachable(what, source))
    }

    async fn check(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<reqwest::Response, RestError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_string))
            .unwrap_or(body);
        Err(RestError::Refused {
            url: self.shown.clone(),
            what: what.to_string(),
            status: status.as_u16(),
            message,
        })
    }

    fn unreachable(&self, what: &str, source: reqwest::Error) -> RestError {
        RestError::Unreachable {
            url: self.shown.clone(),
            what: what.to_string(),
            // reqwest's message names the URL, credentials and all.
            source: source.without_url(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn errors_show_the_url_without_its_credentials() {
        let client = ConnectClient::new("http://admin:SECRET-MARKER@127.0.0.1:1/");
        assert_eq!(client.url(), "http://127.0.0.1:1");
        let error = client
            .status("c")
            .await
            .expect_err("nothing listens on port 1");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SECRET-MARKER"), "{shown}");
        assert!(shown.contains("http://127.0.0.1:1"), "{shown}");
    }
}
