"""deploy/compose.yaml and deploy/Dockerfile, checked as files: there is no Docker engine where
the tests run, so these checks are what keeps them consistent with the code (service names,
listeners, the settings the worker reads, what the image installs)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from perfledger.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PERFLEDGER_SERVICES = ("setup", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def interpolated(text: str) -> str:
    """A compose value with `${NAME:-default}` replaced by its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def listeners(text: str) -> dict[str, tuple[str, int]]:
    """`NAME://host:port,...` as {NAME: (host, port)}."""
    found = {}
    for item in interpolated(text).split(","):
        name, address = item.split("://")
        host, port = address.rsplit(":", 1)
        found[name] = (host, int(port))
    return found


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in lines]


def test_the_four_services_and_their_images(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"kafka", "postgres", "setup", "worker"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["image"] == "postgres:16"
    for name in PERFLEDGER_SERVICES:
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY / services[name]["build"]["context"] / "pyproject.toml").is_file()


def test_kafka_is_one_kraft_node_with_consistent_listeners(
        services: dict[str, dict[str, Any]]) -> None:
    env = {key: str(value) for key, value in services["kafka"]["environment"].items()}
    bound = listeners(env["KAFKA_LISTENERS"])
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]

    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == (
        f"{env['KAFKA_NODE_ID']}@{services['kafka']['hostname']}:{bound[controller][1]}")
    assert set(protocols) == set(bound)
    assert controller not in advertised  # clients never get the controller's address
    assert set(advertised) == set(bound) - {controller}
    inter_broker = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
    assert advertised[inter_broker] == (services["kafka"]["hostname"], bound[inter_broker][1])
    # A single node: nothing may ask for more than one replica.
    assert all(value == "1" for key, value in env.items()
               if key.endswith(("REPLICATION_FACTOR", "MIN_ISR")))
    assert len(env["CLUSTER_ID"]) == 22


def test_the_host_port_of_kafka_is_the_one_it_advertises_to_the_host(
        services: dict[str, dict[str, Any]]) -> None:
    env = services["kafka"]["environment"]
    host, port = listeners(env["KAFKA_ADVERTISED_LISTENERS"])["HOST"]
    published = [interpolated(p) for p in services["kafka"]["ports"]]

    assert f"{host}:{port}:{listeners(env['KAFKA_LISTENERS'])['HOST'][1]}" in published


def test_the_perfledger_services_reach_kafka_and_postgres_inside_the_network(
        services: dict[str, dict[str, Any]]) -> None:
    kafka_env = services["kafka"]["environment"]
    internal = listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])[
        kafka_env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    postgres_env = services["postgres"]["environment"]
    for name in PERFLEDGER_SERVICES:
        env = services[name]["environment"]
        assert {"PERFLEDGER_DATABASE_URL", "PERFLEDGER_KAFKA_BOOTSTRAP"} <= set(env), name
        assert env["PERFLEDGER_KAFKA_BOOTSTRAP"] == f"{internal[0]}:{internal[1]}"
        url = make_url(env["PERFLEDGER_DATABASE_URL"])
        assert url.drivername == "postgresql+psycopg"
        assert (url.host, url.port) == ("postgres", 5432)
        assert (url.username, url.password, url.database) == (
            postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_PASSWORD"],
            postgres_env["POSTGRES_DB"])


def test_every_perfledger_setting_in_compose_is_one_the_code_reads(
        services: dict[str, dict[str, Any]]) -> None:
    prefix = Settings.model_config["env_prefix"]
    for name in PERFLEDGER_SERVICES:
        env = services[name]["environment"]
        assert all(isinstance(value, str) for value in env.values()), name
        unknown = {key for key in env if key.removeprefix(prefix).lower() not in Settings.model_fields}
        assert not unknown, f"{name}: {unknown}"
        Settings.model_validate({key.removeprefix(prefix).lower(): value
                                 for key, value in env.items()})


def test_setup_creates_the_topics_and_publishes_the_plan_before_the_worker_starts(
        services: dict[str, dict[str, Any]]) -> None:
    setup, worker = services["setup"], services["worker"]
    script = setup["command"][-1]
    plan = re.search(r"plan publish (\S+)", script)

    assert "perfledger topics create" in script
    assert plan is not None
    assert (ROOT / plan.group(1)).is_file()  # relative to WORKDIR /app, copied with perfledger/
    assert setup["restart"] == "no"
    assert {name: dep["condition"] for name, dep in setup["depends_on"].items()} == {
        "kafka": "service_healthy", "postgres": "service_healthy"}
    assert worker["depends_on"]["setup"]["condition"] == "service_completed_successfully"


def test_the_worker_consumes_and_serves_metrics(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]

    assert worker["command"] == ["perfledger", "consume", "--metrics-port", "9464"]
    assert any(str(port).endswith(":9464:9464") for port in worker["ports"])
    assert worker["stop_signal"] == "SIGTERM"
    assert "9464/metrics" in " ".join(worker["healthcheck"]["test"])


def test_the_data_lives_in_named_volumes(compose: dict[str, Any],
                                         services: dict[str, dict[str, Any]]) -> None:
    mounted = {volume.split(":")[0] for name in ("kafka", "postgres")
               for volume in services[name]["volumes"]}

    assert mounted == set(compose["volumes"])
    assert "/var/lib/kafka/data" in services["kafka"]["environment"]["KAFKA_LOG_DIRS"]


def test_the_dockerfile_installs_the_project() -> None:
    instructions = dockerfile_instructions()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    workdir = next(args for op, args in instructions if op == "WORKDIR")
    copied = {source for op, args in instructions if op == "COPY"
              for source in shlex.split(args)[:-1]}
    installs = [args for op, args in instructions if op == "RUN" and "pip install" in args]

    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert {"pyproject.toml", project["project"]["readme"], *packages} <= copied
    assert all((ROOT / package).is_dir() for package in packages)
    assert len(installs) == 1
    assert re.search(r"pip install \.(\s|$)", installs[0])
    assert workdir == "/app"
    assert next(args for op, args in instructions if op == "CMD").startswith('["perfledger"')
