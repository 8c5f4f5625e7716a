"""The module berth.deploy.write_file (plugins/modules/write_file.py), run
by Ansible on this machine: it writes a file's content whole, with the mode
given, reports a change only when there is one, and in check mode writes
nothing but shows the difference."""

import hashlib
import stat

from run_module import run_module


def write(dest, content, *options, validate=None, directory_mode=None, rc=0):
    """Run the module once; return its result."""
    arguments = {"content": content, "dest": str(dest), "mode": "0640"}
    if validate:
        arguments["validate"] = validate
    if directory_mode:
        arguments["directory_mode"] = directory_mode
    return run_module("write_file", *options, rc=rc, **arguments)


def test_a_new_file_is_written_with_its_mode(tmp_path):
    dest = tmp_path / "history.json"
    result = write(dest, '{"live": null}\n')
    assert result["changed"]
    assert result["checksum"] == hashlib.sha1(b'{"live": null}\n').hexdigest()
    assert dest.read_text() == '{"live": null}\n'
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_the_same_content_is_no_change(tmp_path):
    dest = tmp_path / "history.json"
    write(dest, "one\n")
    inode = dest.stat().st_ino
    assert not write(dest, "one\n")["changed"]
    assert dest.stat().st_ino == inode


def test_new_content_replaces_the_file_whole(tmp_path):
    dest = tmp_path / "history.json"
    write(dest, "one\n")
    inode = dest.stat().st_ino
    assert write(dest, "two\n")["changed"]
    assert dest.read_text() == "two\n"
    # Renamed over it: a reader had the old file or the new one.
    assert dest.stat().st_ino != inode
    assert [path.name for path in tmp_path.iterdir()] == ["history.json"]


def test_a_mode_alone_is_a_change(tmp_path):
    dest = tmp_path / "history.json"
    dest.write_text("one\n")
    dest.chmod(0o600)
    assert write(dest, "one\n")["changed"]
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640


def test_check_mode_writes_nothing_and_shows_the_difference(tmp_path):
    dest = tmp_path / "history.json"
    write(dest, "one\n")
    result = write(dest, "two\n", "--check", "--diff")
    assert result["changed"]
    assert (result["diff"]["before"], result["diff"]["after"]) == ("one\n", "two\n")
    assert dest.read_text() == "one\n"
    assert write(tmp_path / "new.json", "one\n", "--check")["changed"]
    assert not (tmp_path / "new.json").exists()


# The command sees the new content, beside the file and with its mode, and
# its refusal leaves the file as it was.
def test_content_the_command_refuses_leaves_the_file_as_it_was(tmp_path):
    dest = tmp_path / "Caddyfile"
    write(dest, "good\n")
    check = 'sh -c \'stat -c %%a "$1" && grep -qx good "$1"\' check %s'
    assert not write(dest, "good\n", validate=check)["changed"]
    refused = write(dest, "bad\n", validate=check, rc=2)
    assert refused["failed"]
    assert refused["msg"] == "failed to validate: rc:1 error:640\n"
    assert dest.read_text() == "good\n"
    assert [path.name for path in tmp_path.iterdir()] == ["Caddyfile"]
    assert write(dest, "good\nmore\n", validate="grep -q good %s")["changed"]
    assert dest.read_text() == "good\nmore\n"


def test_its_directory_is_created_with_directory_mode_and_kept_so(tmp_path):
    dest = tmp_path / "instance" / "config.py"
    assert write(dest, "A = 1\n", directory_mode="0750")["changed"]
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o750
    assert dest.read_text() == "A = 1\n"
    assert not write(dest, "A = 1\n", directory_mode="0750")["changed"]
    # A directory whose mode drifted is put back, the file untouched.
    dest.parent.chmod(0o755)
    assert write(dest, "A = 1\n", directory_mode="0750")["changed"]
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o750


def test_check_mode_creates_no_directory(tmp_path):
    dest = tmp_path / "proxy" / "Caddyfile"
    assert write(dest, "x\n", "--check", directory_mode="0755")["changed"]
    assert not dest.parent.exists()
