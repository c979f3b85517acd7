"""Hash-based step caching: the key (``key``) and the index kept in the artifact store (``index``).

The operators use it through ``airflow_kfp.cache.service.CacheService``.
"""

from airflow_kfp.cache.index import CacheEntry, CacheSource, entry_uri
from airflow_kfp.cache.key import KEY_FORMAT, cache_key, output_cache_key
from airflow_kfp.stores.layout import INDEX_FOLDER

__all__ = ["INDEX_FOLDER", "KEY_FORMAT", "CacheEntry", "CacheSource", "cache_key", "entry_uri", "output_cache_key"]
