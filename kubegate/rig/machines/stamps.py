"""What each machine was provisioned with (a digest of its rendered files, and the node image),
so a bring-up provisions only machines whose inputs changed and recreates those built from an
older node image."""

from __future__ import annotations

import json
from pathlib import Path


class Stamps:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, name: str) -> dict[str, str]:
        try:
            data = json.loads((self.folder / name).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def put(self, name: str, digest: str, image: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_text(json.dumps({"digest": digest, "image": image}) + "\n")

    def drop(self, name: str | None = None) -> None:
        """One machine's stamp, or all of them."""
        for path in [self.folder / name] if name else list(self.folder.glob("*")):
            path.unlink(missing_ok=True)
