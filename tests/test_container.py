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
import re
import shlex
import subprocess
import sys
import tomllib
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


# -- docs/deploy.md: every command that can be checked here ------------------------------
# (These need no image: they read the page, the Containerfile, the script and olist --help.)

DOC = REPO / "docs" / "deploy.md"
CONTAINERFILE = REPO / "Containerfile"
# What olist reads besides its OLIST_* settings: the Kaggle client's and Google's variables.
OTHER_VARIABLES = {
    "KAGGLE_USERNAME",
    "KAGGLE_KEY",
    "KAGGLE_CONFIG_DIR",
    "GOOGLE_APPLICATION_CREDENTIALS",
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def shell_commands(script: str) -> list[list[str]]:
    """Each simple command of a shell script, as words (continuations joined, comments off)."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        current: list[str] = []
        for word in [*shlex.split(line, comments=True), ";"]:
            word = word.lstrip("(") if not current else word
            if word in {"|", "&&", ";", "do", "done"} or word.endswith((";", ")")):
                if word not in {"|", "&&", ";", "do", "done"}:
                    current.append(word.rstrip(";)"))
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(word)
    return commands


def all_shell_commands() -> list[list[str]]:
    found = [c for block in blocks("bash") for c in shell_commands(block)]
    for workflow in workflows():
        for job in workflow["jobs"].values():
            found += [c for s in job["steps"] if "run" in s for c in shell_commands(s["run"])]
    return found


def commands_of(program: str, *subcommand: str) -> list[list[str]]:
    n = len(subcommand)
    return [c for c in all_shell_commands() if c[0] == program and c[1 : 1 + n] == [*subcommand]]


def option(command: list[str], name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` in a command's words."""
    for i, word in enumerate(command):
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
        if word == name:
            return command[i + 1]
    return None


def yaml_documents() -> list[Any]:
    import yaml

    return [yaml.safe_load(block) for block in blocks("yaml")]


def cronjob() -> dict[str, Any]:
    [found] = [d for d in yaml_documents() if d.get("kind") == "CronJob"]
    return dict(found)


def cronjob_container() -> dict[str, Any]:
    [container] = cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return dict(container)


def workflows() -> list[dict[str, Any]]:
    return [d for d in yaml_documents() if "jobs" in d]


def docker_runs() -> list[list[str]]:
    return commands_of("docker", "run")


def after_image(command: list[str], image: str) -> list[str]:
    return command[command.index(image) + 1 :]


def containerfile_instruction(name: str) -> str:
    [line] = [x for x in CONTAINERFILE.read_text().splitlines() if x.startswith(f"{name} ")]
    return line.split(" ", 1)[1]


def olist_invocations() -> list[list[str]]:
    """Every argument list the page gives the image's entry point."""
    [create] = commands_of("gcloud", "run", "jobs", "create")
    found = [option(create, "--args").split(",")]  # type: ignore[union-attr]
    found.append(cronjob_container()["args"])
    for run in docker_runs():
        found.append(after_image(run, "$IMAGE"))
    for run in commands_of("podman", "run"):
        found.append(after_image(run, script_default_tag()))
    return found


def script_default_tag() -> str:
    [tag] = re.findall(r'^TAG="([^"]+)"$', SCRIPT.read_text(), re.M)
    return tag


def help_of(*command: str) -> str:
    from typer.testing import CliRunner

    from olist_cli.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"olist {' '.join(command)} --help: {result.output}"
    return result.output


def test_the_page_builds_the_image_with_the_script_and_runs_what_it_built() -> None:
    tag = script_default_tag()
    assert tag == "localhost/olist:latest"
    [build] = commands_of("scripts/build-image.sh")
    script_help = subprocess.run(
        ["bash", str(SCRIPT), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert all(word in script_help for word in build[1:] if word.startswith("--"))
    assert option(build, "--tag") == tag
    [push] = commands_of("buildah", "push")
    assert push[2:] == [tag, "docker://$IMAGE"]
    assert [run[3] for run in commands_of("podman", "run")] == [tag]


def test_the_image_name_is_one_and_names_the_package_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    [exported] = re.findall(r'^export IMAGE="([^"]+)"$', "\n".join(blocks("bash")), re.M)
    assert exported == f"$REGION-docker.pkg.dev/$PROJECT/olist/olist:{version}"
    tail = f"-docker.pkg.dev/my-project/olist/olist:{version}"
    assert cronjob_container()["image"] == f"europe-west1{tail}"
    [workflow] = workflows()
    assert workflow["jobs"]["run-all"]["env"]["IMAGE"] == f"europe-west1{tail}"
    [create] = commands_of("gcloud", "run", "jobs", "create")
    assert option(create, "--image") == "$IMAGE"


def test_every_runner_uses_the_image_entry_point_and_user() -> None:
    entrypoint = json.loads(containerfile_instruction("ENTRYPOINT"))
    user = containerfile_instruction("USER")
    assert entrypoint == ["/opt/olist/bin/olist"]
    page = DOC.read_text(encoding="utf-8")
    assert f"`{entrypoint[0]}`" in page and f"`{user}`" in page
    [create] = commands_of("gcloud", "run", "jobs", "create")
    assert option(create, "--command") is None  # the entry point stays olist
    assert "command" not in cronjob_container()
    assert all("--entrypoint" not in run for run in docker_runs())
    security = cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]
    assert f"{security['runAsUser']}:{security['runAsGroup']}" == user
    assert security["runAsNonRoot"] is True
    [chown] = commands_of("sudo", "chown")  # the files the image's user must own
    assert user in chown


def test_every_olist_option_on_the_page_is_one_olist_has() -> None:
    invocations = olist_invocations()
    assert len(invocations) == 4  # Cloud Run, the CronJob, GitHub Actions, podman
    commands = {"download", "archive", "load", "transform", "test", "run-all", "status"}
    top = help_of()
    for args in invocations:
        [command] = [a for a in args if a in commands]
        at = args.index(command)
        for word in args[:at]:
            assert not word.startswith("--") or word in top, (word, args)
        assert option(args[:at], "--log-format") in (None, "text", "json")
        options = help_of(command)
        for word in args[at + 1 :]:
            assert not word.startswith("-") or word.split("=")[0] in options, (word, args)
        if option(args, "--source") is not None:
            assert option(args, "--source") in ("sample", "kaggle")


def test_every_environment_variable_on_the_page_is_read_by_olist() -> None:
    from olist_cli.settings import Settings

    settings = {f"OLIST_{name.upper()}" for name in Settings.model_fields}
    sources = "\n".join(p.read_text() for p in (REPO / "src" / "olist_cli").rglob("*.py"))
    assert all(name in sources for name in OTHER_VARIABLES)  # olist reads each of these
    readable = settings | OTHER_VARIABLES
    build_script = set(re.findall(r"\b(OLIST_[A-Z_]+)\b", SCRIPT.read_text()))

    # What the runners set for the container...
    set_here: set[str] = set()
    [create] = commands_of("gcloud", "run", "jobs", "create")
    for pair in option(create, "--set-env-vars").split(","):  # type: ignore[union-attr]
        set_here.add(pair.split("=")[0])
    for pair in option(create, "--set-secrets").split(","):  # type: ignore[union-attr]
        set_here.add(pair.split("=")[0])
    set_here |= {env["name"] for env in cronjob_container()["env"]}
    for run in docker_runs():
        set_here |= {run[i + 1].split("=")[0] for i, w in enumerate(run) if w == "-e"}
    assert len(set_here) >= 12 and set_here <= readable, set_here - readable
    # ...and every such name the page mentions anywhere, prose included.
    mentioned = set(re.findall(r"\b((?:OLIST|KAGGLE)_[A-Z_]+)\b", DOC.read_text()))
    assert mentioned <= readable | build_script, mentioned - readable - build_script


def test_the_log_queries_use_labels_olist_writes() -> None:
    from olist_cli.console import LABELS, Reporter

    reporter = Reporter(style="json")
    reporter.bind(run_id="r", command="run-all")
    labels = reporter.record("load", "m", level="info")[LABELS]
    page = DOC.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!resource\.)\blabels\.(\w+)=", page))
    assert used and used <= labels.keys()
    [policy] = [d for d in yaml_documents() if "conditions" in d]
    log_filter = policy["conditions"][0]["conditionMatchedLog"]["filter"]
    assert "severity>=ERROR" in log_filter and 'resource.type="cloud_run_job"' in log_filter
    assert policy["alertStrategy"]["notificationRateLimit"]["period"]


def test_the_service_account_gets_the_readmes_roles_and_no_admin_role() -> None:
    granted = {option(c, "--role") for c in all_shell_commands() if option(c, "--role")}
    assert granted == {
        "roles/bigquery.dataEditor",  # the README's least privilege...
        "roles/bigquery.jobUser",
        "roles/storage.objectAdmin",  # ...on the archive bucket only
        "roles/secretmanager.secretAccessor",  # on its secrets only
        "roles/run.invoker",  # the scheduler's, on the job only
        "roles/iam.workloadIdentityUser",  # GKE's pod identity
    }
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for role in ("BigQuery Data Editor", "BigQuery Job User", "Storage Object Admin"):
        assert role in readme and role in DOC.read_text(encoding="utf-8")
