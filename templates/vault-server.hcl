# Vault server configuration shared by every node of the cluster.
# Source: templates/vault-server.hcl in the vault-ha package; a key in double
# braces marks a value filled in from vault-ha's configuration (vault-ha config
# --keys lists them). A line whose value is not set is left out. A value is
# escaped as the body of its quoted string, so it can never end the string.
# Per-node addresses come from each service's environment instead:
# VAULT_API_ADDR (http://vault-N:8200) and VAULT_CLUSTER_ADDR (https://vault-N:8201).

# The web UI is harmless on a local cluster and helps to look around.
ui = true

# Vault refuses to start when it cannot lock memory unless this is set.
# Containers need the IPC_LOCK capability for mlock, which some CI systems
# forbid; vault-ha drops mlock unless `vault.mlock: true` adds IPC_LOCK.
disable_mlock = {{ disable_mlock }}

# The API listener: plain HTTP unless `tls: true` (then a certificate from
# vault-ha's local CA, written into the container at start). Request
# forwarding between nodes uses the cluster port, which Vault always protects
# with its own TLS.
listener "tcp" {
  address         = "0.0.0.0:8200"
  cluster_address = "0.0.0.0:8201"
  tls_disable     = {{ tls_disable }}
  tls_cert_file   = "{{ tls_cert_file }}"
  tls_key_file    = "{{ tls_key_file }}"
}

# Every node stores its data in one DynamoDB table and competes for the HA
# lock item (Path "core", Key "_lock") in it; the holder is the active node.
storage "dynamodb" {
  # storage.ha_enabled: without it every node would think it is alone.
  ha_enabled             = "{{ storage.ha_enabled }}"
  # storage.table: created (hash key Path, range key Key) before any node starts.
  table                  = "{{ storage.table }}"
  # storage.region: DynamoDB Local accepts any region with -sharedDb.
  region                 = "{{ storage.region }}"
  # storage.endpoint: the DynamoDB Local service on the Compose network.
  endpoint               = "{{ storage.endpoint }}"
  # storage.max_parallel: concurrent requests to DynamoDB per node.
  max_parallel           = "{{ storage.max_parallel }}"
  # storage.read_capacity / write_capacity: used only if Vault creates the table.
  read_capacity          = "{{ storage.read_capacity }}"
  write_capacity         = "{{ storage.write_capacity }}"
  # storage.billing_mode: PROVISIONED or PAY_PER_REQUEST.
  billing_mode           = "{{ storage.billing_mode }}"
  # storage.dynamodb_allow_updates: let Vault change the table's capacity.
  dynamodb_allow_updates = "{{ storage.dynamodb_allow_updates }}"
  dynamodb_max_retries   = "{{ storage.dynamodb_max_retries }}" # storage.dynamodb_max_retries: the AWS SDK's retry count
  # storage.access_key / secret_key: dummy credentials; DynamoDB Local checks
  # only that they are letters and digits.
  access_key             = "{{ storage.access_key }}"
  secret_key             = "{{ storage.secret_key }}"
  session_token          = "{{ storage.session_token }}" # storage.session_token: only for temporary credentials
}
