"""The Redis cache backend keeps its clients (portal.cache), against the real Redis."""

from django.conf import settings

from portal.cache import RedisCache


def backend():
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"  # a database of its own
    return RedisCache(url, {})


def test_one_client_serves_every_call():
    cache = backend()
    cache.set("portal-test:a", {"n": 1}, 30)
    assert cache.get("portal-test:a") == {"n": 1}
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.delete("portal-test:n")
    assert cache.add("portal-test:n", 0, 30) and cache.incr("portal-test:n", 1) == 1
    assert cache._cache.get_client(write=False) is cache._cache.get_client(write=False)
    cache.delete_many(["portal-test:a", "portal-test:n"])
    assert cache.get("portal-test:a") is None
