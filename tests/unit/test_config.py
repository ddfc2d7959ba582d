"""Configuration: defaults suit the embedded mode; a bad value stops the service with a clear message."""

import pytest

from fangfei.config import ConfigError, Settings


def test_defaults_need_no_environment() -> None:
    s = Settings.from_env("intake", {})
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.resolved_store_uri.endswith("intake.sqlite") and s.resolved_store_uri.startswith("embedded:")
    assert s.http_address == "127.0.0.1:8101"
    assert s.group_id == "fangfei.intake"


def test_environment_overrides() -> None:
    s = Settings.from_env("ledger", {"FANGFEI_STORE_URI": "mongodb://db:27017/?replicaSet=rs0",
                                     "FANGFEI_CONSUMER_MAX_RETRIES": "5"})
    assert s.resolved_store_uri.startswith("mongodb://") and s.consumer_max_retries == 5


@pytest.mark.parametrize("env, words", [
    ({"FANGFEI_RELAY_BATCH": "many"}, "FANGFEI_RELAY_BATCH must be a whole number"),
    ({"FANGFEI_RELAY_BATCH": "0"}, "at least 1"),
    ({"FANGFEI_CONSUMER_SESSION_TIMEOUT_MS": "100"}, "at least 6000"),
    ({"FANGFEI_BLOCKING_DETECTION_S": "soon"}, "number of seconds"),
])
def test_bad_values_are_named(env, words) -> None:
    with pytest.raises(ConfigError, match=words):
        Settings.from_env("intake", env)


def test_unknown_service_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown service"):
        Settings.from_env("payments", {})
