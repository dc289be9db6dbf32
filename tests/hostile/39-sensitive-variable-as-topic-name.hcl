# sensitive variable as topic name
# expect: refused
variable "pw" {
  sensitive = true
  default   = "SECRET-MARKER-39 x"
}
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
topics {
  names = [var.pw]
}
