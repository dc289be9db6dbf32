# unknown property
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "fetch.max.byte" = "1048576"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
