# The quick-start migration: a local SASL/SCRAM source with ACLs to a local PLAINTEXT target,
# both started by `scripts/demo`. The source password comes from the environment.
name = "local-demo"

cluster "source" {
  bootstrap_servers = ["127.0.0.1:19092"]
  security {
    protocol = "SASL_PLAINTEXT"
    sasl {
      mechanism = "SCRAM-SHA-512"
      username  = "admin"
      password  = env("SOURCE_PASSWORD")
    }
  }
}

cluster "target" {
  bootstrap_servers = ["127.0.0.1:29092"]
  security {
    protocol = "PLAINTEXT"
  }
}

topics {
  include            = ["^demo\\..*"]
  exclude            = ["^__.*"]
  replication_factor = 1
}

acls {
  sync = true
}

consumer_groups {
  include = ["^demo-.*"]
}

replication {
  tasks    = 2
  delivery = "exactly-once"
}

cutover {
  quiet_period = "5s"
  data_check   = "full"
}
