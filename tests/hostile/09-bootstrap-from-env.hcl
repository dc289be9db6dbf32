# bootstrap from env
# expect: refused
name = "hostile"
cluster "source" {
  bootstrap_servers = [env("HOSTILE_SECRET")]
}
cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}
