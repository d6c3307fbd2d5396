"""Settings from `PERFLEDGER_*` environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the ledger lives and how it takes input."""

    model_config = SettingsConfigDict(env_prefix="PERFLEDGER_")

    database_url: str = "sqlite:///perfledger.db"
    default_currency: str = "USD"
    ingest_batch_size: int = 1000
    projection_page_size: int = 1000
