"""The pinned PySide6 hands out None/True/False from Qt models without losing references.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None``/``True``/``False`` each
time it converts one out of a ``QVariant`` (``index.data()``, ``currentData()``…); the
interpreter aborts ("none_dealloc") once a count reaches zero, after < 200,000 reads.
pyproject.toml pins a PySide6 without that bug (no interpreter surgery any more); this
reads each of them 300,000 times through a real model in a fresh interpreter, where
the abort would show as a signal exit, and checks the counts held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

READS = 300_000

PROGRAM = f"""
import json, sys
from PySide6.QtCore import QAbstractListModel, QCoreApplication, QModelIndex, Qt

VALUES = (None, True, False)

class Model(QAbstractListModel):
    def rowCount(self, parent=QModelIndex()):
        return len(VALUES)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        return VALUES[index.row()] if role == Qt.ItemDataRole.UserRole else None

app = QCoreApplication(sys.argv[:1])
model = Model()
indexes = [model.index(row, 0) for row in range(len(VALUES))]
before = [sys.getrefcount(value) for value in VALUES]
wrong = 0
for _ in range({READS}):
    for index, value in zip(indexes, VALUES):
        if index.data(Qt.ItemDataRole.UserRole) is not value:
            wrong += 1
after = [sys.getrefcount(value) for value in VALUES]
print(json.dumps({{"before": before, "after": after, "wrong": wrong}}))
"""


def test_none_true_false_survive_300000_reads_each_from_a_model() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"the interpreter died ({done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(done.stdout)
    assert result["wrong"] == 0
    for name, before, after in zip(
        ("None", "True", "False"), result["before"], result["after"], strict=True
    ):
        # A leak of one reference per read would show as a drop of READS.
        assert after >= before - 100, f"{name}: {before} references before, {after} after"
