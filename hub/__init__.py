"""The regional hub: ingest from the broker, the store, and the oversight API.

Every instance is stateless apart from its database, so several can share one MQTT v5 shared
subscription and one PostgreSQL behind a load balancer.
"""
