//! DescribeUserScramCredentials: the SCRAM users of a cluster and their mechanisms (names and
//! iteration counts only — brokers never return credentials). The `unsafe` follows the rules
//! of the parent module.

use rdkafka::bindings as rd;
use rdkafka::client::ClientContext;
use serde::{Deserialize, Serialize};

use super::{copy_str, request, AdminExt, AdminExtError};

/// One SCRAM user of a cluster and the mechanisms it has credentials for.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ScramUser {
    pub name: String,
    /// Such as ("SCRAM-SHA-512", 4096): mechanism and iterations.
    pub mechanisms: Vec<ScramMechanism>,
}

/// A SCRAM mechanism a user has a credential for.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct ScramMechanism {
    /// "SCRAM-SHA-256" or "SCRAM-SHA-512".
    pub mechanism: String,
    pub iterations: i32,
}

impl<C: ClientContext + 'static> AdminExt<C> {
    /// Every SCRAM user of the cluster with its mechanisms, sorted by name.
    pub async fn describe_user_scram_credentials(&self) -> Result<Vec<ScramUser>, AdminExtError> {
        const OPERATION: &str = "listing SCRAM users";
        self.blocking(OPERATION, |rk| {
            let event = request(
                rk,
                OPERATION,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEUSERSCRAMCREDENTIALS,
                |_| Ok(()),
                |rk, opts, queue| {
                    // SAFETY: all handles are live; no user names asks for every user.
                    unsafe {
                        rd::rd_kafka_DescribeUserScramCredentials(
                            rk,
                            std::ptr::null_mut(),
                            0,
                            opts,
                            queue,
                        )
                    }
                },
            )?;
            // SAFETY: the event is a DescribeUserScramCredentials result; the descriptions and
            // their strings live as long as it, and are copied out before it is destroyed.
            let mut users = unsafe {
                let result = rd::rd_kafka_event_DescribeUserScramCredentials_result(event.0);
                let mut count = 0;
                let descriptions = rd::rd_kafka_DescribeUserScramCredentials_result_descriptions(
                    result, &mut count,
                );
                let mut users = Vec::with_capacity(count);
                for i in 0..count {
                    let d = *descriptions.add(i);
                    // A user with an error (such as one named but unknown) has no credentials.
                    if !rd::rd_kafka_UserScramCredentialsDescription_error(d).is_null()
                        && rd::rd_kafka_error_code(
                            rd::rd_kafka_UserScramCredentialsDescription_error(d),
                        ) != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                    {
                        continue;
                    }
                    let mut mechanisms = Vec::new();
                    let n =
                        rd::rd_kafka_UserScramCredentialsDescription_scramcredentialinfo_count(d);
                    for j in 0..n {
                        let info =
                            rd::rd_kafka_UserScramCredentialsDescription_scramcredentialinfo(d, j);
                        let mechanism = match rd::rd_kafka_ScramCredentialInfo_mechanism(info) {
                            rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_256 => {
                                "SCRAM-SHA-256"
                            }
                            rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_512 => {
                                "SCRAM-SHA-512"
                            }
                            _ => continue,
                        };
                        mechanisms.push(ScramMechanism {
                            mechanism: mechanism.to_string(),
                            iterations: rd::rd_kafka_ScramCredentialInfo_iterations(info),
                        });
                    }
                    mechanisms.sort();
                    users.push(ScramUser {
                        name: copy_str(rd::rd_kafka_UserScramCredentialsDescription_user(d)),
                        mechanisms,
                    });
                }
                users
            };
            users.sort();
            Ok(users)
        })
        .await
    }
}
