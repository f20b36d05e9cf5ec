"""Shared setup for the deploy tests: a throwaway AIRFLOW_HOME and the repo's paths."""

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A private Airflow home with no examples, before anything imports airflow.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="xml2bq-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"


def readme_commands() -> tuple[str, str]:
    """The README's first code block: (run command, test command)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return commands[0], commands[1]


def readme_release_build() -> str:
    """The release build command the README gives."""
    text = (ROOT / "README.md").read_text()
    return re.search(r"`(cargo build --release[^`]*)`", text).group(1)
