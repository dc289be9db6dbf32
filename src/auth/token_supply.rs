//! OAUTHBEARER tokens handed to clients by the tool. librdkafka asks for a token through an
//! event that rust-rdkafka serves only while the application polls the client: a consumer
//! that first fetches metadata, a transactional producer that first initialises its
//! transactions, and an admin client (which polls only its own result queue) would each wait
//! for a token that never comes. So every client gets its first token when it is created
//! ([`create`], which only the client factory of the `cluster` layer calls); clients that poll renew theirs through their context's refresh hook, and
//! long-lived clients that do not are kept supplied by a thread ([`keep_supplied`]).

use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::AdminClient;
use rdkafka::client::{Client, ClientContext, OAuthToken};
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::ClientConfig;

/// A client holding a librdkafka handle.
pub trait Handle {
    type Context: ClientContext;
    fn handle(&self) -> &Client<Self::Context>;
}

impl<C: ClientContext> Handle for AdminClient<C> {
    type Context = C;
    fn handle(&self) -> &Client<C> {
        self.inner()
    }
}

impl<C: ConsumerContext> Handle for BaseConsumer<C> {
    type Context = C;
    fn handle(&self) -> &Client<C> {
        self.client()
    }
}

impl<C: ProducerContext> Handle for BaseProducer<C> {
    type Context = C;
    fn handle(&self) -> &Client<C> {
        self.client()
    }
}

/// The `sasl.oauthbearer.config` of a client that authenticates with OAUTHBEARER.
fn oauthbearer(config: &ClientConfig) -> Option<Option<String>> {
    (config.get("sasl.mechanism") == Some("OAUTHBEARER"))
        .then(|| config.get("sasl.oauthbearer.config").map(str::to_string))
}

/// Creates a client from `config`; one that authenticates with OAUTHBEARER has its first
/// token before any request goes out.
pub fn create<C, T>(config: &ClientConfig, context: C) -> KafkaResult<T>
where
    C: ClientContext,
    T: FromClientConfigAndContext<C> + Handle,
{
    let client = T::from_config_and_context(config, context)?;
    if let Some(oauth) = oauthbearer(config) {
        supply(&client, oauth.as_deref());
    }
    Ok(client)
}

/// How long to wait before asking again when no token could be made.
const RETRY: Duration = Duration::from_secs(10);

/// Keeps `client` (made with `config`) supplied with tokens for as long as it lives, when
/// it authenticates with OAUTHBEARER; does nothing otherwise.
pub fn keep_supplied<T: Handle + Send + Sync + 'static>(client: &Arc<T>, config: &ClientConfig) {
    let Some(config) = oauthbearer(config) else {
        return;
    };
    // The first token before any request goes out.
    let mut next = supply(client.as_ref(), config.as_deref());
    let client: Weak<T> = Arc::downgrade(client);
    let spawned = std::thread::Builder::new()
        .name("kafka-migrate-token".into())
        .spawn(move || loop {
            // Wake up every second to end soon after the client is dropped.
            while SystemTime::now() < next {
                if client.strong_count() == 0 {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            let Some(client) = client.upgrade() else {
                return;
            };
            next = supply(client.as_ref(), config.as_deref());
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "Could not start renewing a client's token.");
    }
}

/// Sets a fresh token on `client` (or reports the failure to librdkafka); returns when to
/// renew it: at 80% of its lifetime, as librdkafka does.
fn supply<T: Handle + ?Sized>(client: &T, config: Option<&str>) -> SystemTime {
    let client = client.handle();
    let now = SystemTime::now();
    match super::oauth_token(config) {
        Ok(token) => {
            let expires = UNIX_EPOCH + Duration::from_millis(token.lifetime_ms.max(0) as u64);
            set_token(client, &token);
            now + expires.duration_since(now).unwrap_or_default() * 4 / 5
        }
        Err(e) => {
            set_failure(client, &e.to_string());
            now + RETRY
        }
    }
}

fn set_token<C: ClientContext>(client: &Client<C>, token: &OAuthToken) {
    let (Ok(value), Ok(principal)) = (
        CString::new(token.token.as_str()),
        CString::new(token.principal_name.as_str()),
    ) else {
        set_failure(client, "the token has a NUL character");
        return;
    };
    let mut errstr = [0 as c_char; 512];
    // SAFETY: the client handle lives as long as `client`; every pointer passed is valid for
    // the call, and librdkafka copies what it keeps.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token(
            client.native_ptr(),
            value.as_ptr(),
            token.lifetime_ms,
            principal.as_ptr(),
            std::ptr::null_mut(),
            0,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if err != rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        // SAFETY: librdkafka NUL-terminates errstr within its length.
        let reason = unsafe { std::ffi::CStr::from_ptr(errstr.as_ptr()) };
        tracing::warn!(reason = %reason.to_string_lossy(), "A client refused its token.");
    }
}

fn set_failure<C: ClientContext>(client: &Client<C>, reason: &str) {
    let reason = CString::new(reason.replace('\0', " ")).unwrap_or_default();
    // SAFETY: as in `set_token`.
    unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token_failure(
            client.native_ptr(),
            reason.as_ptr(),
        );
    }
}
