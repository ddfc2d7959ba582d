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
    """One Tansu broker for the session (tests that restart a broker start their own)."""
    from fangfei.devstack.broker import Broker

    log = tmp_path_factory.mktemp("broker") / "broker.log"
    b = Broker(log_path=str(log)).start()
    yield b
    b.stop()
