# Two PLAINTEXT clusters: a lab or a private network.
name = "plaintext-to-plaintext"

cluster "source" {
  bootstrap_servers = ["kafka-1.internal:9092", "kafka-2.internal:9092"]
}

cluster "target" {
  bootstrap_servers = ["kafka-new-1.internal:9092"]
}

topics {
  include = [".*"]
  exclude = ["^__.*", "^_schemas$", "^connect-.*"]
}

consumer_groups {
  exclude = ["^connect-.*"]
}
