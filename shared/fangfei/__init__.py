"""Fangfei (防非): the platform's shared library.

Import name `fangfei`; lives in the repository's `shared/` folder. Services import from here and
from nowhere else in each other: they talk only through Kafka events.
"""

__version__ = "0.1.0"
