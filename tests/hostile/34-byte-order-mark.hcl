# byte order mark
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
