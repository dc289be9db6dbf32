# nul in user name
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "a\u0000b"
      password  = "x"
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
