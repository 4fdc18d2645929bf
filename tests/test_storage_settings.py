"""Choosing the photo store: WALKAROUND_STORAGE and WALKAROUND_S3_*, refused at start-up when
they cannot work, with what to change; /healthz says whether the bucket answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.services.storage.configured import open_store
from app.services.storage.local import LocalStore
from app.services.storage.s3 import S3Store
from app.settings import SettingsError, from_env
from tests.conftest import on_s3, settings_on_each_store

fx_settings = pytest.fixture(name="settings", params=["s3"])(settings_on_each_store)


def test_the_folder_is_the_default_and_s3_is_one_setting_away(tmp_path: Path) -> None:
    default = from_env({"WALKAROUND_DATA_DIR": str(tmp_path)})
    assert default.storage == "local"
    assert isinstance(open_store(default), LocalStore)

    s3 = from_env({
        "WALKAROUND_DATA_DIR": str(tmp_path), "WALKAROUND_STORAGE": "S3",
        "WALKAROUND_S3_BUCKET": "dealer-photos",
        "WALKAROUND_S3_ENDPOINT_URL": "https://oss-cn-shanghai.aliyuncs.com",
        "WALKAROUND_S3_REGION": "cn-shanghai", "WALKAROUND_S3_PREFIX": "/shop-1/",
        "WALKAROUND_S3_ADDRESSING": "virtual",
    })  # fmt: skip
    store = open_store(s3)
    assert isinstance(store, S3Store)
    assert store.describe() == "s3://dealer-photos/shop-1/"
    assert store.client.meta.endpoint_url == "https://oss-cn-shanghai.aliyuncs.com"
    assert store.client.meta.region_name == "cn-shanghai"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WALKAROUND_STORAGE": "nfs"}, "use local or s3"),
        ({"WALKAROUND_STORAGE": "s3"}, "needs the name of an existing private bucket"),
        ({"WALKAROUND_STORAGE": "s3", "WALKAROUND_S3_BUCKET": "Photos_Bucket"}, "bucket"),
        (
            {"WALKAROUND_STORAGE": "s3", "WALKAROUND_S3_BUCKET": "photos",
             "WALKAROUND_S3_ENDPOINT_URL": "minio.local:9000"},
            "not an http",
        ),
        (
            {"WALKAROUND_STORAGE": "s3", "WALKAROUND_S3_BUCKET": "photos",
             "WALKAROUND_S3_ADDRESSING": "dns"},
            "auto, path or virtual",
        ),
        (
            {"WALKAROUND_STORAGE": "s3", "WALKAROUND_S3_BUCKET": "photos",
             "WALKAROUND_S3_PREFIX": "a/../b"},
            "plain path",
        ),
    ],
)  # fmt: skip
def test_a_store_setting_that_cannot_work_stops_start_up(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        from_env({"WALKAROUND_DATA_DIR": str(tmp_path), **environ})


def _serve(settings, monkeypatch, **overrides: str):  # type: ignore[no-untyped-def]
    environ = {
        "WALKAROUND_DATA_DIR": str(settings.data_dir),
        "WALKAROUND_DATABASE_URL": settings.database_url,
        "WALKAROUND_STORAGE": "s3",
        "WALKAROUND_S3_BUCKET": settings.s3_bucket,
        "WALKAROUND_S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "WALKAROUND_S3_REGION": "us-east-1",
        "WALKAROUND_S3_ADDRESSING": "path",
        **overrides,
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(cli, ["serve", "--port", "9"])


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"WALKAROUND_S3_BUCKET": "no-such-bucket"}, "the bucket does not exist"),
        ({"WALKAROUND_S3_ENDPOINT_URL": "http://127.0.0.1:9"}, "cannot reach"),
    ],
)
def test_serve_stops_before_serving_when_the_bucket_cannot_take_photos(
    settings, monkeypatch, overrides: dict[str, str], says: str
) -> None:
    refused = _serve(settings, monkeypatch, **overrides)
    assert refused.exit_code == 1, refused.output
    assert "WALKAROUND_STORAGE=s3" in refused.output
    assert says in refused.output


def test_serve_says_where_credentials_go_when_there_are_none(settings, monkeypatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(settings.data_dir / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(settings.data_dir / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    refused = _serve(settings, monkeypatch)
    assert refused.exit_code == 1, refused.output
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in refused.output


def test_the_start_up_check_passes_on_a_bucket_that_takes_a_write(settings) -> None:
    open_store(settings).verify()  # raises when it cannot
    assert list(open_store(settings).files()) == []  # its probe is no photo


async def test_health_says_the_bucket_answers_and_when_it_does_not(
    client, settings, s3_endpoint
) -> None:
    answered = await client.get("/healthz")
    assert answered.status_code == 200
    assert answered.json()["photos"] == {"ok": True, "detail": "bucket reachable"}

    gone = on_s3(settings, s3_endpoint)
    open_store(gone).client.delete_bucket(Bucket=gone.s3_bucket)
    ok, detail = open_store(gone).check()
    assert (ok, detail) == (False, "404")
