"""The product's settings, plus the benchmark's trivial view (``bench/urls.py``).

``make bench`` serves the app with these: the same middleware, database and caches, and one more
URL that the product itself does not have.
"""

from asi_wg.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
