"""The container image: built from this checkout by scripts/build-image.sh, then run.

No image registry is reachable here and `podman run` does not work, so the image is run as a
runtime would run it: a container made from the image (`buildah from`) runs its configured
entry point, as its configured user, in its working folder, with `buildah run --isolation
chroot`. Slow the first time (a Debian base made with mmdebstrap, the dependencies from the
package index: about 1.5 minutes); the script caches the base and buildah the layers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import WAREHOUSE, WAREHOUSE_TABLES

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "build-image.sh"
TAG = "localhost/olist:pytest"
EX_UNAVAILABLE = 69  # the script's word for "buildah or mmdebstrap cannot be had here"
MAX_IMAGE_BYTES = 600_000_000  # uncompressed; it is about 490 MB


def buildah(*args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"buildah {' '.join(args)}: {done.stderr.strip()}"
    return done.stdout


@pytest.fixture(scope="module")
def image() -> dict[str, Any]:
    """The image built by the project's script; its OCI config."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("the image build needs root on Linux (buildah --isolation chroot)")
    done = subprocess.run(
        ["bash", str(SCRIPT), "--tag", TAG],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    if done.returncode == EX_UNAVAILABLE:
        pytest.skip(f"cannot build the image here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stderr.strip().splitlines()[-1])  # "built ... in Ns: SIZE", for -s
    return dict(json.loads(buildah("inspect", "--type", "image", TAG))["OCIv1"])


@contextmanager
def container() -> Iterator[tuple[str, Path]]:
    """A working container of the image, and its root filesystem (mounted)."""
    name = buildah("from", "--pull=never", TAG).strip()
    try:
        yield name, Path(buildah("mount", name).strip())
    finally:
        buildah("rm", name)


def run(name: str, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """What a runtime does: the entry point with ``args``, as the image's user, in its
    working folder, with its environment."""
    return subprocess.run(
        [
            "buildah",
            "run",
            "--isolation",
            "chroot",
            "--user",
            config["User"],
            "--workingdir",
            config["WorkingDir"],
            name,
            "--",
            *config["Entrypoint"],
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_olist_is_the_entry_point_run_as_a_non_root_user(image: dict[str, Any]) -> None:
    config = image["config"]
    assert config["Entrypoint"] == ["/opt/olist/bin/olist"]
    user, _, group = config["User"].partition(":")
    assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
    with container() as (name, root):
        passwd = (root / "etc" / "passwd").read_text(encoding="utf-8")
        assert f"olist:x:{user}:{group}:" in passwd  # a name and a home for the uid
        done = run(name, config, *config["Cmd"])  # no arguments: the default command
        assert done.returncode == 0, done.stderr
        assert "Usage: olist" in done.stdout and "run-all" in done.stdout


def test_the_sample_pipeline_runs_inside_the_image(image: dict[str, Any]) -> None:
    config = image["config"]
    with container() as (name, root):
        done = run(name, config, "run-all", "--scale", "0.01")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        work = root / config["WorkingDir"].lstrip("/")
        database = work / "data" / "olist.duckdb"
        assert database.stat().st_uid == int(config["User"].split(":")[0])  # not root's
        with duckdb.connect(str(database), read_only=True) as con:
            for table in WAREHOUSE_TABLES:
                [(rows,)] = con.sql(f"select count(*) from {WAREHOUSE}.{table}").fetchall()
                assert rows > 0, table
            [(status,)] = con.sql(
                "select status from staging._run_results where kind = 'run'"
            ).fetchall()
        assert status == "success"
        results = json.loads((work / "target" / "run_results.json").read_text())
        assert results["status"] == "success" and results["exit_code"] == 0


def test_the_image_is_small_and_holds_no_build_leftovers(image: dict[str, Any]) -> None:
    with container() as (_, root):
        size = sum(entry.lstat().st_size for entry in root.rglob("*") if not entry.is_symlink())
        assert size < MAX_IMAGE_BYTES, f"{size / 1e6:.0f} MB"
        site = root / "opt" / "olist" / "lib" / "python3.11" / "site-packages"
        assert (site / "olist_cli").is_dir() and (site / "duckdb").is_dir()
        assert (site / "google" / "cloud" / "bigquery").is_dir()  # the gcp extra
        assert (site / "google" / "cloud" / "storage").is_dir()
        assert (site / "kaggle").is_dir()  # the kaggle extra
        assert not (site / "pip").exists() and not (site / "pandas" / "tests").exists()
        assert not (root / "src").exists()  # the build's copy of the sources
        assert not (root / "run" / "olist-build" / "ca.crt").exists()  # the build's CA
        assert not (root / "usr" / "bin" / "apt-get").exists()  # no package manager
        assert (root / "opt" / "olist" / "share" / "olist" / "sql" / "warehouse").is_dir()
