"""Key pairs, Multikey/JWK, did:key/did:web, the encrypted key store and the securing suites."""
