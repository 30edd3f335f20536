"""How long the admin studio's editor takes to validate a save (issue 16).

On a throw-away copy of ``bot/`` it measures, in this process:

1. **Cold check**: importing Rasa and checking the training data as it is (what a
   studio page starts in the background after the console starts);
2. **Warm checks**: the same check again (Rasa's parsed YAML reused for unchanged text);
3. **A save's validation**: one example added to an FAQ topic, validated in a staged
   copy against the cached baseline (what each save of the editor costs before it
   writes).

Run: ``.venv/bin/python -m benchmarks.studio_save [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from handoff_console.studio.training_data.intents import set_examples
from handoff_console.studio.training_data.model import snapshot
from handoff_console.studio.training_data.project import PROJECT_ROOT, BotProject
from handoff_console.studio.training_data.validate import check_project, prime, validate


def main() -> None:
    """Print the cold check, the warm checks and a save's validation, in seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "bot"
        shutil.copytree(PROJECT_ROOT / "bot", root)
        project = BotProject(root, PROJECT_ROOT / "config.yml")
        start = time.perf_counter()
        prime(project)
        cold = time.perf_counter() - start
        warm = []
        for _ in range(rounds):
            start = time.perf_counter()
            check_project(project)
            warm.append(time.perf_counter() - start)
        saves = []
        for n in range(rounds):
            snap = snapshot(project)
            examples = [(e.text, e.file) for e in snap.examples_of("faq/lockers")]
            set_examples(snap, "faq/lockers", [*examples, (f"a locker for my bag {n}", None)])
            start = time.perf_counter()
            validate(project, snap.changes())
            saves.append(time.perf_counter() - start)
    print(f"cold check (imports Rasa): {cold:.1f} s")
    print(f"warm check: median {statistics.median(warm):.2f} s, max {max(warm):.2f} s")
    print(f"a save's validation: median {statistics.median(saves):.2f} s, max {max(saves):.2f} s")


if __name__ == "__main__":
    main()
