"""The ``__main__`` guard (issue 14, point 8): a script that would start a cluster in every worker is told what
to add, at ``Executor()``, before any process starts. Real scripts, run by a real interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, source: str, timeout: float = 60) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=timeout,
                          cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_an_unguarded_script_gets_one_clear_error_before_any_worker_starts(tmp_path: Path) -> None:
    done = run(tmp_path, """
        import numpy as np
        import catterms as ct
        from workers import Executor

        with Executor(n_workers=1) as ex:
            ex.run(ct.prim("sin") >> ct.prim("sum"), np.ones(3))
    """)
    assert done.returncode != 0
    assert "UnguardedMainError" in done.stderr and 'if __name__ == "__main__":' in done.stderr
    assert "script.py:6" in done.stderr  # the line of the call
    assert "Nanny failed" not in done.stderr and "distributed.nanny" not in done.stderr  # no worker started


WHERE = """\
import workers.guard as g

def where():
    found = g.unguarded_line()
    return None if found is None else found[1]

"""


@pytest.mark.parametrize("body", [
    "print(where())  # refused",  # the top level, unguarded
    'if __name__ == "__main__":\n    print(where())',
    "if '__main__' == __name__:\n    print(where())",
    "def main():\n    print(where())\n\nmain()  # refused",  # a function called from unguarded top-level code
    'def main():\n    print(where())\n\nif __name__ == "__main__":\n    main()',
    'if __name__ != "__main__":\n    pass\nelse:\n    print(where())  # refused',  # not the guard's body
])
def test_the_statement_running_now_is_read_from_the_script(tmp_path: Path, body: str) -> None:
    """The line reported is the one the script's top level runs now (marked ``# refused``), or None."""
    source = WHERE + body + "\n"
    marked = [i for i, text in enumerate(source.splitlines(), 1) if text.endswith("# refused")]
    done = run(tmp_path, source)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (str(marked[0]) if marked else "None")


def test_a_package_run_with_dash_m_is_never_refused(tmp_path: Path) -> None:
    """``python -m pkg`` runs ``pkg/__main__.py``, which spawn does not run again in a worker."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "__main__.py").write_text("import workers.guard as g\nprint(g.unguarded_line())\n")
    done = subprocess.run([sys.executable, "-m", "pkg"], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PYTHONPATH": f"{REPO}:{tmp_path}", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def test_code_without_a_script_is_never_refused() -> None:
    done = subprocess.run([sys.executable, "-c", "import workers.guard as g; print(g.unguarded_line())"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"
