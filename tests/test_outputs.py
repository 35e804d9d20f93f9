"""Output files of the commands: checked before work starts, written whole or not at all, and
Ctrl-C held back while a finished result is written."""

import os
import signal
import time

import pytest

from taichi_sdf.app.outputs import Outputs
from taichi_sdf.app.running import OutputError, UsageError
from taichi_sdf.app.start import interrupts_held


def test_an_output_that_is_a_folder_or_an_input_is_refused(tmp_path):
    (tmp_path / "render.png").mkdir()
    with pytest.raises(UsageError, match="render.png: is a folder"):
        Outputs([tmp_path / "render.png"])
    source = tmp_path / "params.npz"
    source.write_bytes(b"mine")
    with pytest.raises(UsageError, match="is also an input"):
        Outputs([tmp_path / "." / "params.npz"], inputs=[source])
    (tmp_path / "link.npz").symlink_to(source)
    with pytest.raises(UsageError, match="is also an input"):
        Outputs([tmp_path / "link.npz"], inputs=[source])
    assert source.read_bytes() == b"mine"


def test_an_output_whose_folder_is_missing_or_a_file_is_refused(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        Outputs([tmp_path / "nowhere" / "x.png"])
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is not a folder"):
        Outputs([tmp_path / "file" / "x.png"])


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    path = tmp_path / "params.npz"
    path.write_bytes(b"the last good result")
    outputs = Outputs([path])

    def half_then_fail(temporary):
        temporary.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="params.npz: could not be written \\(No space left on device\\)"):
        outputs.write(path, half_then_fail)
    assert path.read_bytes() == b"the last good result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.npz"]
    assert outputs.summary() == "nothing written"


def test_writes_go_whole_to_the_path_asked_and_are_recorded(tmp_path):
    outputs = Outputs([tmp_path / "a.txt", tmp_path / "b.png"])
    outputs.write(tmp_path / "a.txt", lambda path: path.write_text("A"))
    outputs.write(tmp_path / "b.png", lambda path: path.write_text(path.suffix))  # the suffix is kept
    assert (tmp_path / "a.txt").read_text() == "A" and (tmp_path / "b.png").read_text() == ".png"
    assert outputs.summary() == f"wrote a.txt, b.png in {tmp_path}/"
    with pytest.raises(ValueError, match="not one of the planned outputs"):
        outputs.write(tmp_path / "c.txt", lambda path: path.write_text("C"))


def test_a_full_device_is_one_line():
    outputs = Outputs(["/dev/full"])
    with pytest.raises(OutputError, match="/dev/full: could not be written"):
        outputs.write("/dev/full", lambda path: open(path, "w").write("x" * 100_000))
    assert os.path.exists("/dev/full")  # written in place, never replaced


def test_ctrl_c_is_held_while_results_are_written():
    with interrupts_held() as interrupts:
        os.kill(os.getpid(), signal.SIGINT)
        done = True  # reached: the signal did not raise KeyboardInterrupt here
    assert done and interrupts.pressed
    with pytest.raises(KeyboardInterrupt):  # and the usual handler is back
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1.0)
