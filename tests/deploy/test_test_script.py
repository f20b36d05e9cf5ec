"""scripts/test.sh stops everything it started however it ends.

The real script runs in a scratch copy of the repository whose steps are stand-ins: `cargo`
(on PATH) and the tools installer start children and wait; the emulators' up.sh starts a
"server" and then fails (an early failure) or hangs (then the script gets SIGTERM). Every
process any of them started must be gone soon after the script exits.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT

# A stand-in step: records its pid and a child's, then waits (or does what $1 says).
STEP = """#!/usr/bin/env bash
echo $$ >> "$FAKE_PIDS/pids"
sleep 300 & echo $! >> "$FAKE_PIDS/pids"
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def run(tmp_path):
    """A scratch repository to run test.sh in; whatever the test's outcome, nothing it
    started is left running."""
    r = scratch_repo(tmp_path)
    yield r
    for pid in started(r):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def scratch_repo(tmp: Path) -> dict:
    """A copy of scripts/test.sh with stand-in steps; returns the environment to run it in."""
    repo = tmp / "repo"
    write(repo / "scripts/test.sh", (ROOT / "scripts/test.sh").read_text())
    write(repo / "scripts/emulators/down.sh", (ROOT / "scripts/emulators/down.sh").read_text())
    bin_dir = tmp / "bin"
    # The oracle: installed at once; its python answers the site-packages question.
    write(repo / "scripts/oracle/up.sh", f'#!/usr/bin/env bash\necho "{bin_dir}"\n')
    write(bin_dir / "python", "#!/usr/bin/env bash\necho /nowhere\n")
    write(bin_dir / "cargo", STEP + "wait\n")
    write(repo / "scripts/tools/up.sh", STEP + "wait\n")
    write(repo / "scripts/emulators/up.sh", STEP + """
state="$1"
sleep 300 & echo $! > "$state/gcs.pid"; echo $! >> "$FAKE_PIDS/pids"
echo up >> "$FAKE_PIDS/emulators"
if [ "$FAKE_EMULATORS" = fail ]; then sleep 1; echo "up.sh: failed on purpose" >&2; exit 1; fi
wait
""")
    pids = tmp / "pids"
    pids.mkdir()
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_PIDS=str(pids), TMPDIR=str(tmp))
    env.pop("CARGO_TARGET_DIR", None)
    return {"script": repo / "scripts/test.sh", "env": env, "pids": pids}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped


def started(run: dict) -> list[int]:
    f = run["pids"] / "pids"
    return [int(p) for p in f.read_text().split()] if f.exists() else []


def assert_all_stopped(run: dict, expected: int) -> None:
    pids = started(run)
    assert len(pids) >= expected, f"the stand-ins started {pids}"
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in pids if alive(p)]
    assert not left, f"still running after test.sh ended: {left}"


def test_an_early_failure_stops_the_build_and_the_installs(run, tmp_path):
    run["env"]["FAKE_EMULATORS"] = "fail"
    # Output to a file: a pipe would stay open as long as any leftover runs.
    log = tmp_path / "log"
    with log.open("w") as f:
        code = subprocess.run(["bash", str(run["script"])], env=run["env"], stdout=f, stderr=f, timeout=30).returncode
    assert code != 0
    assert "failed on purpose" in log.read_text()
    # cargo and its child, tools/up.sh and its child, up.sh's own two and its "server".
    assert_all_stopped(run, expected=7)
    assert not list(tmp_path.glob("xml2bq-test.*")), "the state folder is removed"


def test_sigterm_stops_everything(run, tmp_path):
    run["env"]["FAKE_EMULATORS"] = "hang"
    with (tmp_path / "log").open("w") as f:
        p = subprocess.Popen(["bash", str(run["script"])], env=run["env"], stdout=f, stderr=f)
    deadline = time.monotonic() + 30
    while len(started(run)) < 7 and time.monotonic() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 143
    assert_all_stopped(run, expected=7)
