"""A Pulp-shaped consumer of the seed's `db` and `msg` services."""
