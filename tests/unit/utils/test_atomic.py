"""Atomic writes: the target changes only when the block finishes; a failure leaves the previous version and no
temporary file; and no command writes over a file it reads."""

from __future__ import annotations

import pytest

from review_cls.errors import ConfigError
from review_cls.utils.atomic import atomic_dir, atomic_file, refuse_writing_over_inputs, same_file


def test_atomic_file_replaces_the_target_only_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_file(target) as temporary:
        assert temporary.parent == target.parent and temporary != target
        temporary.write_text("first")
        assert not target.exists()
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_file(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "first"
    assert sorted(path.name for path in target.parent.iterdir()) == ["out.txt"]


def test_atomic_dir_swaps_a_whole_folder_and_keeps_the_old_one_on_failure(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as folder:
        (folder / "a.txt").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as folder:
            (folder / "b.txt").write_text("2")
            raise RuntimeError("crash")
    assert sorted(path.name for path in target.iterdir()) == ["a.txt"]
    with atomic_dir(target) as folder:
        (folder / "c.txt").write_text("3")
    assert sorted(path.name for path in target.iterdir()) == ["c.txt"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_without_replace_refuses_a_non_empty_folder_before_any_work(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        with atomic_dir(target, replace=False):
            pytest.fail("the block must not run")
    assert (target / "keep.txt").read_text() == "mine"


def test_one_file_is_found_through_links_dot_dots_and_hard_links(tmp_path):
    source = tmp_path / "labeled.csv"
    source.write_text("text,label\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(source)
    (tmp_path / "hard.csv").hardlink_to(source)
    for name in ("labeled.csv", "link.csv", "hard.csv", "sub/../labeled.csv"):
        assert same_file(tmp_path / name, source), name
    assert not same_file(tmp_path / "new.csv", source)  # an output not written yet


def test_a_command_never_writes_over_or_into_the_place_of_a_file_it_reads(tmp_path):
    source = tmp_path / "pool.csv"
    source.write_text("review\n")
    read = {"input": source, "select.labeled": None}
    refuse_writing_over_inputs(read, [("output", tmp_path / "picks.csv")], [("output", tmp_path / "folder")])
    with pytest.raises(ConfigError, match=r"input='.*pool.csv' is the file written as '.*\.\./pool.csv' \(output\)"):
        refuse_writing_over_inputs(read, [("output", tmp_path / "x" / ".." / "pool.csv")])
    with pytest.raises(ConfigError, match=r"input='.*pool.csv' lies in '.*', a folder this command writes as a whole "
                                          r"\(where output puts it\)"):
        refuse_writing_over_inputs(read, [], [("output", tmp_path)])
