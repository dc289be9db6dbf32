# newline in user name
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "u\nconsumer.bootstrap.servers=injected:9092"
      password  = env("HOSTILE_SECRET")
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
