// Wrapper module that builds the real Vault server from the Go module proxy.
// Vault's own go.mod replaces its api and sdk submodules with local folders,
// so `go install github.com/hashicorp/vault@vX` refuses it; as a dependency of
// this module those replaces are ignored, and we pin api and sdk ourselves to
// the versions the release requires. The two non-local replaces of Vault's
// go.mod are repeated here because a dependency's replaces do not apply.
module vault-ha.local/testbed/vault

go 1.25.3

replace github.com/99designs/keyring => github.com/Jeffail/keyring v1.2.3

replace github.com/ma314smith/signedxml v1.1.1 => github.com/moov-io/signedxml v1.1.1
