"""The embedded stack: a Tansu broker and the five services as child processes.

Used by `make run` (`fangfei up`) and by the integration tests, so both start the platform the
same way."""
