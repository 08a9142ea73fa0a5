"""The Redis cache backend, keeping one Redis client per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` object for every cache operation, and building
one fills its table of response callbacks (a few hundred entries): about a third of a millisecond of
CPU per operation, several times per page. A `redis.Redis` object is safe to share between threads
(each command takes a connection from the pool), so one per pool is kept.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class PlantRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache with ReusingRedisCacheClient."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
