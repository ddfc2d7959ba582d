"""Root pytest configuration.

nameko code runs on eventlet, so sockets are patched before anything imports them (nameko's own
test tools expect this). Integration fixtures start a real Tansu broker on a free loopback port."""

import warnings

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
