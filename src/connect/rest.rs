//! The Kafka Connect REST API, as far as the engine needs it: put a connector's config, read
//! it back, read its state and its tasks' states.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

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
#[derive(Debug, Clone)]
pub struct ConnectClient {
    /// The URL requests go to (credentials included, for basic authentication).
    endpoint: String,
    /// The URL as messages show it: without the credentials it may carry.
    shown: String,
    http: reqwest::Client,
}

impl ConnectClient {
    pub fn new(url: &str) -> ConnectClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let url = url.trim_end_matches('/').to_string();
        ConnectClient {
            shown: crate::config::shown_url(&url),
            endpoint: url,
            http,
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
                .http
                .put(format!("{}/connectors/{name}/config", self.endpoint))
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
            .http
            .get(format!("{}/{path}", self.endpoint))
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
