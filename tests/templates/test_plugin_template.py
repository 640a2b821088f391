"""The plugin scaffold ``templates/plugin``: copier generates a complete plugin package that is lint-clean, installs,
and passes its own tests on real Postgres (a hook through the outbox and the worker, store isolation, config
validation, its migration branch)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "plugin"

PLUGIN_ID = "scaffold-check"
DIST = f"tenantcommerce-{PLUGIN_ID}"
IMPORT_NAME = "tenantcommerce_scaffold_check"
BRANCH = "scaffold_check"
TABLE = "scaffold_check_products"

LONGEST_ID = "9" + "x" * 24 + "-" + "y" * 24  # 50 characters, starting with a digit

EXPECTED_FILES = (
    ".copier-answers.yml",
    ".gitignore",
    "CHANGELOG.md",
    "README.md",
    "pyproject.toml",
    f"src/{IMPORT_NAME}/__init__.py",
    f"src/{IMPORT_NAME}/migrations/versions/{BRANCH}_0001_products.py",
    f"src/{IMPORT_NAME}/plugin.py",
    f"src/{IMPORT_NAME}/py.typed",
    f"src/{IMPORT_NAME}/records.py",
    f"src/{IMPORT_NAME}/routes.py",
    f"src/{IMPORT_NAME}/settings.py",
    f"tests/test_{BRANCH}_hooks.py",
    f"tests/test_{BRANCH}_migrations.py",
)


def generate(destination: Path, plugin_id: str, **answers: str) -> Path:
    """``copier copy --defaults --data id=<plugin_id> templates/plugin <destination>``."""
    copier.run_copy(
        str(TEMPLATE), destination, data={"id": plugin_id, **answers}, defaults=True, unsafe=True, quiet=True
    )
    return destination


def run(command: list[str], *, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Ruff of this venv, from the generated project (so with its own config), writing no cache."""
    return run([sys.executable, "-m", "ruff", *args, "--no-cache", "."], cwd=project)


def files_of(project: Path) -> list[str]:
    return sorted(path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file())


def installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def pip_uninstall(dist: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pip", "uninstall", "--yes", dist], cwd=REPO)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin generated with the default answers for the id ``scaffold-check``."""
    return generate(tmp_path_factory.mktemp("scaffold") / DIST, PLUGIN_ID)


def test_the_generated_plugin_has_the_package_layout(project: Path) -> None:
    assert files_of(project) == sorted(EXPECTED_FILES)
    for name in files_of(project):
        text = (project / name).read_text()
        assert not re.search(r"\{\{|\{%", text), f"{name} was not rendered"


def test_the_generated_pyproject_declares_the_entry_point_the_migrations_and_the_test_settings(project: Path) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    assert pyproject["project"]["name"] == DIST
    assert pyproject["project"]["dependencies"] == ["tenantcommerce"]
    assert pyproject["project"]["entry-points"]["tenantcommerce"] == {PLUGIN_ID: f"{IMPORT_NAME}.plugin"}
    # The whole package directory is the wheel's package, so migrations/versions/ ships as package data.
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{IMPORT_NAME}"]
    pytest_options = pyproject["tool"]["pytest"]["ini_options"]
    assert pytest_options["asyncio_mode"] == "auto"
    assert "--import-mode=importlib" in pytest_options["addopts"].split()
    assert pyproject["tool"]["ruff"]["line-length"] == 120


def test_the_generated_migration_opens_a_branch_of_its_own_after_the_core(project: Path) -> None:
    revision = (project / f"src/{IMPORT_NAME}/migrations/versions/{BRANCH}_0001_products.py").read_text()

    assert f'revision = "{BRANCH}_0001"' in revision
    assert "down_revision = None" in revision
    assert f'branch_labels = ("{BRANCH}",)' in revision
    assert 'depends_on = "0004"' in revision
    assert f'create_tenant_table(\n        "{TABLE}",' in revision
    assert f'op.drop_table("{TABLE}")' in revision


@pytest.mark.parametrize("plugin_id", [PLUGIN_ID, LONGEST_ID])
def test_the_generated_code_passes_ruff_with_its_own_config(plugin_id: str, project: Path, tmp_path: Path) -> None:
    generated = project if plugin_id == PLUGIN_ID else generate(tmp_path / "plugin", plugin_id)

    lint = ruff(generated, "check")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = ruff(generated, "format", "--check")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_the_longest_plugin_id_gets_a_table_name_whose_constraint_names_fit_postgres(tmp_path: Path) -> None:
    generated = generate(tmp_path / "plugin", LONGEST_ID)

    answers = (generated / ".copier-answers.yml").read_text()
    table = re.search(r"^table: (\S+)$", answers, re.MULTILINE)
    assert table is not None, answers
    assert re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", table[1]), table[1]  # "fk_<table>_store_id_stores" <= 63


@pytest.mark.parametrize("plugin_id", ["", "Loyalty", "-points", "loyalty_points", "loyalty points", "x" * 51])
def test_an_invalid_plugin_id_is_refused_and_nothing_is_generated(plugin_id: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lowercase letters, digits and dashes"):
        generate(tmp_path / "plugin", plugin_id)

    assert not (tmp_path / "plugin" / "pyproject.toml").exists()


@pytest.mark.slow
def test_the_generated_package_passes_mypy_strict(project: Path) -> None:
    # The repo's cache holds tenantcommerce and its dependencies once `mypy` has run (CI runs it first): seconds,
    # not the better part of a minute.
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(REPO / ".mypy_cache")]
    result = run(command, cwd=project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout


@pytest.fixture
def editable_install(project: Path) -> Iterator[Path]:
    """The generated plugin installed into this venv (``pip install --no-deps -e``), always uninstalled afterwards
    so the rest of the suite sees no extra plugin."""
    if installed(DIST):  # left behind by a run that was killed
        pip_uninstall(DIST)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(project)]
    if importlib.util.find_spec("hatchling") is not None:
        command.insert(-2, "--no-build-isolation")
    try:
        result = run(command, cwd=project)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        yield project
    finally:
        removed = pip_uninstall(DIST)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert not installed(DIST)


@pytest.mark.slow
def test_the_generated_plugin_passes_its_own_tests_on_real_postgres(editable_install: Path) -> None:
    project = editable_install
    tests = sorted((project / "tests").glob("test_*.py"))
    expected = sum(len(re.findall(r"^async def test_|^def test_", path.read_text(), re.MULTILINE)) for path in tests)

    # The same environment: TC_TEST_DATABASE_URL or TC_TEST_EMBEDDED_DIR choose the server, as for this run.
    result = run([sys.executable, "-m", "pytest", str(project / "tests"), "-q", "-p", "no:cacheprovider"], cwd=project)

    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    summary = result.stdout.strip().splitlines()[-1]
    counts = {word.rstrip("s"): int(number) for number, word in re.findall(r"(\d+) ([a-z]+)", summary)}
    assert counts.pop("passed", 0) == expected, output
    assert set(counts) <= {"warning"}, output  # nothing failed, errored, or was skipped
