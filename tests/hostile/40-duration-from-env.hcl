# duration from env
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
consumer_groups {
  sync_interval = env("HOSTILE_SECRET")
}
