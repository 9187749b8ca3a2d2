"""Bot features, one package per feature; each package's `__init__` exposes only `setup()`.

Packages whose name starts with an underscore hold shared helpers and are not extensions.
"""
