"""Local sources: a folder (or its one subfolder) of the nine files, or a zip of them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import EXIT_USAGE, SourceError, UsageError
from olist_cli.sources.local import resolve_local_source

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
NAMES = [s.file_name for s in SOURCE_FILES]


def make_zip(
    path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED
) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def nine(prefix: str = "") -> dict[str, bytes]:
    return {prefix + name: (FIXTURES / name).read_bytes() for name in NAMES}


def assert_same_files(folder: Path) -> None:
    for name in NAMES:
        assert (folder / name).read_bytes() == (FIXTURES / name).read_bytes(), name


# -- folders ----------------------------------------------------------------------------


def test_a_folder_with_the_nine_files_is_used_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "olist"
    shutil.copytree(FIXTURES, folder)

    assert resolve_local_source(folder, tmp_path / "work") == folder
    assert not (tmp_path / "work").exists()


def test_the_files_may_sit_in_one_subfolder(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "download" / "archive")

    assert resolve_local_source(tmp_path / "download", tmp_path / "work") == (
        tmp_path / "download" / "archive"
    )


def test_a_missing_file_is_named_with_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "olist"
    shutil.copytree(FIXTURES, folder)
    (folder / "olist_sellers_dataset.csv").unlink()
    (folder / "olist_geolocation_dataset.csv").unlink()

    with pytest.raises(SourceError) as caught:
        resolve_local_source(folder, tmp_path / "work")

    assert str(caught.value) == (
        f"{folder}: missing olist_sellers_dataset.csv, olist_geolocation_dataset.csv "
        "(the 9 Olist CSV files must be in the folder itself or in one subfolder)"
    )


def test_files_missing_from_a_subfolder_name_that_subfolder(tmp_path: Path) -> None:
    inner = tmp_path / "download" / "archive"
    shutil.copytree(FIXTURES, inner)
    (inner / "olist_orders_dataset.csv").unlink()

    with pytest.raises(SourceError, match=r"missing olist_orders_dataset\.csv \(in .*archive\)"):
        resolve_local_source(tmp_path / "download", tmp_path / "work")


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_local_source(tmp_path / "nowhere", tmp_path / "work")

    assert caught.value.exit_code == EXIT_USAGE
    assert str(tmp_path / "nowhere") in str(caught.value)


def test_a_file_that_is_not_a_zip_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="neither a folder nor a .zip"):
        resolve_local_source(FIXTURES / "olist_orders_dataset.csv", tmp_path / "work")


# -- zips -------------------------------------------------------------------------------


def test_a_zip_is_unpacked_into_the_work_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine() | {"README.txt": b"not ours"})
    work = tmp_path / "data" / "raw"

    assert resolve_local_source(archive, work) == work

    assert_same_files(work)  # byte for byte: BOM, CRLF and all
    assert sorted(p.name for p in work.iterdir()) == sorted(NAMES)  # only the nine
    assert [p.name for p in work.parent.iterdir()] == ["raw"]  # no staging folder left


def test_a_zip_with_the_files_in_a_nested_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine("brazilian-ecommerce/"))
    work = tmp_path / "work"

    assert resolve_local_source(archive, work) == work
    assert_same_files(work)
    assert not (work / "brazilian-ecommerce").exists()


def test_unpacking_again_replaces_the_nine_files_and_keeps_others(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "olist_orders_dataset.csv").write_bytes(b"stale")
    (work / "notes.txt").write_bytes(b"mine")
    archive = make_zip(tmp_path / "olist.zip", nine())

    resolve_local_source(archive, work)

    assert_same_files(work)
    assert (work / "notes.txt").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["olist.zip", "work"]


def test_a_zip_missing_a_file_names_it_and_unpacks_nothing(tmp_path: Path) -> None:
    members = nine()
    del members["olist_order_payments_dataset.csv"]
    archive = make_zip(tmp_path / "olist.zip", members)
    work = tmp_path / "work"

    with pytest.raises(SourceError) as caught:
        resolve_local_source(archive, work)

    assert str(caught.value) == (
        f"{archive}: missing olist_order_payments_dataset.csv "
        "(the 9 Olist CSV files must be in the folder itself or in one subfolder)"
    )
    assert not work.exists()


def test_path_traversal_members_are_never_written(tmp_path: Path) -> None:
    outside = tmp_path / "evil.txt"
    members = nine() | {"../evil.txt": b"x", "/tmp/evil.txt": b"x", "a/../../evil.txt": b"x"}
    (tmp_path / "in").mkdir()
    archive = make_zip(tmp_path / "in" / "olist.zip", members)
    work = tmp_path / "in" / "work"

    resolve_local_source(archive, work)

    assert not outside.exists()
    assert not (tmp_path / "in" / "evil.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == sorted(NAMES)


def test_an_expected_file_behind_a_traversal_path_is_refused(tmp_path: Path) -> None:
    members = nine()
    members["../olist_orders_dataset.csv"] = members.pop("olist_orders_dataset.csv")
    archive = make_zip(tmp_path / "olist.zip", members)

    with pytest.raises(SourceError, match=r"refusing member '\.\./olist_orders_dataset\.csv'"):
        resolve_local_source(archive, tmp_path / "work")

    assert not (tmp_path / "olist_orders_dataset.csv").exists()
    assert not (tmp_path / "work").exists()


def test_a_corrupt_zip_is_a_source_error(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine(), zipfile.ZIP_STORED)
    data = archive.read_bytes()
    archive.write_bytes(data.replace(b"delivered", b"delivereD", 1))  # the CRC no longer matches

    with pytest.raises(SourceError, match=r"olist\.zip: cannot unpack"):
        resolve_local_source(archive, tmp_path / "work")

    assert not (tmp_path / "work").exists()
