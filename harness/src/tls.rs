//! Certificates for the `Tls` flavour, made with the machine's `openssl` when a cluster
//! starts: a CA, the brokers' certificate (for 127.0.0.1 and localhost), a client certificate
//! per user, and an unrelated CA with its own client certificate for tests of refused trust.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{io_err, HarnessError, Result};

/// PEM files of one cluster's TLS setup. Keys are unencrypted PKCS#8.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    dir: PathBuf,
}

impl TlsFiles {
    /// Makes every certificate under `dir`, with a client certificate for each of `users`.
    pub fn generate(dir: &Path, users: &[&str]) -> Result<TlsFiles> {
        fs::create_dir_all(dir).map_err(io_err("creating the certificate folder"))?;
        let files = TlsFiles {
            dir: dir.to_path_buf(),
        };
        for ca in ["ca", "other-ca"] {
            files.key(ca)?;
            openssl(
                dir,
                &[
                    "req",
                    "-x509",
                    "-new",
                    "-key",
                    &format!("{ca}.key"),
                    "-days",
                    "30",
                    "-subj",
                    &format!("/CN=kafka-harness {ca}"),
                    "-out",
                    &format!("{ca}.pem"),
                ],
            )?;
        }
        fs::write(
            dir.join("broker.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .map_err(io_err("writing the broker certificate extensions"))?;
        files.signed("broker", "ca", Some("broker.ext"))?;
        // The broker's keystore: its key and certificate chain in one PEM file.
        let keystore = [
            fs::read_to_string(dir.join("broker.key")),
            fs::read_to_string(dir.join("broker.pem")),
            fs::read_to_string(dir.join("ca.pem")),
        ]
        .into_iter()
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io_err("reading the broker certificate"))?
        .concat();
        fs::write(dir.join("broker-keystore.pem"), keystore)
            .map_err(io_err("writing the broker keystore"))?;
        for user in users {
            files.signed(user, "ca", None)?;
        }
        files.signed("stranger", "other-ca", None)?;
        Ok(files)
    }

    fn key(&self, name: &str) -> Result<()> {
        openssl(
            &self.dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{name}.key"),
            ],
        )
    }

    fn signed(&self, name: &str, ca: &str, extensions: Option<&str>) -> Result<()> {
        self.key(name)?;
        openssl(
            &self.dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-subj",
                &format!("/CN={name}"),
                "-out",
                &format!("{name}.csr"),
            ],
        )?;
        let mut args = vec![
            "x509".to_string(),
            "-req".into(),
            "-in".into(),
            format!("{name}.csr"),
            "-CA".into(),
            format!("{ca}.pem"),
            "-CAkey".into(),
            format!("{ca}.key"),
            "-CAcreateserial".into(),
            "-days".into(),
            "30".into(),
            "-out".into(),
            format!("{name}.pem"),
        ];
        if let Some(ext) = extensions {
            args.extend(["-extfile".into(), ext.into()]);
        }
        openssl(
            &self.dir,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    }

    /// The CA that signed the brokers' and users' certificates.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A CA that signed nothing the cluster trusts or presents.
    pub fn other_ca(&self) -> PathBuf {
        self.dir.join("other-ca.pem")
    }

    /// The client certificate of `user` (CN=`user`, signed by [`TlsFiles::ca`]).
    pub fn cert(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.pem"))
    }

    /// The private key of `user`'s client certificate.
    pub fn key_file(&self, user: &str) -> PathBuf {
        self.dir.join(format!("{user}.key"))
    }

    /// A client certificate (CN=stranger) signed by [`TlsFiles::other_ca`]: the brokers
    /// refuse it.
    pub fn stranger_cert(&self) -> (PathBuf, PathBuf) {
        (self.cert("stranger"), self.key_file("stranger"))
    }

    /// The brokers' key and certificate chain.
    pub fn broker_keystore(&self) -> PathBuf {
        self.dir.join("broker-keystore.pem")
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(io_err("running openssl"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(HarnessError::Tool {
        tool: format!("openssl {}", args.first().unwrap_or(&"")),
        status: output.status.to_string(),
        output: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}
