//! librdkafka's own configuration, for checking the `properties` a migration file passes
//! through: the property names librdkafka 2.12 documents (its CONFIGURATION.md; a test checks
//! them against the linked library) and a value check that asks the library itself. Neither
//! creates a client nor touches the network.

use std::ffi::{CStr, CString};

use rdkafka::bindings::{
    rd_kafka_conf_destroy, rd_kafka_conf_new, rd_kafka_conf_res_t, rd_kafka_conf_set,
};

/// Every property name librdkafka documents (global and topic properties, aliases included),
/// for suggestions; whether a name is known is asked of librdkafka itself ([`check`]).
pub const PROPERTIES: &[&str] = &[
    "acks",
    "allow.auto.create.topics",
    "api.version.fallback.ms",
    "api.version.request",
    "api.version.request.timeout.ms",
    "auto.commit.enable",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "background_event_cb",
    "batch.num.messages",
    "batch.size",
    "bootstrap.servers",
    "broker.address.family",
    "broker.address.ttl",
    "broker.version.fallback",
    "builtin.features",
    "check.crcs",
    "client.dns.lookup",
    "client.id",
    "client.rack",
    "closesocket_cb",
    "compression.codec",
    "compression.level",
    "compression.type",
    "connect_cb",
    "connections.max.idle.ms",
    "consume.callback.max.messages",
    "consume_cb",
    "coordinator.query.interval.ms",
    "debug",
    "default_topic_conf",
    "delivery.report.only.error",
    "delivery.timeout.ms",
    "dr_cb",
    "dr_msg_cb",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.gapless.guarantee",
    "enable.idempotence",
    "enable.metrics.push",
    "enable.partition.eof",
    "enable.random.seed",
    "enable.sasl.oauthbearer.unsecure.jwt",
    "enable.ssl.certificate.verification",
    "enabled_events",
    "error_cb",
    "fetch.error.backoff.ms",
    "fetch.max.bytes",
    "fetch.message.max.bytes",
    "fetch.min.bytes",
    "fetch.queue.backoff.ms",
    "fetch.wait.max.ms",
    "group.id",
    "group.instance.id",
    "group.protocol",
    "group.protocol.type",
    "group.remote.assignor",
    "heartbeat.interval.ms",
    "https.ca.location",
    "https.ca.pem",
    "interceptors",
    "internal.termination.signal",
    "isolation.level",
    "linger.ms",
    "log.connection.close",
    "log.queue",
    "log.thread.name",
    "log_cb",
    "log_level",
    "max.in.flight",
    "max.in.flight.requests.per.connection",
    "max.partition.fetch.bytes",
    "max.poll.interval.ms",
    "message.copy.max.bytes",
    "message.max.bytes",
    "message.send.max.retries",
    "message.timeout.ms",
    "metadata.broker.list",
    "metadata.max.age.ms",
    "metadata.recovery.rebootstrap.trigger.ms",
    "metadata.recovery.strategy",
    "msg_order_cmp",
    "oauthbearer_token_refresh_cb",
    "offset.store.method",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "offset_commit_cb",
    "opaque",
    "open_cb",
    "partition.assignment.strategy",
    "partitioner",
    "partitioner_cb",
    "plugin.library.paths",
    "produce.offset.report",
    "queue.buffering.backpressure.threshold",
    "queue.buffering.max.kbytes",
    "queue.buffering.max.messages",
    "queue.buffering.max.ms",
    "queued.max.messages.kbytes",
    "queued.min.messages",
    "queuing.strategy",
    "rebalance_cb",
    "receive.message.max.bytes",
    "reconnect.backoff.jitter.ms",
    "reconnect.backoff.max.ms",
    "reconnect.backoff.ms",
    "request.required.acks",
    "request.timeout.ms",
    "resolve_cb",
    "retries",
    "retry.backoff.max.ms",
    "retry.backoff.ms",
    "sasl.kerberos.keytab",
    "sasl.kerberos.kinit.cmd",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.kerberos.principal",
    "sasl.kerberos.service.name",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.oauthbearer.assertion.algorithm",
    "sasl.oauthbearer.assertion.claim.aud",
    "sasl.oauthbearer.assertion.claim.exp.seconds",
    "sasl.oauthbearer.assertion.claim.iss",
    "sasl.oauthbearer.assertion.claim.jti.include",
    "sasl.oauthbearer.assertion.claim.nbf.seconds",
    "sasl.oauthbearer.assertion.claim.sub",
    "sasl.oauthbearer.assertion.file",
    "sasl.oauthbearer.assertion.jwt.template.file",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.private.key.pem",
    "sasl.oauthbearer.client.credentials.client.id",
    "sasl.oauthbearer.client.credentials.client.secret",
    "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.extensions",
    "sasl.oauthbearer.grant.type",
    "sasl.oauthbearer.metadata.authentication.type",
    "sasl.oauthbearer.method",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.password",
    "sasl.username",
    "security.protocol",
    "session.timeout.ms",
    "socket.blocking.max.ms",
    "socket.connection.setup.timeout.ms",
    "socket.keepalive.enable",
    "socket.max.fails",
    "socket.nagle.disable",
    "socket.receive.buffer.bytes",
    "socket.send.buffer.bytes",
    "socket.timeout.ms",
    "socket_cb",
    "ssl.ca.certificate.stores",
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.certificate.verify_cb",
    "ssl.cipher.suites",
    "ssl.crl.location",
    "ssl.curves.list",
    "ssl.endpoint.identification.algorithm",
    "ssl.engine.id",
    "ssl.engine.location",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.providers",
    "ssl.sigalgs.list",
    "ssl_ca",
    "ssl_certificate",
    "ssl_engine_callback_data",
    "ssl_key",
    "statistics.interval.ms",
    "stats_cb",
    "sticky.partitioning.linger.ms",
    "throttle_cb",
    "topic.blacklist",
    "topic.metadata.propagation.max.ms",
    "topic.metadata.refresh.fast.cnt",
    "topic.metadata.refresh.fast.interval.ms",
    "topic.metadata.refresh.interval.ms",
    "topic.metadata.refresh.sparse",
    "transaction.timeout.ms",
    "transactional.id",
];

/// Properties whose setting runs code (loads a plugin): never set while validating.
const NOT_TRIED: [&str; 1] = ["plugin.library.paths"];

/// What librdkafka makes of one property.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    UnknownName,
    /// The value is refused; the reason never quotes it.
    InvalidValue(String),
}

/// Asks librdkafka whether it takes `value` for property `name` (a fresh configuration,
/// discarded).
pub fn check(name: &str, value: &str) -> Verdict {
    if NOT_TRIED.contains(&name) {
        return Verdict::Accepted;
    }
    let (Ok(c_name), Ok(c_value)) = (CString::new(name), CString::new(value)) else {
        return Verdict::InvalidValue("it holds a NUL character".into());
    };
    let mut errstr = [0 as std::os::raw::c_char; 512];
    // SAFETY: a configuration made, used and destroyed here; the strings outlive the call and
    // errstr is as long as the size passed.
    let result = unsafe {
        let conf = rd_kafka_conf_new();
        let result = rd_kafka_conf_set(
            conf,
            c_name.as_ptr(),
            c_value.as_ptr(),
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        rd_kafka_conf_destroy(conf);
        result
    };
    match result {
        rd_kafka_conf_res_t::RD_KAFKA_CONF_OK => Verdict::Accepted,
        rd_kafka_conf_res_t::RD_KAFKA_CONF_UNKNOWN => Verdict::UnknownName,
        rd_kafka_conf_res_t::RD_KAFKA_CONF_INVALID => {
            // SAFETY: librdkafka writes a NUL-terminated string into errstr.
            let reason = unsafe { CStr::from_ptr(errstr.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            Verdict::InvalidValue(without_value(&reason, value))
        }
    }
}

/// librdkafka's reason with the value it quotes taken out (it may be a secret).
fn without_value(reason: &str, value: &str) -> String {
    let reason = if value.is_empty() {
        reason.to_string()
    } else {
        reason
            .replace(&format!("\"{value}\""), "given")
            .replace(value, "…")
    };
    reason.trim().trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_names_are_the_linked_librdkafka_s() {
        for name in PROPERTIES {
            assert_ne!(check(name, "\u{1}"), Verdict::UnknownName, "{name}");
        }
        for name in ["ssl.keystore.pasword", "no.such.property"] {
            assert_eq!(check(name, "x"), Verdict::UnknownName, "{name}");
        }
    }

    #[test]
    fn every_documented_property_the_linked_librdkafka_has_a_value_for_is_listed() {
        // Properties librdkafka takes but does not document (internal and test settings):
        // accepted, never suggested.
        const UNDOCUMENTED: [&str; 6] = [
            "client.software.name",
            "metadata.request.timeout.ms",
            "enable.sparse.connections",
            "enable_sasl_queue",
            "test.mock.num.brokers",
            "test.mock.broker.rtt",
        ];
        use rdkafka::bindings::{rd_kafka_conf_dump, rd_kafka_conf_dump_free};
        let mut names = Vec::new();
        // SAFETY: the dump is an array of `count` C strings, key then value, freed here.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut count = 0usize;
            let dump = rd_kafka_conf_dump(conf, &mut count);
            for i in (0..count).step_by(2) {
                names.push(CStr::from_ptr(*dump.add(i)).to_string_lossy().into_owned());
            }
            rd_kafka_conf_dump_free(dump, count);
            rd_kafka_conf_destroy(conf);
        }
        assert!(names.len() > 50, "{names:?}");
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| !PROPERTIES.contains(&n.as_str()) && !UNDOCUMENTED.contains(&n.as_str()))
            .collect();
        assert!(missing.is_empty(), "not listed: {missing:?}");
    }

    #[test]
    fn an_invalid_value_is_refused_without_being_quoted() {
        let Verdict::InvalidValue(reason) =
            check("enable.ssl.certificate.verification", "SECRET-MARKER")
        else {
            panic!("accepted");
        };
        assert!(!reason.contains("SECRET-MARKER"), "{reason}");
        assert!(
            reason.contains("enable.ssl.certificate.verification"),
            "{reason}"
        );
        assert_eq!(check("client.rack", "use1-az1"), Verdict::Accepted);
    }
}
