//! OAUTHBEARER tokens for admin clients. rust-rdkafka's `AdminClient` polls only its own
//! result queue, never the queue where librdkafka asks for a token, so its context's refresh
//! hook is never called: the tool hands each admin client its token itself, and a fresh one
//! before that expires, for as long as the client lives.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::AdminClient;
use rdkafka::client::{ClientContext, OAuthToken};

/// How long to wait before asking again when no token could be made.
const RETRY: Duration = Duration::from_secs(10);

/// Keeps `admin` supplied with tokens when its `properties` use OAUTHBEARER; does nothing
/// otherwise.
pub fn keep_supplied<C: ClientContext + 'static>(
    admin: &Arc<AdminClient<C>>,
    properties: &BTreeMap<String, String>,
) {
    if properties.get("sasl.mechanism").map(String::as_str) != Some("OAUTHBEARER") {
        return;
    }
    let config = properties.get("sasl.oauthbearer.config").cloned();
    // The first token before any request goes out.
    let mut next = supply(admin, config.as_deref());
    let client: Weak<AdminClient<C>> = Arc::downgrade(admin);
    let spawned = std::thread::Builder::new()
        .name("kafka-migrate-admin-token".into())
        .spawn(move || loop {
            // Wake up every second to end soon after the client is dropped.
            while SystemTime::now() < next {
                if client.strong_count() == 0 {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            let Some(admin) = client.upgrade() else {
                return;
            };
            next = supply(&admin, config.as_deref());
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "Could not start renewing the admin client's token.");
    }
}

/// Sets a fresh token on `admin` (or reports the failure to librdkafka); returns when to
/// renew it: at 80% of its lifetime, as librdkafka does.
fn supply<C: ClientContext>(admin: &AdminClient<C>, config: Option<&str>) -> SystemTime {
    let now = SystemTime::now();
    match super::oauth_token(config) {
        Ok(token) => {
            let expires = UNIX_EPOCH + Duration::from_millis(token.lifetime_ms.max(0) as u64);
            set_token(admin, &token);
            now + expires.duration_since(now).unwrap_or_default() * 4 / 5
        }
        Err(e) => {
            set_failure(admin, &e.to_string());
            now + RETRY
        }
    }
}

fn set_token<C: ClientContext>(admin: &AdminClient<C>, token: &OAuthToken) {
    let (Ok(value), Ok(principal)) = (
        CString::new(token.token.as_str()),
        CString::new(token.principal_name.as_str()),
    ) else {
        set_failure(admin, "the token has a NUL character");
        return;
    };
    let mut errstr = [0 as c_char; 512];
    // SAFETY: the client handle lives as long as `admin`; every pointer passed is valid for
    // the call, and librdkafka copies what it keeps.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token(
            admin.inner().native_ptr(),
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
        tracing::warn!(reason = %reason.to_string_lossy(), "The admin client refused its token.");
    }
}

fn set_failure<C: ClientContext>(admin: &AdminClient<C>, reason: &str) {
    let reason = CString::new(reason.replace('\0', " ")).unwrap_or_default();
    // SAFETY: as in `set_token`.
    unsafe {
        rdkafka::bindings::rd_kafka_oauthbearer_set_token_failure(
            admin.inner().native_ptr(),
            reason.as_ptr(),
        );
    }
}
