"""Settings from `PERFLEDGER_*` environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the ledger lives, how it takes input and where it talks to Kafka."""

    model_config = SettingsConfigDict(env_prefix="PERFLEDGER_")

    database_url: str = "sqlite:///perfledger.db"
    default_currency: str = "USD"
    ingest_batch_size: int = 4000  # lines per store transaction (and per page) of a file's ingest
    # A file's ingest applies its batches to the read models in a second process while it
    # records the next ones (on a machine of more than one CPU): see `System.ingest`.
    ingest_pages_alongside: bool = True
    projection_page_size: int = 1000
    statement_processes: int = 0  # processes stating a whole period (replay, close); 0: one per CPU

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = "perf."
    kafka_group_id: str = "perfledger-ingest"
    kafka_batch_size: int = 1000
    # How long the broker may hold a fetch that finds no new records. The consumer has one fetch
    # in flight per broker, made of the partitions it holds no records of: one made only of
    # quiet partitions held records arriving on the busy ones back for up to this long.
    kafka_fetch_max_wait_ms: int = 20
    kafka_partitions: int = 3
    kafka_client_id: str = "perfledger"
