"""docs/architecture.md's module map names every module of the package: a newcomer who reads it
finds each file, and a module added without a line there fails here."""

from __future__ import annotations

import re

from kubegate.paths import assets as repo_root


def test_every_module_is_named_in_the_shape() -> None:
    root = repo_root()
    doc = (root / "docs" / "architecture.md").read_text()
    shape = doc[doc.index("## The shape"):doc.index("Where is ...?")]
    missing = [str(p.relative_to(root)) for p in sorted((root / "kubegate").rglob("*.py"))
               if p.name != "__init__.py" and not re.search(rf"\b{re.escape(p.stem)}\b", shape)]
    assert missing == [], f"name these in docs/architecture.md's shape: {missing}"
