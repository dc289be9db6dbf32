# control character in config key
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
topics {
  config {
    override = { "retention.ms\ninjected.key" = 1 }
  }
}
