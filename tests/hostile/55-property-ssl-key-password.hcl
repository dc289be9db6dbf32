# property ssl key password
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SSL"
  }
  properties = {
    "ssl.key.password" = "SECRET-MARKER-55"
    "client.rack"      = "use1-az1"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
