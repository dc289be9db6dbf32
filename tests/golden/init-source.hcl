# A migration from the source cluster at SOURCE:PORT, written by `kafka-migrate init`.
# The source: 1 broker(s), 304 topic(s) (300 to migrate, 3 internal), 40 consumer group(s), 3 ACL binding(s).
# Its brokers report the API versions of Apache Kafka ≥ 4.0.
# SCRAM users on the source (3), whose passwords are not readable and not migrated:
#   admin (SCRAM-SHA-512)
#   alice (SCRAM-SHA-512)
#   bob (SCRAM-SHA-512)
# For an MSK target, `kafka-migrate export scram-secrets` writes Terraform for their MSK SCRAM
# secrets (passwords are yours to give).
# Next: `kafka-migrate validate`, then `kafka-migrate plan`. Commented attributes show the defaults;
# README.md's HCL reference explains every attribute.
name = "SOURCE-PORT"

cluster "source" {
  bootstrap_servers = ["SOURCE:PORT"]
  security {
    protocol = "SASL_PLAINTEXT"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("SOURCE_PASSWORD")
    }
  }
  # Extra librdkafka client properties, passed through as they are.
  # properties = {}
}

cluster "target" {
  bootstrap_servers = ["TARGET:PORT"]
  security {
    protocol = "PLAINTEXT"
  }
  # Extra librdkafka client properties, passed through as they are.
  # properties = {}
}

topics {
  # 300 topic(s) with 300 partition(s) to migrate; replication factor 1 on the source.
  include = [
    "^analytics\\.",   # 40 topic(s)
    "^app-",           # 2 topic(s)
    "^audit$",         # 1 topic(s)
    "^billing$",       # 1 topic(s)
    "^customers$",     # 1 topic(s)
    "^inventory_",     # 60 topic(s)
    "^ledger$",        # 1 topic(s)
    "^notifications$", # 1 topic(s)
    "^orders\\.",      # 100 topic(s)
    "^payments-",      # 80 topic(s)
    "^profiles$",      # 1 topic(s)
    "^reviews$",       # 1 topic(s)
    "^search$",        # 1 topic(s)
    "^sessions$",      # 1 topic(s)
    "^shipments$",     # 1 topic(s)
    "^stock$",         # 1 topic(s)
    "^tax$",           # 1 topic(s)
    "^tickets$",       # 1 topic(s)
    "^users$",         # 1 topic(s)
    "^vendors$",       # 1 topic(s)
    "^web$",           # 1 topic(s)
    "^wishlists$",     # 1 topic(s)
    "^zones$",         # 1 topic(s)
  ]
  # Left out, internal:
  #   __consumer_offsets (Kafka internal)
  #   app-agg-repartition (Kafka Streams internal)
  #   app-store-changelog (Kafka Streams internal)
  exclude = ["-changelog$", "-repartition$"]
  # Applications on the source whose state lives in topics. `plan` carries each whole once one
  # of its topics is selected (a Streams application also once its group reads a selected
  # topic); to carry one, uncomment `names` with its lines:
  # names = [
  #   # schema registry _schemas
  #   "_schemas", # schemas
  # ]
  # Configs set on these topics (and on how many), copied to the target: cleanup.policy (60), retention.ms (100).
  # Which topic configs are copied.
  # config {
  #   Config names never copied nor changed on the target.
  #   exclude = []
  #   Config values every migrated topic gets on the target.
  #   override = {}
  # }
  # Topics to migrate by exact name; each must exist on the source.
  # names = []
}

acls {
  # The source holds 3 ACL binding(s): those of the migrated topics and groups are copied.
  # Principals renamed on the way, such as `{ "User:alice" = "User:alice-msk" }`.
  # principal_map = {}
  # Copy the ACLs of the migrated topics and groups (and cluster and transactional-id ACLs) to the target.
  # sync = true
}

consumer_groups {
  # 40 consumer group(s) on the source; their committed offsets are translated and synced.
  include = [
    "^billing-",        # 20 group(s)
    "^etl$",            # 1 group(s)
    "^fraud-check$",    # 1 group(s)
    "^mailer$",         # 1 group(s)
    "^reporting\\.",    # 15 group(s)
    "^search-indexer$", # 1 group(s)
    "^warehouse$",      # 1 group(s)
  ]
  # Patterns of groups to leave alone.
  # exclude = []
  # Translate and commit group offsets on the target while replicating.
  # sync = true
  # How often group offsets are synced while `apply` replicates.
  # sync_interval = "10s"
}

replication {
  # Producer `batch.size`.
  # batch_size = "1MiB"
  # How often each task commits (a transaction with exactly-once): at most a quarter of `transaction_timeout`.
  # commit_interval = "1s"
  # Compression of records written to the target: none, gzip, snappy, lz4 or zstd.
  # compression = "none"
  # "exactly-once" (records and progress in one target transaction) or "at-least-once".
  # delivery = "exactly-once"
  # Source bytes prefetched over all tasks: each task fetches half its share at a time (`fetch.max.bytes`) and queues at most as much (`queued.max.messages.kbytes`).
  # fetch_max_bytes = "50MiB"
  # Producer `linger.ms`.
  # linger = "5ms"
  # Retriable failures in a row (broker unavailable, timeouts) after which apply gives up; each restarts the tasks from committed progress after 1, 2, 4 … 32 s.
  # max_retries = 6
  # How often a running apply looks for topics and partitions created on the source since it started, creates them on the target and replicates them too.
  # refresh_interval = "30s"
  # Parallel replication tasks; each owns a disjoint set of partitions.
  # tasks = 4
  # Most key and value bytes a task puts in one commit (a transaction with exactly-once); a task holds at most this much, or half its share of `fetch_max_bytes` if less, not yet acknowledged by the target.
  # transaction_bytes = "48MiB"
  # How long the target lets a transaction stay open before it aborts it (the producer's `transaction.timeout.ms`, at most the brokers' `transaction.max.timeout.ms`).
  # transaction_timeout = "1m"
}

cutover {
  # Data parity check: "none", "sample" (bounded random ranges) or "full".
  # data_check = "sample"
  # Largest replication lag (records, per partition) that still counts as caught up.
  # max_lag = 0
  # How long the source's end offsets must stand still (producers stopped) before cutover.
  # quiet_period = "30s"
}
