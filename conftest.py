"""Root pytest configuration.

nameko code runs on eventlet, so sockets are patched before anything imports them (nameko's own
test tools expect this). Integration fixtures start a real Tansu broker on a free loopback port."""

import os
import warnings

# trio (a selenium dependency) registers a hypothesis plugin that cannot import once eventlet has
# patched the socket module; the plugin is for trio's own tests, not ours.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory):
    """One Tansu broker for the session (tests that restart a broker start their own), or the
    Kafka cluster named by FANGFEI_TEST_KAFKA_BOOTSTRAP, to run the bus contract against it."""
    import os
    from types import SimpleNamespace

    from fangfei.devstack.broker import Broker

    external = os.environ.get("FANGFEI_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield SimpleNamespace(bootstrap=external)
        return

    log = tmp_path_factory.mktemp("broker") / "broker.log"
    b = Broker(log_path=str(log)).start()
    yield b
    b.stop()
