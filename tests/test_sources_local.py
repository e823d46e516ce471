"""Local sources: a folder (or its one subfolder) of the nine files, or a zip of them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import EXIT_USAGE, SourceError, UsageError
from olist_cli.settings import load_settings
from olist_cli.sources.local import ZipCaps, resolve_local_source

FIXTURES = Path(__file__).parent / "fixtures" / "raw"
NAMES = [s.file_name for s in SOURCE_FILES]
CAPS = ZipCaps.of(load_settings())  # the defaults


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

    assert resolve_local_source(folder, tmp_path / "work", CAPS) == folder
    assert not (tmp_path / "work").exists()


def test_the_files_may_sit_in_one_subfolder(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "download" / "archive")

    assert resolve_local_source(tmp_path / "download", tmp_path / "work", CAPS) == (
        tmp_path / "download" / "archive"
    )


def test_a_missing_file_is_named_with_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "olist"
    shutil.copytree(FIXTURES, folder)
    (folder / "olist_sellers_dataset.csv").unlink()
    (folder / "olist_geolocation_dataset.csv").unlink()

    with pytest.raises(SourceError) as caught:
        resolve_local_source(folder, tmp_path / "work", CAPS)

    assert str(caught.value) == (
        f"{folder}: missing olist_sellers_dataset.csv, olist_geolocation_dataset.csv "
        "(the 9 Olist CSV files must be in the folder itself or in one subfolder)"
    )


def test_files_missing_from_a_subfolder_name_that_subfolder(tmp_path: Path) -> None:
    inner = tmp_path / "download" / "archive"
    shutil.copytree(FIXTURES, inner)
    (inner / "olist_orders_dataset.csv").unlink()

    with pytest.raises(SourceError, match=r"missing olist_orders_dataset\.csv \(in .*archive\)"):
        resolve_local_source(tmp_path / "download", tmp_path / "work", CAPS)


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_local_source(tmp_path / "nowhere", tmp_path / "work", CAPS)

    assert caught.value.exit_code == EXIT_USAGE
    assert str(tmp_path / "nowhere") in str(caught.value)


def test_a_file_that_is_not_a_zip_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="neither a folder nor a .zip"):
        resolve_local_source(FIXTURES / "olist_orders_dataset.csv", tmp_path / "work", CAPS)


# -- zips -------------------------------------------------------------------------------


def test_a_zip_is_unpacked_into_the_work_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine() | {"README.txt": b"not ours"})
    work = tmp_path / "data" / "raw"

    assert resolve_local_source(archive, work, CAPS) == work

    assert_same_files(work)  # byte for byte: BOM, CRLF and all
    assert sorted(p.name for p in work.iterdir()) == sorted(NAMES)  # only the nine
    assert [p.name for p in work.parent.iterdir()] == ["raw"]  # no staging folder left


def test_a_zip_with_the_files_in_a_nested_folder(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine("brazilian-ecommerce/"))
    work = tmp_path / "work"

    assert resolve_local_source(archive, work, CAPS) == work
    assert_same_files(work)
    assert not (work / "brazilian-ecommerce").exists()


def test_unpacking_again_replaces_the_nine_files_and_keeps_others(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "olist_orders_dataset.csv").write_bytes(b"stale")
    (work / "notes.txt").write_bytes(b"mine")
    archive = make_zip(tmp_path / "olist.zip", nine())

    resolve_local_source(archive, work, CAPS)

    assert_same_files(work)
    assert (work / "notes.txt").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["olist.zip", "work"]


def test_a_zip_missing_a_file_names_it_and_unpacks_nothing(tmp_path: Path) -> None:
    members = nine()
    del members["olist_order_payments_dataset.csv"]
    archive = make_zip(tmp_path / "olist.zip", members)
    work = tmp_path / "work"

    with pytest.raises(SourceError) as caught:
        resolve_local_source(archive, work, CAPS)

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

    resolve_local_source(archive, work, CAPS)

    assert not outside.exists()
    assert not (tmp_path / "in" / "evil.txt").exists()
    assert sorted(p.name for p in work.iterdir()) == sorted(NAMES)


def test_an_expected_file_behind_a_traversal_path_is_refused(tmp_path: Path) -> None:
    members = nine()
    members["../olist_orders_dataset.csv"] = members.pop("olist_orders_dataset.csv")
    archive = make_zip(tmp_path / "olist.zip", members)

    with pytest.raises(SourceError, match=r"refusing member '\.\./olist_orders_dataset\.csv'"):
        resolve_local_source(archive, tmp_path / "work", CAPS)

    assert not (tmp_path / "olist_orders_dataset.csv").exists()
    assert not (tmp_path / "work").exists()


def test_a_corrupt_zip_is_a_source_error(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine(), zipfile.ZIP_STORED)
    data = archive.read_bytes()
    archive.write_bytes(data.replace(b"delivered", b"delivereD", 1))  # the CRC no longer matches

    with pytest.raises(SourceError, match=r"olist\.zip: cannot unpack"):
        resolve_local_source(archive, tmp_path / "work", CAPS)

    assert not (tmp_path / "work").exists()


# -- caps on what a zip may hold ------------------------------------------------------------


def test_a_zip_holding_a_1_gb_entry_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """It used to be unpacked to disk, all of it (the cap was 2 GiB)."""
    archive = tmp_path / "olist.zip"
    members = nine()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in members.items():
            if name != "olist_orders_dataset.csv":
                zf.writestr(name, data)
        with zf.open("olist_orders_dataset.csv", "w", force_zip64=True) as entry:
            entry.write(members["olist_orders_dataset.csv"])
            for _ in range(1024):
                entry.write(b"\n" * 2**20)  # 1 GiB, a 5 MB zip
    work = tmp_path / "data" / "raw"

    with pytest.raises(SourceError) as caught:
        resolve_local_source(archive, work, CAPS)

    assert str(caught.value) == (
        f"{archive}: entry 'olist_orders_dataset.csv' declares 1,073,742,818 bytes, more than "
        "OLIST_ZIP_MAX_ENTRY_BYTES=536,870,912; refusing to unpack it"
    )
    assert not (tmp_path / "data").exists()  # no staging folder was even made


def test_the_caps_are_settings(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "olist.zip", nine() | {"a.txt": b"", "b.txt": b""})  # 11

    with pytest.raises(SourceError, match=r"11 entries, more than OLIST_ZIP_MAX_ENTRIES=10;"):
        resolve_local_source(archive, tmp_path / "work", ZipCaps(10**9, 10))
    with pytest.raises(SourceError, match=r"entry 'olist_orders_dataset.csv' declares 994 bytes"):
        resolve_local_source(archive, tmp_path / "work", ZipCaps(900, 11))
    assert not (tmp_path / "work").exists()

    settings = load_settings(zip_max_entry_bytes=900, zip_max_entries=11)
    assert ZipCaps.of(settings) == ZipCaps(900, 11)
    # At the cap is within it: the largest entry is the translation file, 2,613 bytes.
    assert resolve_local_source(archive, tmp_path / "work", ZipCaps(2613, 11)) == tmp_path / "work"


def test_an_entry_holding_more_than_it_declares_is_never_written_past_it(tmp_path: Path) -> None:
    """The central directory says 10 bytes; the entry holds 994. Nothing past the declared
    size is read, and the file fails its CRC: nothing is installed."""
    archive = make_zip(tmp_path / "olist.zip", nine(), zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    name = b"olist_orders_dataset.csv"
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:  # the entry's central header
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")  # its uncompressed size
    archive.write_bytes(bytes(data))
    work = tmp_path / "work"

    with pytest.raises(SourceError) as caught:
        resolve_local_source(archive, work, CAPS)

    assert str(caught.value) == (
        f"{archive}: cannot unpack: Bad CRC-32 for file 'olist_orders_dataset.csv'"
    )
    assert not work.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["olist.zip"]
