//! SASL login on a connection of its own (for [`super::producers`]): SaslHandshake v1, then
//! SaslAuthenticate v1 with PLAIN or SCRAM-SHA-256/512 (RFC 5802; HMAC and PBKDF2 over
//! `sha2`). The password never leaves this module except inside the SCRAM proof or the PLAIN
//! message to the broker.

use std::net::TcpStream;

use base64::Engine as _;
use sha2::{Digest, Sha256, Sha512};

use super::producers::{exchange, request_header, Bytes, ProducersError};

const HANDSHAKE: i16 = 17;
const AUTHENTICATE: i16 = 36;

/// The hash a SCRAM mechanism uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn block(self) -> usize {
        match self {
            Hash::Sha256 => 64,
            Hash::Sha512 => 128,
        }
    }

    /// HMAC (RFC 2104).
    fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut k = if key.len() > self.block() {
            self.digest(key)
        } else {
            key.to_vec()
        };
        k.resize(self.block(), 0);
        let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
        let inner = self.digest(&[pad(0x36), message.to_vec()].concat());
        self.digest(&[pad(0x5c), inner].concat())
    }

    /// PBKDF2 with this HMAC, one block (the hash's length).
    fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut u = self.hmac(password, &[salt, &1u32.to_be_bytes()].concat());
        let mut out = u.clone();
        for _ in 1..iterations {
            u = self.hmac(password, &u);
            out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
        }
        out
    }
}

/// How to log in.
pub struct Login {
    mechanism: String,
    scram: Option<Hash>,
    username: String,
    password: String,
}

impl Login {
    pub fn new(mechanism: &str, username: &str, password: &str) -> Result<Login, ProducersError> {
        let mechanism = mechanism.to_ascii_uppercase();
        let scram = match mechanism.as_str() {
            "PLAIN" => None,
            "SCRAM-SHA-256" => Some(Hash::Sha256),
            "SCRAM-SHA-512" => Some(Hash::Sha512),
            _ => return Err(ProducersError::Mechanism(mechanism)),
        };
        Ok(Login {
            mechanism,
            scram,
            username: username.to_string(),
            password: password.to_string(),
        })
    }

    /// Logs in on `stream`; an error says why (never the password).
    pub fn authenticate(&self, stream: &mut TcpStream) -> Result<(), String> {
        let response = exchange(stream, &header(HANDSHAKE, self.mechanism.as_bytes(), false))
            .map_err(|e| e.to_string())?;
        let mut r = Bytes(&response);
        r.i32()?;
        if r.i16()? != 0 {
            return Err(format!("the broker does not take SASL {}", self.mechanism));
        }
        match self.scram {
            None => {
                let message = format!("\0{}\0{}", self.username, self.password);
                self.step(stream, message.as_bytes())?;
                Ok(())
            }
            Some(hash) => self.scram(stream, hash),
        }
    }

    fn scram(&self, stream: &mut TcpStream, hash: Hash) -> Result<(), String> {
        let nonce: String = (0..24).map(|_| fastrand::alphanumeric()).collect();
        let name = self.username.replace('=', "=3D").replace(',', "=2C");
        let first_bare = format!("n={name},r={nonce}");
        let server_first = self.step(stream, format!("n,,{first_bare}").as_bytes())?;
        let server_first = String::from_utf8_lossy(&server_first).into_owned();
        let field = |k: &str| {
            server_first
                .split(',')
                .find_map(|f| f.strip_prefix(k))
                .map(str::to_string)
                .ok_or_else(|| format!("the broker's SCRAM message lacks {k}"))
        };
        let (combined, salt, iterations) = (field("r=")?, field("s=")?, field("i=")?);
        if !combined.starts_with(&nonce) {
            return Err("the broker's SCRAM nonce does not extend ours".into());
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let salt = b64.decode(salt).map_err(|e| e.to_string())?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| "bad SCRAM iteration count")?;
        let salted = hash.pbkdf2(self.password.as_bytes(), &salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        let stored_key = hash.digest(&client_key);
        let without_proof = format!("c=biws,r={combined}");
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let signature = hash.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let last = format!("{without_proof},p={}", b64.encode(proof));
        let server_final = self.step(stream, last.as_bytes())?;
        let server_key = hash.hmac(&salted, b"Server Key");
        let expected = b64.encode(hash.hmac(&server_key, auth_message.as_bytes()));
        if String::from_utf8_lossy(&server_final) != format!("v={expected}") {
            return Err("the broker's SCRAM signature does not match".into());
        }
        Ok(())
    }

    /// One SaslAuthenticate round: the broker's answer.
    fn step(&self, stream: &mut TcpStream, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let response =
            exchange(stream, &header(AUTHENTICATE, bytes, true)).map_err(|e| e.to_string())?;
        let mut r = Bytes(&response);
        r.i32()?;
        let error = r.i16()?;
        let message_len = r.i16()?;
        let message = if message_len >= 0 {
            String::from_utf8_lossy(r.take(message_len as usize)?).into_owned()
        } else {
            String::new()
        };
        if error != 0 {
            return Err(format!("SASL {} refused: {message}", self.mechanism));
        }
        let len = r.i32()?.max(0) as usize;
        Ok(r.take(len)?.to_vec())
    }
}

/// A request (header v1, version 1) whose body is `payload`: a string (handshake) or bytes
/// (authenticate).
fn header(api_key: i16, payload: &[u8], as_bytes: bool) -> Vec<u8> {
    let mut out = request_header(api_key, 1);
    if as_bytes {
        out.extend((payload.len() as i32).to_be_bytes());
    } else {
        out.extend((payload.len() as i16).to_be_bytes());
    }
    out.extend(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_and_pbkdf2_match_the_published_vectors() {
        // RFC 4231 test case 2.
        let mac = Hash::Sha256.hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1), first 32 bytes.
        let key = Hash::Sha256.pbkdf2(b"passwd", b"salt", 1);
        assert_eq!(
            key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }
}
