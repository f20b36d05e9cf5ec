"""The Dockerfile (hadolint, non-root, the README's build) and cloudbuild.yaml (schema, steps).
No container engine runs on these machines: the image is not built here."""

import re
import shutil
import subprocess

import yaml

from conftest import ROOT, readme_commands, readme_release_build

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is installed by scripts/test.sh"
    out = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_runtime_stage_is_minimal_and_non_root():
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]
    assert len(stages) == 2, "multi-stage: build, runtime"
    runtime = stages[-1]
    assert runtime.startswith("gcr.io/distroless/cc-debian12:nonroot")
    user = re.search(r"^USER (\S+)", runtime, re.M).group(1)
    assert user.split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["/usr/local/bin/xml2bq"]' in runtime


def test_builds_the_readme_binary_with_the_same_features():
    build = readme_release_build()
    assert build == "cargo build --release --locked --bin xml2bq"
    builds = re.findall(r"cargo build[^\n\\&]*", DOCKERFILE)
    assert builds and all(b.strip() == build for b in builds), builds
    assert "--features" not in DOCKERFILE and "--no-default-features" not in DOCKERFILE
    # Dependencies first, in their own layer, from the lock file; then the sources.
    assert DOCKERFILE.index("COPY Cargo.toml Cargo.lock") < DOCKERFILE.index("COPY . .")
    # Every workspace crate's manifest is in the dependency layer.
    members = re.search(r"^members = \[(.*)\]", (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    for m in re.findall(r'"([^"]+)"', members):
        assert f"COPY {m}/Cargo.toml {m}/" in DOCKERFILE, m


def test_image_is_built_for_the_chosen_schema():
    # The same setting as a laptop build: a build arg, defaulting to the repository's setup,
    # that cloudbuild.yaml passes from a substitution.
    assert re.search(r"^ARG XML2BQ_SCHEMA=xsd/customer_orders.toml$", DOCKERFILE, re.M)
    build_stage = re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1]
    # Declared after the dependency layer: images for different schemas share it.
    assert build_stage.index("COPY . .") < build_stage.index("ARG XML2BQ_SCHEMA")
    assert 'XML2BQ_SCHEMA="${XML2BQ_SCHEMA}" cargo build' in build_stage
    assert (ROOT / "xsd/customer_orders.toml").is_file()
    cb = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    assert cb["substitutions"]["_XML2BQ_SCHEMA"] == "xsd/customer_orders.toml"
    build = next(s for s in cb["steps"] if s["id"] == "build-image")
    assert '--build-arg XML2BQ_SCHEMA="${_XML2BQ_SCHEMA}"' in build["args"][-1]


def test_cloudbuild_matches_the_schema():
    cj = shutil.which("check-jsonschema")
    assert cj, "check-jsonschema is installed by scripts/test.sh"
    out = subprocess.run([cj, "--builtin-schema", "vendor.cloudbuild", str(ROOT / "cloudbuild.yaml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_cloudbuild_steps():
    cb = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    steps = {s["id"]: s for s in cb["steps"]}
    assert list(steps) == ["toolchain", "fmt", "clippy", "test", "build-image", "push-image", "publish-dags"]
    _, test_cmd = readme_commands()
    assert steps["test"]["args"] == ["-c", test_cmd], "the test step runs exactly the README's test command"
    assert steps["fmt"]["args"] == ["fmt", "--check"]
    assert steps["clippy"]["args"][-2:] == ["-D", "warnings"]
    assert "--cache-from" in steps["build-image"]["args"][-1]
    assert set(cb["substitutions"]) >= {"_REGION", "_REPOSITORY", "_IMAGE", "_COMPOSER_BUCKET"}
    image = "${_REGION}-docker.pkg.dev/$PROJECT_ID/${_REPOSITORY}/${_IMAGE}"
    assert image in steps["push-image"]["args"]
    assert "gs://${_COMPOSER_BUCKET}/dags/" in steps["publish-dags"]["args"][-1]


def test_ci_runs_the_readme_test_command():
    _, test_cmd = readme_commands()
    ci = [l for l in (ROOT / ".ci/run").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert ci == [f'exec "$(dirname "$0")/../{test_cmd.removeprefix("./")}"']


def test_readme_run_command_runs_the_tool():
    # The workspace has other binaries (xml2bq-codegen): `cargo run` at the root must pick xml2bq.
    run_cmd, _ = readme_commands()
    assert run_cmd.startswith("cargo run --locked -- ")
    out = subprocess.run(["cargo", "run", "--locked", "-q", "--", "--version"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("xml2bq "), out.stdout
    assert "mapping: xsd/customer_orders.toml" in out.stdout, out.stdout
