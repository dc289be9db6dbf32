//! The client side of SASL/SCRAM (RFC 5802, with SHA-256 per RFC 7677 and SHA-512), without
//! channel binding, as Kafka brokers speak it: the client's first message, its proof in the
//! last, and the server signature it must see back. Pure functions; the password is used and
//! dropped, never kept or quoted.

use base64::Engine;
use sha2::{Digest, Sha256, Sha512};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
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

    fn block_size(self) -> usize {
        match self {
            Hash::Sha256 => 64,
            Hash::Sha512 => 128,
        }
    }

    /// HMAC (RFC 2104) of `data` under `key`.
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut key = if key.len() > self.block_size() {
            self.digest(key)
        } else {
            key.to_vec()
        };
        key.resize(self.block_size(), 0);
        let pad = |byte: u8| key.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
        let inner = self.digest(&[pad(0x36), data.to_vec()].concat());
        self.digest(&[pad(0x5c), inner].concat())
    }

    /// SCRAM's Hi(): PBKDF2 with this HMAC, one block.
    fn salted(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut u = self.hmac(password, &[salt, &1u32.to_be_bytes()].concat());
        let mut out = u.clone();
        for _ in 1..iterations {
            u = self.hmac(password, &u);
            out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
        }
        out
    }
}

/// A fresh client nonce: 24 random printable characters (no `,`).
pub fn nonce() -> String {
    let bytes: Vec<u8> = (0..18).map(|_| fastrand::u8(..)).collect();
    B64.encode(bytes)
}

/// One SCRAM exchange in progress.
pub struct Client {
    hash: Hash,
    first_bare: String,
    nonce: String,
}

impl Client {
    pub fn new(hash: Hash, user: &str, nonce: &str) -> Client {
        let user = user.replace('=', "=3D").replace(',', "=2C");
        Client {
            hash,
            first_bare: format!("n={user},r={nonce}"),
            nonce: nonce.to_string(),
        }
    }

    /// The client's first message.
    pub fn first(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// The client's last message (with its proof) for the server's first message, and the
    /// server signature the broker must answer with.
    pub fn last(&self, server_first: &str, password: &str) -> Result<(String, String), String> {
        let attr = |name: char| {
            server_first
                .split(',')
                .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
        };
        if let Some(error) = attr('e') {
            return Err(format!("the broker refused the SCRAM exchange: {error}"));
        }
        let malformed = || "the broker's SCRAM message is malformed".to_string();
        let nonce = attr('r').ok_or_else(malformed)?;
        if !nonce.starts_with(&self.nonce) {
            return Err("the broker's SCRAM nonce does not extend the client's".into());
        }
        let salt = B64
            .decode(attr('s').ok_or_else(malformed)?)
            .map_err(|_| malformed())?;
        let iterations: u32 = attr('i')
            .and_then(|i| i.parse().ok())
            .filter(|i| *i > 0)
            .ok_or_else(malformed)?;
        let h = self.hash;
        let salted = h.salted(password.as_bytes(), &salt, iterations);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = h.hmac(&salted, b"Server Key");
        let server_signature = h.hmac(&server_key, auth_message.as_bytes());
        Ok((
            format!("{without_proof},p={}", B64.encode(proof)),
            B64.encode(server_signature),
        ))
    }
}

/// Whether the server's last message carries the expected signature.
pub fn verifies(server_last: &str, expected: &str) -> bool {
    server_last
        .split(',')
        .any(|a| a.strip_prefix("v=") == Some(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SCRAM-SHA-256 exchange of RFC 7677, section 3.
    #[test]
    fn scram_sha_256_matches_the_rfc_example() {
        let client = Client::new(Hash::Sha256, "user", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (last, expected) = client.last(server_first, "pencil").unwrap();
        assert_eq!(
            last,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(verifies(
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
            &expected
        ));
        assert!(!verifies("v=AAAA", &expected));
    }

    #[test]
    fn a_refusal_or_a_foreign_nonce_is_an_error() {
        let client = Client::new(Hash::Sha512, "a,b=c", "abc");
        assert_eq!(client.first(), "n,,n=a=2Cb=3Dc,r=abc");
        assert!(client
            .last("e=invalid-proof", "pw")
            .unwrap_err()
            .contains("invalid-proof"));
        assert!(client.last("r=xyz,s=AAAA,i=1", "pw").is_err());
        assert!(client.last("r=abc1,s=AAAA,i=0", "pw").is_err());
    }
}
