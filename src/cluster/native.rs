//! The librdkafka admin calls rust-rdkafka does not wrap: ACLs, consumer group offsets,
//! offset listing with an isolation level, incremental config changes, and topic creation that
//! keeps the broker's error message. One small module
//! of `unsafe`: every C object has an owner that destroys it once, every string is copied out
//! before its event is destroyed, and every call waits on its own result queue.
//!
//! The calls block inside librdkafka, so each runs on a blocking thread.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::bindings as rd;
use rdkafka::client::ClientContext;
use rdkafka::types::RDKafkaErrorCode;
use serde::{Deserialize, Serialize};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Metadata records one CreateTopics or IncrementalAlterConfigs request makes the controller
/// write at most. A KRaft controller refuses a single operation of more than 10,000 records
/// (a topic is one, each of its partitions and configs another; each config change one),
/// answering PolicyViolation for everything in the request; half that leaves room.
pub const MAX_RECORDS_PER_REQUEST: usize = 5_000;

/// Partitions one OffsetCommit (AlterConsumerGroupOffsets) request carries at most: the group
/// coordinator appends a whole commit as one record batch to `__consumer_offsets`, which must
/// fit its `max.message.bytes` (1 MiB by default; an offset record takes 100 to 400 bytes).
pub const MAX_OFFSETS_PER_COMMIT: usize = 1_000;

/// Partitions one ListOffsets call asks for at most (librdkafka sends one request per leader).
/// librdkafka matches each partition of an answer against the whole call, and each partition
/// of the call against its leader's list, so a call's CPU cost grows with the square of its
/// size: 5,000 partitions in one call cost a tenth of a second of CPU, ten calls of 500 a
/// hundredth. The calls run [`CONCURRENT_LISTINGS`] at a time.
pub const MAX_PARTITIONS_PER_LISTING: usize = 500;

/// ListOffsets calls in flight at once.
pub const CONCURRENT_LISTINGS: usize = 8;

/// Splits `items` into consecutive batches whose `weight` adds up to at most `max` (an item
/// heavier than `max` alone is a batch of its own).
pub fn batches<T>(items: Vec<T>, weight: impl Fn(&T) -> usize, max: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut load = 0;
    for item in items {
        let w = weight(&item);
        match out.last_mut() {
            Some(batch) if load + w <= max => {
                batch.push(item);
                load += w;
            }
            _ => {
                out.push(vec![item]);
                load = w;
            }
        }
    }
    out
}

/// A failed admin call, naming the operation and, where there is one, the resource.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}{}: {message}", subject.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
pub struct AdminExtError {
    pub operation: &'static str,
    pub subject: Option<String>,
    pub code: RDKafkaErrorCode,
    pub message: String,
}

impl AdminExtError {
    /// The broker refused for lack of permission.
    pub fn is_authorization(&self) -> bool {
        matches!(
            self.code,
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::TransactionalIdAuthorizationFailed
                | RDKafkaErrorCode::SecurityDisabled
        )
    }

    /// A later attempt may succeed (leadership moving, a coordinator loading, a timeout).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self.code,
            RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::CoordinatorLoadInProgress
                | RDKafkaErrorCode::CoordinatorNotAvailable
                | RDKafkaErrorCode::NotCoordinator
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::OperationTimedOut
        )
    }

    /// The group has active members, so its offsets cannot be changed.
    pub fn is_group_active(&self) -> bool {
        matches!(
            self.code,
            RDKafkaErrorCode::UnknownMemberId | RDKafkaErrorCode::RebalanceInProgress
        ) || self.message.contains("active members")
    }
}

macro_rules! c_enum {
    ($(#[$m:meta])* $name:ident : $c:ty { $($variant:ident = $cv:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),* }
        impl $name {
            fn to_c(self) -> $c { match self { $($name::$variant => <$c>::$cv),* } }
            fn from_c(c: $c) -> Option<$name> { match c { $(<$c>::$cv => Some($name::$variant),)* _ => None } }
        }
    };
}

c_enum!(
    /// The kind of resource an ACL protects.
    ResourceType: rd::rd_kafka_ResourceType_t {
        Topic = RD_KAFKA_RESOURCE_TOPIC,
        Group = RD_KAFKA_RESOURCE_GROUP,
        Cluster = RD_KAFKA_RESOURCE_BROKER,
        TransactionalId = RD_KAFKA_RESOURCE_TRANSACTIONAL_ID,
    }
);
c_enum!(
    /// How an ACL's resource name matches.
    PatternType: rd::rd_kafka_ResourcePatternType_t {
        Literal = RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        Prefixed = RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
    }
);
c_enum!(
    AclOperation: rd::rd_kafka_AclOperation_t {
        All = RD_KAFKA_ACL_OPERATION_ALL,
        Read = RD_KAFKA_ACL_OPERATION_READ,
        Write = RD_KAFKA_ACL_OPERATION_WRITE,
        Create = RD_KAFKA_ACL_OPERATION_CREATE,
        Delete = RD_KAFKA_ACL_OPERATION_DELETE,
        Alter = RD_KAFKA_ACL_OPERATION_ALTER,
        Describe = RD_KAFKA_ACL_OPERATION_DESCRIBE,
        ClusterAction = RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION,
        DescribeConfigs = RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS,
        AlterConfigs = RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS,
        IdempotentWrite = RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE,
    }
);
c_enum!(
    AclPermission: rd::rd_kafka_AclPermissionType_t {
        Allow = RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
        Deny = RD_KAFKA_ACL_PERMISSION_TYPE_DENY,
    }
);

/// One ACL: `permission` `principal` to `operation` on a resource, from `host`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub name: String,
    pub pattern_type: PatternType,
    pub principal: String,
    pub host: String,
    pub operation: AclOperation,
    pub permission: AclPermission,
}

impl fmt::Display for AclBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} {:?} on {:?} \"{}\" ({:?}) from {}",
            self.permission,
            crate::quote::terminal(&self.principal),
            self.operation,
            self.resource_type,
            crate::quote::terminal(&self.name),
            self.pattern_type,
            crate::quote::terminal(&self.host)
        )
    }
}

/// Which offset `list_offsets` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    ReadUncommitted,
    ReadCommitted,
}

/// An offset `list_offsets` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedOffset {
    pub offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigResourceKind {
    Topic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlterOp {
    Set,
    Delete,
}

/// One change of an incremental config update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigOp {
    pub name: String,
    pub op: AlterOp,
    pub value: Option<String>,
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub configs: BTreeMap<String, String>,
}

/// Admin calls on a client that rust-rdkafka's `AdminClient` does not offer.
pub struct AdminExt<C: ClientContext + 'static> {
    admin: Arc<AdminClient<C>>,
}

/// Owners of librdkafka objects.
struct Owned<T>(*mut T, unsafe extern "C" fn(*mut T));
impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from the matching librdkafka constructor and is
            // destroyed here only.
            unsafe { (self.1)(self.0) }
        }
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Copies a C string out (empty for null).
///
/// # Safety
/// `p` must be null or a NUL-terminated string valid for the duration of the call.
unsafe fn copy_str(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

impl<C: ClientContext + 'static> AdminExt<C> {
    pub fn new(admin: Arc<AdminClient<C>>) -> Self {
        AdminExt { admin }
    }

    /// Runs `f` with the native handle on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        operation: &'static str,
        f: impl FnOnce(*mut rd::rd_kafka_t) -> Result<T, AdminExtError> + Send + 'static,
    ) -> Result<T, AdminExtError> {
        let admin = self.admin.clone();
        tokio::task::spawn_blocking(move || f(admin.inner().native_ptr()))
            .await
            .map_err(|e| AdminExtError {
                operation,
                subject: None,
                code: RDKafkaErrorCode::Fail,
                message: e.to_string(),
            })?
    }

    /// Every ACL binding of the cluster.
    pub async fn describe_acls(&self) -> Result<Vec<AclBinding>, AdminExtError> {
        self.blocking("listing ACLs", |rk| {
            let mut errstr = [0 as c_char; 512];
            // SAFETY: a filter matching everything; null strings mean "any".
            let filter = unsafe {
                rd::rd_kafka_AclBindingFilter_new(
                    rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_ANY,
                    std::ptr::null(),
                    rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_ANY,
                    std::ptr::null(),
                    std::ptr::null(),
                    rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ANY,
                    rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
                    errstr.as_mut_ptr(),
                    errstr.len(),
                )
            };
            let filter = Owned(filter, rd::rd_kafka_AclBinding_destroy);
            let event = request(
                rk,
                "listing ACLs",
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEACLS,
                |_| Ok(()),
                |rk, opts, queue| {
                    // SAFETY: all handles are live; librdkafka copies the filter.
                    unsafe { rd::rd_kafka_DescribeAcls(rk, filter.0, opts, queue) }
                },
            )?;
            // SAFETY: the event is a DescribeAcls result; the bindings live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_DescribeAcls_result(event.0);
                let mut count = 0;
                let acls = rd::rd_kafka_DescribeAcls_result_acls(result, &mut count);
                let mut out = Vec::new();
                for i in 0..count {
                    let acl = *acls.add(i);
                    let binding = (|| {
                        Some(AclBinding {
                            resource_type: ResourceType::from_c(rd::rd_kafka_AclBinding_restype(
                                acl,
                            ))?,
                            name: copy_str(rd::rd_kafka_AclBinding_name(acl)),
                            pattern_type: PatternType::from_c(
                                rd::rd_kafka_AclBinding_resource_pattern_type(acl),
                            )?,
                            principal: copy_str(rd::rd_kafka_AclBinding_principal(acl)),
                            host: copy_str(rd::rd_kafka_AclBinding_host(acl)),
                            operation: AclOperation::from_c(rd::rd_kafka_AclBinding_operation(
                                acl,
                            ))?,
                            permission: AclPermission::from_c(
                                rd::rd_kafka_AclBinding_permission_type(acl),
                            )?,
                        })
                    })();
                    out.extend(binding);
                }
                Ok(out)
            }
        })
        .await
    }

    /// Creates ACL bindings; an existing identical binding is not an error. Many bindings go
    /// in several requests of a size controllers take (one record each, see
    /// [`MAX_RECORDS_PER_REQUEST`]).
    pub async fn create_acls(&self, bindings: Vec<AclBinding>) -> Result<(), AdminExtError> {
        for batch in batches(bindings, |_| 1, MAX_RECORDS_PER_REQUEST) {
            self.create_acls_once(batch).await?;
        }
        Ok(())
    }

    async fn create_acls_once(&self, bindings: Vec<AclBinding>) -> Result<(), AdminExtError> {
        self.blocking("creating ACLs", move |rk| {
            let mut owned = Vec::new();
            for b in &bindings {
                let (name, principal, host) =
                    (cstring(&b.name), cstring(&b.principal), cstring(&b.host));
                let mut errstr = [0 as c_char; 512];
                // SAFETY: the strings outlive the call; librdkafka copies them.
                let ptr = unsafe {
                    rd::rd_kafka_AclBinding_new(
                        b.resource_type.to_c(),
                        name.as_ptr(),
                        b.pattern_type.to_c(),
                        principal.as_ptr(),
                        host.as_ptr(),
                        b.operation.to_c(),
                        b.permission.to_c(),
                        errstr.as_mut_ptr(),
                        errstr.len(),
                    )
                };
                if ptr.is_null() {
                    return Err(AdminExtError {
                        operation: "creating ACLs",
                        subject: Some(b.to_string()),
                        code: RDKafkaErrorCode::InvalidArgument,
                        // SAFETY: librdkafka wrote a NUL-terminated message.
                        message: unsafe { copy_str(errstr.as_ptr()) },
                    });
                }
                owned.push(Owned(ptr, rd::rd_kafka_AclBinding_destroy));
            }
            let mut ptrs: Vec<*mut rd::rd_kafka_AclBinding_t> = owned.iter().map(|o| o.0).collect();
            let event = request(
                rk,
                "creating ACLs",
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS,
                |_| Ok(()),
                |rk, opts, queue| {
                    // SAFETY: the bindings stay owned until after the call; librdkafka copies them.
                    unsafe {
                        rd::rd_kafka_CreateAcls(rk, ptrs.as_mut_ptr(), ptrs.len(), opts, queue)
                    }
                },
            )?;
            // SAFETY: a CreateAcls result event; results live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_CreateAcls_result(event.0);
                let mut count = 0;
                let results = rd::rd_kafka_CreateAcls_result_acls(result, &mut count);
                for i in 0..count {
                    let error = rd::rd_kafka_acl_result_error(*results.add(i));
                    if !error.is_null()
                        && rd::rd_kafka_error_code(error)
                            != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                    {
                        return Err(AdminExtError {
                            operation: "creating ACLs",
                            subject: bindings.get(i).map(ToString::to_string),
                            code: rd::rd_kafka_error_code(error).into(),
                            message: copy_str(rd::rd_kafka_error_string(error)),
                        });
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// Committed offsets of `group`, by topic and partition.
    pub async fn list_consumer_group_offsets(
        &self,
        group: String,
    ) -> Result<BTreeMap<(String, i32), i64>, AdminExtError> {
        let operation = "reading group offsets";
        self.blocking(operation, move |rk| {
            let group_c = cstring(&group);
            // SAFETY: a request for all partitions (null list); librdkafka copies the id.
            let req = Owned(
                unsafe {
                    rd::rd_kafka_ListConsumerGroupOffsets_new(group_c.as_ptr(), std::ptr::null())
                },
                rd::rd_kafka_ListConsumerGroupOffsets_destroy,
            );
            let mut reqs = [req.0];
            let event = request(
                rk,
                operation,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
                |_| Ok(()),
                |rk, opts, queue| {
                    // SAFETY: the request array outlives the call.
                    unsafe {
                        rd::rd_kafka_ListConsumerGroupOffsets(rk, reqs.as_mut_ptr(), 1, opts, queue)
                    }
                },
            )?;
            // SAFETY: a ListConsumerGroupOffsets result event; groups live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event.0);
                let mut count = 0;
                let groups =
                    rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut count);
                let mut out = BTreeMap::new();
                for i in 0..count {
                    let g = *groups.add(i);
                    group_error(operation, &group, g)?;
                    partitions(
                        rd::rd_kafka_group_result_partitions(g),
                        |topic, partition, offset, err| {
                            if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                                && offset >= 0
                            {
                                out.insert((topic, partition), offset);
                            }
                        },
                    );
                }
                Ok(out)
            }
        })
        .await
    }

    /// Commits `offsets` for `group` (refused by the broker while the group has members), in
    /// requests of at most [`MAX_OFFSETS_PER_COMMIT`] partitions.
    pub async fn alter_consumer_group_offsets(
        &self,
        group: String,
        offsets: Vec<(String, i32, i64)>,
    ) -> Result<(), AdminExtError> {
        for batch in batches(offsets, |_| 1, MAX_OFFSETS_PER_COMMIT) {
            self.alter_consumer_group_offsets_once(group.clone(), batch)
                .await?;
        }
        Ok(())
    }

    async fn alter_consumer_group_offsets_once(
        &self,
        group: String,
        offsets: Vec<(String, i32, i64)>,
    ) -> Result<(), AdminExtError> {
        let operation = "committing group offsets";
        self.blocking(operation, move |rk| {
            let tpl = topic_partition_list(offsets.iter().map(|(t, p, o)| (t.as_str(), *p, *o)));
            let group_c = cstring(&group);
            // SAFETY: librdkafka copies the id and the list.
            let req = Owned(
                unsafe { rd::rd_kafka_AlterConsumerGroupOffsets_new(group_c.as_ptr(), tpl.0) },
                rd::rd_kafka_AlterConsumerGroupOffsets_destroy,
            );
            let mut reqs = [req.0];
            let event = request(
                rk,
                operation,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS,
                |_| Ok(()),
                |rk, opts, queue| {
                    // SAFETY: the request array outlives the call.
                    unsafe {
                        rd::rd_kafka_AlterConsumerGroupOffsets(
                            rk,
                            reqs.as_mut_ptr(),
                            1,
                            opts,
                            queue,
                        )
                    }
                },
            )?;
            // SAFETY: an AlterConsumerGroupOffsets result event; groups live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_AlterConsumerGroupOffsets_result(event.0);
                let mut count = 0;
                let groups =
                    rd::rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &mut count);
                for i in 0..count {
                    let g = *groups.add(i);
                    group_error(operation, &group, g)?;
                    let mut failed = None;
                    partitions(
                        rd::rd_kafka_group_result_partitions(g),
                        |topic, partition, _, err| {
                            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                                && failed.is_none()
                            {
                                failed = Some((topic, partition, err));
                            }
                        },
                    );
                    if let Some((topic, partition, err)) = failed {
                        let code: RDKafkaErrorCode = err.into();
                        return Err(AdminExtError {
                            operation,
                            subject: Some(format!(
                                "group \"{group}\", {topic} partition {partition}"
                            )),
                            code,
                            message: code.to_string(),
                        });
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// The earliest or latest offset of each partition; with `ReadCommitted`, latest is the
    /// last stable offset. Asked [`MAX_PARTITIONS_PER_LISTING`] partitions at a time.
    pub async fn list_offsets(
        &self,
        request_list: Vec<(String, i32, OffsetSpec)>,
        isolation: IsolationLevel,
    ) -> Result<BTreeMap<(String, i32), ListedOffset>, AdminExtError> {
        use futures_util::{StreamExt, TryStreamExt};
        let calls = batches(request_list, |_| 1, MAX_PARTITIONS_PER_LISTING)
            .into_iter()
            .map(|batch| self.list_offsets_once(batch, isolation));
        let answers: Vec<_> = futures_util::stream::iter(calls)
            .buffered(CONCURRENT_LISTINGS)
            .try_collect()
            .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    async fn list_offsets_once(
        &self,
        request_list: Vec<(String, i32, OffsetSpec)>,
        isolation: IsolationLevel,
    ) -> Result<BTreeMap<(String, i32), ListedOffset>, AdminExtError> {
        let operation = "listing offsets";
        self.blocking(operation, move |rk| {
            let tpl = topic_partition_list(request_list.iter().map(|(t, p, spec)| {
                let offset = match spec {
                    OffsetSpec::Earliest => -2,
                    OffsetSpec::Latest => -1,
                };
                (t.as_str(), *p, offset)
            }));
            let level = match isolation {
                IsolationLevel::ReadCommitted => {
                    rd::rd_kafka_IsolationLevel_t::RD_KAFKA_ISOLATION_LEVEL_READ_COMMITTED
                }
                IsolationLevel::ReadUncommitted => {
                    rd::rd_kafka_IsolationLevel_t::RD_KAFKA_ISOLATION_LEVEL_READ_UNCOMMITTED
                }
            };
            let event = request(
                rk,
                operation,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTOFFSETS,
                // SAFETY: options are live; the returned error (if any) is destroyed.
                |opts| unsafe {
                    take_error(
                        operation,
                        rd::rd_kafka_AdminOptions_set_isolation_level(opts, level),
                    )
                },
                // SAFETY: the list outlives the call; librdkafka copies it.
                |rk, opts, queue| unsafe { rd::rd_kafka_ListOffsets(rk, tpl.0, opts, queue) },
            )?;
            // SAFETY: a ListOffsets result event; infos live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_ListOffsets_result(event.0);
                let mut count = 0;
                let infos = rd::rd_kafka_ListOffsets_result_infos(result, &mut count);
                let mut out = BTreeMap::new();
                for i in 0..count {
                    let tp = rd::rd_kafka_ListOffsetsResultInfo_topic_partition(*infos.add(i));
                    if tp.is_null() {
                        continue;
                    }
                    let tp = &*tp;
                    let topic = copy_str(tp.topic);
                    if tp.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        let code: RDKafkaErrorCode = tp.err.into();
                        return Err(AdminExtError {
                            operation,
                            subject: Some(format!("{topic} partition {}", tp.partition)),
                            code,
                            message: code.to_string(),
                        });
                    }
                    out.insert((topic, tp.partition), ListedOffset { offset: tp.offset });
                }
                Ok(out)
            }
        })
        .await
    }

    /// Creates topics (with `validate_only`, asks the broker whether it would and creates
    /// nothing); per topic, the broker's answer with its error message, which rust-rdkafka's
    /// `create_topics` drops. Many topics go in several requests of a size controllers take
    /// (see [`MAX_RECORDS_PER_REQUEST`]).
    pub async fn create_topics(
        &self,
        topics: Vec<NewTopicSpec>,
        validate_only: bool,
        timeout: Duration,
    ) -> Result<Vec<(String, Result<(), AdminExtError>)>, AdminExtError> {
        let mut out = Vec::with_capacity(topics.len());
        let requests = batches(
            topics,
            |t| 1 + t.partitions.max(1) as usize + t.configs.len(),
            MAX_RECORDS_PER_REQUEST,
        );
        for batch in requests {
            out.extend(
                self.create_topics_once(batch, validate_only, timeout)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn create_topics_once(
        &self,
        topics: Vec<NewTopicSpec>,
        validate_only: bool,
        timeout: Duration,
    ) -> Result<Vec<(String, Result<(), AdminExtError>)>, AdminExtError> {
        let operation = "creating topics";
        self.blocking(operation, move |rk| {
            let mut owned = Vec::new();
            for t in &topics {
                let name = cstring(&t.name);
                let mut errstr = [0 as c_char; 512];
                // SAFETY: librdkafka copies the name; errstr is writable.
                let ptr = unsafe {
                    rd::rd_kafka_NewTopic_new(
                        name.as_ptr(),
                        t.partitions,
                        t.replication_factor,
                        errstr.as_mut_ptr(),
                        errstr.len(),
                    )
                };
                if ptr.is_null() {
                    return Err(AdminExtError {
                        operation,
                        subject: Some(format!("topic \"{}\"", t.name)),
                        code: RDKafkaErrorCode::InvalidArgument,
                        // SAFETY: librdkafka wrote a NUL-terminated message.
                        message: unsafe { copy_str(errstr.as_ptr()) },
                    });
                }
                let new = Owned(ptr, rd::rd_kafka_NewTopic_destroy);
                for (k, v) in &t.configs {
                    let (key, value) = (cstring(k), cstring(v));
                    // SAFETY: the topic is live; librdkafka copies both strings.
                    let err = unsafe {
                        rd::rd_kafka_NewTopic_set_config(new.0, key.as_ptr(), value.as_ptr())
                    };
                    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        return Err(AdminExtError {
                            operation,
                            subject: Some(format!("topic \"{}\", config {k}", t.name)),
                            code: err.into(),
                            message: RDKafkaErrorCode::from(err).to_string(),
                        });
                    }
                }
                owned.push(new);
            }
            let mut ptrs: Vec<*mut rd::rd_kafka_NewTopic_t> = owned.iter().map(|o| o.0).collect();
            let event = request(
                rk,
                operation,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATETOPICS,
                |opts| {
                    let mut errstr = [0 as c_char; 256];
                    // SAFETY: options are live; errstr is writable.
                    let err = unsafe {
                        rd::rd_kafka_AdminOptions_set_operation_timeout(
                            opts,
                            timeout.as_millis() as i32,
                            errstr.as_mut_ptr(),
                            errstr.len(),
                        )
                    };
                    check(operation, err, &errstr)?;
                    // SAFETY: as above.
                    let err = unsafe {
                        rd::rd_kafka_AdminOptions_set_validate_only(
                            opts,
                            validate_only.into(),
                            errstr.as_mut_ptr(),
                            errstr.len(),
                        )
                    };
                    check(operation, err, &errstr)
                },
                // SAFETY: the topics stay owned until after the call; librdkafka copies them.
                |rk, opts, queue| unsafe {
                    rd::rd_kafka_CreateTopics(rk, ptrs.as_mut_ptr(), ptrs.len(), opts, queue)
                },
            )?;
            // SAFETY: a CreateTopics result event; its topic results live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_CreateTopics_result(event.0);
                let mut count = 0;
                let results = rd::rd_kafka_CreateTopics_result_topics(result, &mut count);
                let mut out = Vec::new();
                for i in 0..count {
                    let r = *results.add(i);
                    let name = copy_str(rd::rd_kafka_topic_result_name(r));
                    let err = rd::rd_kafka_topic_result_error(r);
                    let answer = if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        Ok(())
                    } else {
                        let code: RDKafkaErrorCode = err.into();
                        let message = copy_str(rd::rd_kafka_topic_result_error_string(r));
                        Err(AdminExtError {
                            operation,
                            subject: Some(format!("topic \"{name}\"")),
                            code,
                            message: if message.is_empty() {
                                code.to_string()
                            } else {
                                message
                            },
                        })
                    };
                    out.push((name, answer));
                }
                Ok(out)
            }
        })
        .await
    }

    /// Sets or deletes individual configs (others untouched); `validate_only` asks the broker
    /// whether it would accept them and changes nothing. Many changes go in several requests
    /// of a size controllers take (see [`MAX_RECORDS_PER_REQUEST`]).
    pub async fn incremental_alter_configs(
        &self,
        changes: Vec<(ConfigResourceKind, String, Vec<AlterConfigOp>)>,
        validate_only: bool,
    ) -> Result<(), AdminExtError> {
        let requests = batches(
            changes,
            |(_, _, ops)| ops.len().max(1),
            MAX_RECORDS_PER_REQUEST,
        );
        for batch in requests {
            self.incremental_alter_configs_once(batch, validate_only)
                .await?;
        }
        Ok(())
    }

    async fn incremental_alter_configs_once(
        &self,
        changes: Vec<(ConfigResourceKind, String, Vec<AlterConfigOp>)>,
        validate_only: bool,
    ) -> Result<(), AdminExtError> {
        let operation = "changing configs";
        self.blocking(operation, move |rk| {
            let mut resources = Vec::new();
            for (kind, name, ops) in &changes {
                let restype = match kind {
                    ConfigResourceKind::Topic => {
                        rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC
                    }
                };
                let name_c = cstring(name);
                // SAFETY: librdkafka copies the name.
                let res = Owned(
                    unsafe { rd::rd_kafka_ConfigResource_new(restype, name_c.as_ptr()) },
                    rd::rd_kafka_ConfigResource_destroy,
                );
                for op in ops {
                    let key = cstring(&op.name);
                    let value = op.value.as_deref().map(cstring);
                    let op_type = match op.op {
                        AlterOp::Set => {
                            rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET
                        }
                        AlterOp::Delete => {
                            rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE
                        }
                    };
                    // SAFETY: strings outlive the call and are copied.
                    unsafe {
                        take_error(
                            operation,
                            rd::rd_kafka_ConfigResource_add_incremental_config(
                                res.0,
                                key.as_ptr(),
                                op_type,
                                value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
                            ),
                        )?;
                    }
                }
                resources.push(res);
            }
            let mut ptrs: Vec<*mut rd::rd_kafka_ConfigResource_t> =
                resources.iter().map(|r| r.0).collect();
            let event = request(
                rk,
                operation,
                rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS,
                |opts| {
                    if !validate_only {
                        return Ok(());
                    }
                    let mut errstr = [0 as c_char; 256];
                    // SAFETY: options are live; errstr is writable.
                    let err = unsafe {
                        rd::rd_kafka_AdminOptions_set_validate_only(
                            opts,
                            1,
                            errstr.as_mut_ptr(),
                            errstr.len(),
                        )
                    };
                    check(operation, err, &errstr)
                },
                // SAFETY: the resources outlive the call; librdkafka copies them.
                |rk, opts, queue| unsafe {
                    rd::rd_kafka_IncrementalAlterConfigs(
                        rk,
                        ptrs.as_mut_ptr(),
                        ptrs.len(),
                        opts,
                        queue,
                    )
                },
            )?;
            // SAFETY: an IncrementalAlterConfigs result event; resources live as long as it.
            unsafe {
                let result = rd::rd_kafka_event_IncrementalAlterConfigs_result(event.0);
                let mut count = 0;
                let results =
                    rd::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut count);
                for i in 0..count {
                    let r = *results.add(i);
                    let err = rd::rd_kafka_ConfigResource_error(r);
                    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                        return Err(AdminExtError {
                            operation,
                            subject: Some(copy_str(rd::rd_kafka_ConfigResource_name(r))),
                            code: err.into(),
                            message: copy_str(rd::rd_kafka_ConfigResource_error_string(r)),
                        });
                    }
                }
            }
            Ok(())
        })
        .await
    }
}

/// Sends one admin request and waits for its result event on a queue of its own.
fn request(
    rk: *mut rd::rd_kafka_t,
    operation: &'static str,
    op: rd::rd_kafka_admin_op_t,
    configure: impl FnOnce(*mut rd::rd_kafka_AdminOptions_t) -> Result<(), AdminExtError>,
    call: impl FnOnce(
        *mut rd::rd_kafka_t,
        *const rd::rd_kafka_AdminOptions_t,
        *mut rd::rd_kafka_queue_t,
    ),
) -> Result<Owned<rd::rd_kafka_event_t>, AdminExtError> {
    // SAFETY: rk is a live client handle for the duration of this call.
    let options = Owned(
        unsafe { rd::rd_kafka_AdminOptions_new(rk, op) },
        rd::rd_kafka_AdminOptions_destroy,
    );
    let mut errstr = [0 as c_char; 256];
    // SAFETY: options are live; errstr is writable.
    let err = unsafe {
        rd::rd_kafka_AdminOptions_set_request_timeout(
            options.0,
            TIMEOUT.as_millis() as i32,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    check(operation, err, &errstr)?;
    configure(options.0)?;
    // SAFETY: a new queue on a live handle, destroyed by its owner.
    let queue = Owned(
        unsafe { rd::rd_kafka_queue_new(rk) },
        rd::rd_kafka_queue_destroy,
    );
    call(rk, options.0, queue.0);
    // SAFETY: polling our own queue; the event (if any) is owned and destroyed once.
    let event = Owned(
        unsafe { rd::rd_kafka_queue_poll(queue.0, (TIMEOUT.as_millis() + 5_000) as i32) },
        rd::rd_kafka_event_destroy,
    );
    if event.0.is_null() {
        return Err(AdminExtError {
            operation,
            subject: None,
            code: RDKafkaErrorCode::OperationTimedOut,
            message: format!("no answer within {}s", TIMEOUT.as_secs() + 5),
        });
    }
    // SAFETY: the event is live.
    let err = unsafe { rd::rd_kafka_event_error(event.0) };
    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Err(AdminExtError {
            operation,
            subject: None,
            code: err.into(),
            // SAFETY: the string lives as long as the event and is copied here.
            message: unsafe { copy_str(rd::rd_kafka_event_error_string(event.0)) },
        });
    }
    Ok(event)
}

fn check(
    operation: &'static str,
    err: rd::rd_kafka_resp_err_t,
    errstr: &[c_char],
) -> Result<(), AdminExtError> {
    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Ok(());
    }
    Err(AdminExtError {
        operation,
        subject: None,
        code: err.into(),
        // SAFETY: librdkafka NUL-terminates errstr.
        message: unsafe { copy_str(errstr.as_ptr()) },
    })
}

/// Turns an `rd_kafka_error_t*` (null for success) into a result, destroying it.
///
/// # Safety
/// `error` must be null or an error object the caller owns.
unsafe fn take_error(
    operation: &'static str,
    error: *mut rd::rd_kafka_error_t,
) -> Result<(), AdminExtError> {
    if error.is_null() {
        return Ok(());
    }
    let owned = Owned(error, rd::rd_kafka_error_destroy);
    Err(AdminExtError {
        operation,
        subject: None,
        code: rd::rd_kafka_error_code(owned.0).into(),
        message: copy_str(rd::rd_kafka_error_string(owned.0)),
    })
}

/// A group result's error, if it has one.
///
/// # Safety
/// `g` must be a live group result.
unsafe fn group_error(
    operation: &'static str,
    group: &str,
    g: *const rd::rd_kafka_group_result_t,
) -> Result<(), AdminExtError> {
    let error = rd::rd_kafka_group_result_error(g);
    if error.is_null()
        || rd::rd_kafka_error_code(error) == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
    {
        return Ok(());
    }
    Err(AdminExtError {
        operation,
        subject: Some(format!("group \"{group}\"")),
        code: rd::rd_kafka_error_code(error).into(),
        message: copy_str(rd::rd_kafka_error_string(error)),
    })
}

/// Calls `f(topic, partition, offset, error)` for each element of a partition list.
///
/// # Safety
/// `list` must be null or a live partition list.
unsafe fn partitions(
    list: *const rd::rd_kafka_topic_partition_list_t,
    mut f: impl FnMut(String, i32, i64, rd::rd_kafka_resp_err_t),
) {
    if list.is_null() {
        return;
    }
    let list = &*list;
    for i in 0..list.cnt.max(0) as usize {
        let e = &*list.elems.add(i);
        f(copy_str(e.topic), e.partition, e.offset, e.err);
    }
}

/// A librdkafka partition list with offsets.
fn topic_partition_list<'a>(
    items: impl Iterator<Item = (&'a str, i32, i64)>,
) -> Owned<rd::rd_kafka_topic_partition_list_t> {
    let items: Vec<_> = items.collect();
    // SAFETY: a new list, destroyed by its owner; elements are added through librdkafka.
    unsafe {
        let list = rd::rd_kafka_topic_partition_list_new(items.len().max(1) as i32);
        for (topic, partition, offset) in items {
            let t = cstring(topic);
            let elem = rd::rd_kafka_topic_partition_list_add(list, t.as_ptr(), partition);
            if !elem.is_null() {
                (*elem).offset = offset;
            }
        }
        Owned(list, rd::rd_kafka_topic_partition_list_destroy)
    }
}

/// `partitions` grouped by topic (topics sorted, partitions in the order given): how the
/// requests sent over the tool's own connection name them.
fn by_topic(partitions: &[(String, i32)]) -> BTreeMap<&str, Vec<i32>> {
    let mut out: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in partitions {
        out.entry(topic).or_default().push(*partition);
    }
    out
}

/// Sends `request` (as `version`) to `broker` over a connection of its own with `cluster`'s
/// security settings; an error is the broker's or the connection's, in words.
async fn ask_broker<R: kafka_protocol::protocol::Request>(
    cluster: &crate::config::ClusterConfig,
    broker: &str,
    request: &R,
    version: i16,
) -> Result<R::Response, String> {
    let broker = [broker.to_string()];
    let mut connection = crate::cluster::wire::Connection::open_at(cluster, &broker)
        .await
        .map_err(|e| e.to_string())?;
    connection
        .request(request, version)
        .await
        .map_err(|e| e.to_string())
}

mod log_dirs;
mod producers;
mod scram;
pub use log_dirs::{describe_log_dirs, LogDirsError, ReplicaSizes};
pub use producers::{describe_producers, ActiveProducer, ProducersError};
pub use scram::{ScramMechanism, ScramUser};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_split_to_what_a_controller_takes() {
        // 2,001 topics of 5 partitions: one request would be 12,006 records.
        let topics: Vec<usize> = vec![6; 2_001];
        let split = batches(topics, |w| *w, MAX_RECORDS_PER_REQUEST);
        assert_eq!(split.len(), 3);
        assert!(split
            .iter()
            .all(|b| b.iter().sum::<usize>() <= MAX_RECORDS_PER_REQUEST));
        assert_eq!(split.iter().map(Vec::len).sum::<usize>(), 2_001);
        // An item heavier than a request is sent alone; order is kept.
        let split = batches(vec![1, 9_000, 2, 3], |w| *w, MAX_RECORDS_PER_REQUEST);
        assert_eq!(split, vec![vec![1], vec![9_000], vec![2, 3]]);
        assert!(batches(Vec::<usize>::new(), |w| *w, 10).is_empty());
    }
}
