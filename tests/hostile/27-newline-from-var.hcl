# newline from var
# expect: refused
variable "user" {}
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
  security {
    protocol = "SASL_SSL"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = var.user
      password  = "x"
    }
  }
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
