# endpoint identification none
# expect: valid
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SSL"
  }
  properties = {
    "ssl.endpoint.identification.algorithm" = "none"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
