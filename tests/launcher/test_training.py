"""The model cache key follows the training data, domain, config and component code only."""

from __future__ import annotations

import shutil
from pathlib import Path

from launcher.training import training_hash

ROOT = Path(__file__).resolve().parents[2]


def copy_project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    (target / "bot").mkdir(parents=True)
    shutil.copy(ROOT / "config.yml", target / "config.yml")
    shutil.copytree(ROOT / "bot" / "domain", target / "bot" / "domain")
    shutil.copytree(ROOT / "bot" / "data", target / "bot" / "data")
    shutil.copytree(ROOT / "nlu_components", target / "nlu_components")
    return target


def test_component_code_changes_the_hash_but_compiled_files_do_not(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    before = training_hash(project)
    cache = project / "nlu_components" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "extra.cpython-311.pyc").write_bytes(b"compiled")
    assert training_hash(project) == before
    with (project / "nlu_components" / "reader_classifier.py").open("a") as source:
        source.write("\n# a change to the classifier's code\n")
    assert training_hash(project) != before


def test_hash_is_stable_and_matches_the_checkout(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    assert training_hash(project) == training_hash(project) == training_hash(ROOT)


def test_hash_changes_with_data_config_and_domain(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    before = training_hash(project)
    nlu = project / "bot" / "data" / "nlu" / "core.yml"
    nlu.write_text(nlu.read_text() + "\n      - hiya there\n")
    after_data = training_hash(project)
    (project / "config.yml").write_text((project / "config.yml").read_text() + "\n# tuned\n")
    after_config = training_hash(project)
    (project / "bot" / "domain" / "extra.yml").write_text('version: "3.1"\n')
    after_domain = training_hash(project)
    assert len({before, after_data, after_config, after_domain}) == 4


def test_files_outside_the_training_inputs_do_not_matter(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    before = training_hash(project)
    (project / "README.md").write_text("docs change")
    (project / "bot" / "notes.txt").write_text("not training data")
    assert training_hash(project) == before
