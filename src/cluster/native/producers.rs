//! DescribeProducers (Kafka API 61, KIP-664): the producers still active on a partition, with
//! their last write time, asked of the partition's leader. librdkafka has no call for it, so
//! this module speaks the request itself over a connection of its own: PLAINTEXT, or
//! SASL_PLAINTEXT with PLAIN or SCRAM-SHA-256/512 ([`super::sasl`]); a cluster behind TLS (or
//! another mechanism) is "unsupported", and the caller says the producer ids are unknown.
//! Version 0, flexible encoding (compact strings and arrays, tagged fields).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde::Serialize;

const API_KEY: i16 = 61;
const TIMEOUT: Duration = Duration::from_secs(10);

/// A producer the partition's leader still knows as active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveProducer {
    pub producer_id: i64,
    pub producer_epoch: i32,
    /// When it last wrote to the partition, in milliseconds since the Unix epoch (-1: unknown).
    pub last_timestamp_ms: i64,
    /// First offset of its open transaction, if one is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_transaction_from: Option<i64>,
}

/// Why the producers could not be described.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProducersError {
    #[error(
        "DescribeProducers is asked over PLAINTEXT and SASL_PLAINTEXT only; this cluster uses {0}"
    )]
    Unsupported(String),
    #[error("SASL mechanism {0} is not one DescribeProducers logs in with (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")]
    Mechanism(String),
    #[error("DescribeProducers to {broker}: {message}")]
    Request { broker: String, message: String },
}

/// Per partition, the producers active on it, asking each leader (`broker` address → its
/// partitions) once. `props`: the cluster's librdkafka properties (protocol, SASL).
pub fn describe_producers(
    props: &BTreeMap<String, String>,
    leaders: &BTreeMap<String, Vec<(String, i32)>>,
) -> Result<BTreeMap<(String, i32), Vec<ActiveProducer>>, ProducersError> {
    let get = |k: &str| props.get(k).map(String::as_str).unwrap_or_default();
    let protocol = props
        .get("security.protocol")
        .map_or("plaintext".to_string(), |p| p.to_ascii_lowercase());
    let login = match protocol.as_str() {
        "plaintext" => None,
        "sasl_plaintext" => Some(super::sasl::Login::new(
            get("sasl.mechanism"),
            get("sasl.username"),
            get("sasl.password"),
        )?),
        _ => return Err(ProducersError::Unsupported(protocol.to_uppercase())),
    };
    let mut out = BTreeMap::new();
    for (broker, partitions) in leaders {
        let fail = |message: String| ProducersError::Request {
            broker: broker.clone(),
            message,
        };
        let mut stream = connect(broker).map_err(|e| fail(e.to_string()))?;
        if let Some(login) = &login {
            login.authenticate(&mut stream).map_err(fail)?;
        }
        let response =
            exchange(&mut stream, &request(partitions)).map_err(|e| fail(e.to_string()))?;
        for (key, found) in parse(&response).map_err(fail)? {
            out.insert(key, found);
        }
    }
    Ok(out)
}

fn connect(broker: &str) -> std::io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let address = broker
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    Ok(stream)
}

/// Sends one request (without its size) and reads the response (without its size).
pub(super) fn exchange(stream: &mut TcpStream, request: &[u8]) -> std::io::Result<Vec<u8>> {
    stream.write_all(&(request.len() as i32).to_be_bytes())?;
    stream.write_all(request)?;
    let mut size = [0u8; 4];
    stream.read_exact(&mut size)?;
    let mut response = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
    stream.read_exact(&mut response)?;
    Ok(response)
}

/// The start of a request header (v1; v2 adds tagged fields): API key, version, correlation id
/// and client id.
pub(super) fn request_header(api_key: i16, version: i16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(api_key.to_be_bytes());
    out.extend(version.to_be_bytes());
    out.extend(1i32.to_be_bytes());
    let client = b"kafka-migrate";
    out.extend((client.len() as i16).to_be_bytes());
    out.extend(client);
    out
}

/// The request (without its size): header v2, body v0.
fn request(partitions: &[(String, i32)]) -> Vec<u8> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        by_topic.entry(topic).or_default().push(*partition);
    }
    let mut out = request_header(API_KEY, 0);
    out.push(0); // header tagged fields
    uvarint(&mut out, by_topic.len() as u64 + 1);
    for (topic, partitions) in by_topic {
        uvarint(&mut out, topic.len() as u64 + 1);
        out.extend(topic.as_bytes());
        uvarint(&mut out, partitions.len() as u64 + 1);
        for p in partitions {
            out.extend(p.to_be_bytes());
        }
        out.push(0);
    }
    out.push(0);
    out
}

fn uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A reader of a response's bytes.
pub(super) struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err("the response ended early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn int<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().unwrap_or([0; N]))
    }
    pub fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.int()?))
    }
    pub fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.int()?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.int()?))
    }
    fn uvarint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint runs too long".into())
    }
    /// A compact array's length (None for null).
    fn len(&mut self) -> Result<Option<usize>, String> {
        Ok(self.uvarint()?.checked_sub(1).map(|n| n as usize))
    }
    fn string(&mut self) -> Result<Option<String>, String> {
        match self.len()? {
            Some(n) => Ok(Some(String::from_utf8_lossy(self.take(n)?).into_owned())),
            None => Ok(None),
        }
    }
    fn tags(&mut self) -> Result<(), String> {
        for _ in 0..self.uvarint()? {
            self.uvarint()?;
            let size = self.uvarint()? as usize;
            self.take(size)?;
        }
        Ok(())
    }
}

type Found = Vec<((String, i32), Vec<ActiveProducer>)>;

/// The response (without its size): header v1, body v0. A partition's error is an error.
fn parse(response: &[u8]) -> Result<Found, String> {
    let mut r = Bytes(response);
    r.i32()?; // correlation id
    r.tags()?;
    r.i32()?; // throttle time
    let mut out = Vec::new();
    for _ in 0..r.len()?.unwrap_or(0) {
        let topic = r.string()?.unwrap_or_default();
        for _ in 0..r.len()?.unwrap_or(0) {
            let partition = r.i32()?;
            let error = r.i16()?;
            let message = r.string()?;
            let mut producers = Vec::new();
            for _ in 0..r.len()?.unwrap_or(0) {
                let producer_id = r.i64()?;
                let producer_epoch = r.i32()?;
                r.i32()?; // last sequence
                let last_timestamp_ms = r.i64()?;
                r.i32()?; // coordinator epoch
                let txn = r.i64()?;
                r.tags()?;
                producers.push(ActiveProducer {
                    producer_id,
                    producer_epoch,
                    last_timestamp_ms,
                    open_transaction_from: (txn >= 0).then_some(txn),
                });
            }
            r.tags()?;
            if error != 0 {
                return Err(format!(
                    "{topic} partition {partition}: error {error}{}",
                    message.map(|m| format!(" ({m})")).unwrap_or_default()
                ));
            }
            out.push(((topic.clone(), partition), producers));
        }
        r.tags()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_header_v2_and_compact_arrays() {
        let req = request(&[("ab".into(), 0), ("ab".into(), 2)]);
        // api key 61, version 0, correlation id 1, client id, no tags
        assert_eq!(&req[..8], &[0, 61, 0, 0, 0, 0, 0, 1]);
        let body = &req[8 + 2 + 13 + 1..];
        assert_eq!(body, &[2, 3, b'a', b'b', 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0]);
    }

    #[test]
    fn a_response_gives_each_partition_its_producers() {
        let mut r = vec![0, 0, 0, 1, 0, 0, 0, 0, 0]; // correlation, tags, throttle
        r.extend([2, 2, b't']); // one topic "t"
        r.extend([2, 0, 0, 0, 3, 0, 0, 1]); // one partition 3, no error, null message
        r.extend([2]); // one producer
        r.extend(7i64.to_be_bytes());
        r.extend(1i32.to_be_bytes());
        r.extend(4i32.to_be_bytes());
        r.extend(1_700_000_000_000i64.to_be_bytes());
        r.extend(0i32.to_be_bytes());
        r.extend((-1i64).to_be_bytes());
        r.extend([0, 0, 0, 0]); // producer, partition, topic, response tags
        let found = parse(&r).unwrap();
        assert_eq!(found[0].0, ("t".to_string(), 3));
        assert_eq!(
            found[0].1,
            vec![ActiveProducer {
                producer_id: 7,
                producer_epoch: 1,
                last_timestamp_ms: 1_700_000_000_000,
                open_transaction_from: None,
            }]
        );
    }
}
