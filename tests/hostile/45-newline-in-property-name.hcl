# newline in property name
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "PLAINTEXT"
  }
  properties = {
    "client.rack\ninjected.key" = "x"
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
