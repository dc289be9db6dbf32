# mechanism from env
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = env("HOSTILE_SECRET")
      username  = "migrator"
      password  = "x"
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
