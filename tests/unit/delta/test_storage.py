import pytest

from airflow_provider_parity.delta.storage import (
    build_storage_options,
    join_table_uri,
    normalize_table_uri,
    redact_options,
    redact_uri,
    storage_kind,
)
from airflow_provider_parity.exceptions import ConfigurationError


@pytest.mark.parametrize(
    ("uri", "kind"),
    [("/data/t", "local"), ("file:///data/t", "local"), ("s3://b/t", "s3"), ("s3a://b/t", "s3"),
     ("gs://b/t", "gcs"), ("abfss://c@acct.dfs.core.windows.net/t", "adls"), ("az://c/t", "adls")],
)
def test_storage_kind(uri: str, kind: str) -> None:
    assert storage_kind(uri) == kind


def test_unknown_scheme_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unsupported table URI scheme 'ftp'"):
        storage_kind("ftp://user:pw@host/t")


def test_unknown_scheme_error_does_not_leak_the_password() -> None:
    with pytest.raises(ConfigurationError) as info:
        storage_kind("ftp://user:hunter2@host/t")
    assert "hunter2" not in str(info.value)


def test_local_paths_become_absolute(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_table_uri("t") == str(tmp_path / "t")
    assert normalize_table_uri("s3://b/t/") == "s3://b/t"
    # file:/path is how Spark and Hadoop name a local table (DESCRIBE DETAIL's location).
    assert normalize_table_uri("file:/data/t") == normalize_table_uri("file:///data/t") == "/data/t"


def test_join_table_uri() -> None:
    assert join_table_uri("s3://lake/", "events") == "s3://lake/events"
    assert join_table_uri("s3://lake", "gs://other/t") == "gs://other/t"
    assert join_table_uri("", "/abs/t") == "/abs/t"


def test_minio_options() -> None:
    options = build_storage_options(
        "s3", login="AKIA", password="s3cr3t", extra={"endpoint_url": "http://127.0.0.1:9000", "region": "us-east-1"}
    )
    assert options == {
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true",
        "aws_conditional_put": "etag",
    }


def test_adls_service_principal_and_passthrough() -> None:
    options = build_storage_options(
        "adls", login="client", password="pw", extra={"tenant_id": "t", "account_name": "acct",
                                                      "storage_options": {"timeout": 30}}
    )
    assert options["AZURE_STORAGE_CLIENT_ID"] == "client"
    assert options["AZURE_STORAGE_CLIENT_SECRET"] == "pw"
    assert options["AZURE_STORAGE_ACCOUNT_NAME"] == "acct"
    assert options["timeout"] == "30"


def test_gcs_key_from_password() -> None:
    assert build_storage_options("gcs", password='{"k": 1}') == {"GOOGLE_SERVICE_ACCOUNT_KEY": '{"k": 1}'}


def test_passthrough_must_be_a_mapping() -> None:
    with pytest.raises(ConfigurationError, match="storage_options"):
        build_storage_options("s3", extra={"storage_options": "oops"})


def test_redaction_hides_secrets_only() -> None:
    redacted = redact_options({"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "y",
                               "AZURE_STORAGE_SAS_TOKEN": "z", "AWS_REGION": "eu"})
    assert redacted == {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "***", "AWS_SESSION_TOKEN": "***",
                        "AZURE_STORAGE_SAS_TOKEN": "***", "AWS_REGION": "eu"}
    assert redact_uri("abfss://user:pw@acct.dfs.core.windows.net/t?sig=abc") == "abfss://acct.dfs.core.windows.net/t"
    assert redact_uri("/local/path") == "/local/path"


def test_remote_tables_get_bounded_waits_that_options_override() -> None:
    from airflow_provider_parity.delta.storage import BOUNDED_WAITS, with_bounded_waits

    assert with_bounded_waits("/data/t", {"x": "1"}) == {"x": "1"}
    assert with_bounded_waits("s3://b/t", None) == BOUNDED_WAITS
    assert with_bounded_waits("gs://b/t", {"timeout": "120s"})["timeout"] == "120s"


# object_store's error chain for a refused connection, as delta-rs raises it (colours stripped).
REFUSED = ("Kernel error -> Generic S3 error\n ↳ Error performing GET http://127.0.0.1:46649/bucket/t/_delta_log/"
           "_last_checkpoint in 2.2s, after 10 retries, max_retries\n ↳ 10, retry_timeout\n ↳ 180s - HTTP error\n"
           " ↳ error sending request\n ↳ client error (Connect)\n ↳ tcp connect error\n ↳ Connection refused (os error 111)")


def test_a_store_outage_is_one_line_naming_the_endpoint() -> None:
    from airflow_provider_parity.delta.storage import store_outage

    read = store_outage("s3://bucket/t?sig=secret", OSError(REFUSED))
    assert str(read) == ("object store http://127.0.0.1:46649 unreachable after retries (Connection refused) "
                         "for s3://bucket/t; nothing was changed")
    assert "no partial version is visible" in str(store_outage("s3://bucket/t", OSError(REFUSED), writing=True))
    assert store_outage("s3://bucket/t", OSError("Generic S3 error: Object at location t not found")) is None
    assert store_outage("/data/t", OSError(REFUSED)) is None
