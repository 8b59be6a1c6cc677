"""The CLI's contract for bad input: one line naming the fix, exit 2, no traceback."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubegate.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_unknown_provider_is_a_usage_error() -> None:
    res = _cli("--cluster", "kind", "status")
    assert res.returncode == 2
    assert "invalid choice: 'kind'" in res.stderr
    assert "Traceback" not in res.stderr


def test_existing_without_kubeconfig_names_the_fix() -> None:
    res = _cli("--cluster", "existing", "status")
    assert res.returncode == 2
    msg = "kubegate: --cluster=existing needs --kubeconfig PATH (and optionally --context, --public-ip)"
    assert res.stderr.strip() == msg


def test_missing_kubeconfig_file_names_it(tmp_path: Path) -> None:
    res = _cli("--cluster", "existing", "--kubeconfig", str(tmp_path / "nope"), "status")
    assert res.returncode == 2
    assert "does not exist" in res.stderr and "Traceback" not in res.stderr


def test_unreachable_existing_cluster_is_reported_not_raised(tmp_path: Path) -> None:
    kc = tmp_path / "kubeconfig"
    kc.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n"
                  "users:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                  "current-context: x\n")
    res = _cli("--cluster", "existing", "--kubeconfig", str(kc), "status")
    assert res.returncode == 1
    assert "cannot reach the API server" in res.stdout
