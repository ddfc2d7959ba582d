"""`make bench`: speed and scale of the platform on this machine, each figure beside a reference
that bounds it (see README.md here and docs/benchmarks.md)."""

import warnings

# Importing the platform library pulls in nameko, and so eventlet, which warns on import; the bench
# itself never monkey-patches (it drives the services from outside, with plain threads).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
