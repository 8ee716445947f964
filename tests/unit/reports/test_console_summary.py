"""The end-of-run panel must not turn a finished run into a failed one when nobody reads stdout any more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# prints a long panel into stdout, then proves it carried on by writing a file
CHILD = """
import sys
from pathlib import Path
from review_cls.reports.console_summary import print_summary
folder = Path(sys.argv[1])
facts = {f"fact {index}": "x" * 60 for index in range(2000)}
print_summary("review_cls.train: run finished", folder, facts, None, [], {})
print("after the panel")
(folder / "carried_on.txt").write_text("yes")
"""


def test_a_closed_stdout_pipe_drops_the_panel_and_the_command_carries_on(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before the panel is printed (`| head`, a parent that died)
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=120) == 0, stderr
    assert "BrokenPipeError" not in stderr
    assert (tmp_path / "carried_on.txt").read_text() == "yes"
