"""The one place that reads configuration: `MONITOR_*` environment variables and an optional `monitor.toml`.

Everything else receives a `Settings` object; nothing else looks at the environment.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from monitor.errors import MonitorError
from monitor.http.safety import AddressPolicy, parse_networks

ENV_PREFIX = "MONITOR_"
DEFAULT_DATABASE_URL = "sqlite:///./data/monitor.db"
# A news feed or sitemap lists its newest few hundred items; more than this per run is a backlog, taken
# newest first over the following runs.
DEFAULT_CRAWL_MAX_ITEMS = 500
_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)
_INTERVAL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ConfigError(MonitorError):
    """A configuration value is unusable; the message is one line naming the variable and the problem."""


def parse_interval(value: str, *, minimum: timedelta = timedelta(minutes=1)) -> timedelta:
    """Parse an interval such as `30m`, `2h`, `45s` or `1d`; raise ValueError otherwise or below `minimum`."""
    match = _INTERVAL_RE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an interval like 30m, 2h or 1d")
    amount, unit = int(match.group(1)), match.group(2).lower()
    interval = timedelta(**{_INTERVAL_UNITS[unit]: amount})
    if interval < minimum:
        raise ValueError(f"{value!r} is shorter than {format_interval(minimum)}")
    return interval


def format_interval(interval: timedelta) -> str:
    """The inverse of `parse_interval`, choosing the largest whole unit."""
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Settings(BaseSettings):
    """Claim Monitor's settings. Each field is read from `MONITOR_<NAME>` or from `monitor.toml`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        toml_file="monitor.toml",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database.")
    smtp_host: str | None = Field(None, description="SMTP server for email alerts and digests.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 implicit TLS).")
    smtp_user: str | None = Field(None, description="SMTP login user.")
    smtp_password: SecretStr | None = Field(None, description="SMTP login password.")
    smtp_starttls: bool = Field(True, description="Use STARTTLS (port 465 always uses implicit TLS).")
    email_from: str | None = Field(None, description="Sender address of alert emails.")
    # NoDecode: the environment gives a comma-separated list, not JSON.
    email_to: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Recipients, comma-separated.")
    slack_webhook_url: SecretStr | None = Field(None, description="Slack incoming-webhook URL.")
    crawl_every: str = Field("30m", description="Default crawl interval of a source (30m, 2h, 1d).")
    alert_cooldown: str = Field("1h", description="Quiet time per baseline claim between alerts (0m: none).")
    digest_time: time = Field(time(7, 0), description="Local time the daily digest is sent (HH:MM).")
    timezone: str = Field("Europe/Minsk", description="Time zone of the digest day and digest time.")
    web_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    web_port: int = Field(8000, ge=1, le=65535, description="Port the web app listens on.")
    web_token: SecretStr | None = Field(None, description="Token required for writes in the web UI and API.")
    public_url: str | None = Field(
        None,
        description="Address where users reach the web UI (https://monitor.example.org); alerts link to it.",
    )
    redis_url: str | None = Field(None, description="Redis URL; when set, crawls are shared through Redis.")
    # NoDecode: a comma-separated list of CIDRs, not JSON.
    crawl_allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Internal networks the crawler may fetch from (CIDRs, comma-separated)."
    )
    crawl_max_items: int = Field(
        DEFAULT_CRAWL_MAX_ITEMS, ge=1, le=1_000_000, description="Article links taken from one source per run."
    )
    match_threshold: float | None = Field(
        None,
        ge=0,
        le=100,
        description="Match score (0-100) below which no match is reported (default: the calibrated one, see README).",
    )

    @field_validator("email_to", mode="before")
    @classmethod
    def _split_recipients(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("email_to")
    @classmethod
    def _check_recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("crawl_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    @field_validator("crawl_allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        return [str(network) for network in parse_networks(value)]

    @field_validator("crawl_every")
    @classmethod
    def _check_interval(cls, value: str) -> str:
        parse_interval(value)
        return value

    @field_validator("alert_cooldown")
    @classmethod
    def _check_cooldown(cls, value: str) -> str:
        parse_interval(value, minimum=timedelta(0))
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not an http(s) address such as https://monitor.example.org")
        return value

    def web_base_url(self) -> str:
        """Where users reach the web UI: MONITOR_PUBLIC_URL, else the address it listens on."""
        return self.public_url or f"http://{self.web_host}:{self.web_port}"

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Minsk)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("slack_webhook_url")
    @classmethod
    def _check_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @property
    def address_policy(self) -> AddressPolicy:
        """What may be fetched: public addresses, and the internal networks MONITOR_CRAWL_ALLOWED_NETWORKS lists."""
        return AddressPolicy.allowing(self.crawl_allowed_networks)

    @property
    def write_token(self) -> str | None:
        """The token writes need, or None when MONITOR_WEB_TOKEN is unset or blank (the app and the server
        read it the same way: a blank token is no token)."""
        token = self.web_token.get_secret_value().strip() if self.web_token else ""
        return token or None

    @property
    def crawl_interval(self) -> timedelta:
        return parse_interval(self.crawl_every)

    @property
    def cooldown(self) -> timedelta:
        return parse_interval(self.alert_cooldown, minimum=timedelta(0))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over monitor.toml, so a deployment can override a checked-in file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def setting_names() -> list[str]:
    """The environment variable names of every setting, for docs and checks."""
    return [ENV_PREFIX + name.upper() for name in Settings.model_fields]


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning a validation failure into one `ConfigError` line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{ENV_PREFIX}{field.upper()}: {message}") from None


def data_dir(settings: Settings) -> Path:
    """The folder that holds the embedded SQLite database (created on demand by the storage layer)."""
    url = settings.database_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).parent
    return Path("data")
