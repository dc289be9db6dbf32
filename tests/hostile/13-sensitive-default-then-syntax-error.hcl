# sensitive default then syntax error
# expect: refused
variable "pw" {
  default = "SECRET-MARKER-13"
  sensitive = true
}
name = "hostile"
cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
topics {
  include = [
}
