"""The sharded catalogue: records partitioned by hash of the union record id.

Its buckets live on the primary or on other PostgreSQL servers as postgres_fdw foreign
partitions (``jala shards``).
"""
