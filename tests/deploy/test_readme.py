"""The README as a new user reads it on a fresh clone: its prerequisites, its two opening
commands sharing one target folder, and no reference to files outside the repository."""

import re

from conftest import ROOT, readme_commands

README = (ROOT / "README.md").read_text()


def test_prerequisites_name_the_toolchain_python_network_disk_and_time():
    section = re.search(r"^## Prerequisites\n(.*?)^## ", README, re.S | re.M)
    assert section, "a Prerequisites section"
    text = section.group(1)
    msrv = re.search(r'^rust-version = "([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    assert f"Rust** {msrv}" in text, "the toolchain version is Cargo.toml's rust-version"
    emulators = (ROOT / "scripts/emulators/up.sh").read_text()
    assert "python3.13" in emulators and "Python 3.13" in text, "the emulators' Python"
    for needle in ["crates.io", "pypi.org", "GB", "minutes"]:
        assert needle in text, needle


def test_the_opening_commands_share_one_target_folder():
    # `cargo run` builds in ./target unless CARGO_TARGET_DIR is set: test.sh must not move it.
    run_cmd, test_cmd = readme_commands()
    assert run_cmd.startswith("cargo run ") and "CARGO_TARGET_DIR" not in run_cmd
    script = (ROOT / test_cmd.removeprefix("./")).read_text()
    assignments = [l for l in script.splitlines() if re.search(r"CARGO_TARGET_DIR\s*=", l) and not l.lstrip().startswith("#")]
    assert assignments == [], f"test.sh sets its own target folder: {assignments}"


def test_no_reference_to_files_outside_the_repository():
    assert "../shared" not in README
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if not re.match(r"https?://", link):
            assert (ROOT / link).exists(), f"the README links to {link}, which is not in the repository"


def test_what_the_readme_says_about_outputs_holds():
    assert "BigQuery next" not in README
    assert "as `bq mk --schema` takes them" not in README, "only schema --table prints bq mk's form"
    assert "Each input file writes one part per table," not in README, "a table with no rows gets no part"
