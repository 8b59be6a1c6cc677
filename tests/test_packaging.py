"""kubegate as an installed package: the wheel's contents, the inert pytest11 entry point, the
state directory and `kubegate test`. The real wheel in a fresh virtualenv is .ci/wheel's job;
these are the rules it rests on, checked in a second."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kubegate import paths
from kubegate.cli import _split_test
from kubegate.errors import KubegateError
from kubegate.providers import PROVIDERS
from kubegate.providers.vagrant_machines import HEADER, ensure_vagrantfile
from kubegate.pytest import command, options
from kubegate.pytest.settings import DESTROY_POLICIES

pytest_plugins = ["pytester"]
ROOT = paths.assets()


def _setuptools() -> dict[str, object]:
    return dict(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"])


def test_the_wheel_lists_every_package_on_disk_and_maps_the_checkouts_folders() -> None:
    st = _setuptools()
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kubegate").rglob("__init__.py")}
    listed = set(st["packages"])  # type: ignore[call-overload]
    assert on_disk <= listed, f"add to pyproject's [tool.setuptools] packages: {sorted(on_disk - listed)}"
    mapped = dict(st["package-dir"])  # type: ignore[call-overload]
    assert mapped == {"kubegate.fixtures": "fixtures", "kubegate.suites": "suites",
                      "kubegate.assets.cluster": "cluster", "kubegate.assets.manifests": "manifests"}
    assert listed - on_disk == set(mapped), "a listed package is neither on disk nor mapped"
    for folder in ("fixtures", "suites"):
        assert (ROOT / folder / "__init__.py").is_file()
    assert (ROOT / "kubegate" / "py.typed").is_file()


def test_the_options_module_agrees_with_what_it_writes_out() -> None:
    assert options.PROVIDERS == PROVIDERS
    assert options.DESTROY_POLICIES == DESTROY_POLICIES


def test_an_installed_kubegate_changes_nothing_in_a_session_that_does_not_ask(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="""
        import pytest

        def test_ok():
            pass

        @pytest.mark.smoke
        def test_marked():
            pass

        def test_fails():
            assert False
    """)
    with_kubegate = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    without = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:kubegate")
    assert with_kubegate.ret == without.ret == 1
    with_kubegate.assert_outcomes(passed=2, failed=1, warnings=1)  # the unknown mark: kubegate's stay unregistered
    assert _normalised(with_kubegate.outlines) == _normalised(without.outlines)  # no kubegate output at all
    assert not (pytester.path / "reports").exists()
    strict = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    assert strict.ret == pytest.ExitCode.INTERRUPTED  # `smoke` unknown, as without kubegate


def _normalised(lines: list[str]) -> list[str]:
    """pytest's output without what differs between any two sessions: the plugin list, timings."""
    import re
    return [re.sub(r" in [0-9.]+s", "", line) for line in lines if not line.startswith("plugins:")]


def test_state_dir_the_env_else_a_checkout_else_per_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.STATE_ENV, str(tmp_path / "state"))
    assert paths.state_dir() == tmp_path / "state" and (tmp_path / "state").is_dir()
    monkeypatch.delenv(paths.STATE_ENV)
    assert paths.state_dir(ROOT / "suites") == ROOT
    monkeypatch.setattr(paths, "_PACKAGE", tmp_path / "site-packages" / "kubegate")  # as from a wheel
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert paths.checkout(tmp_path) is None
    assert paths.state_dir(tmp_path) == tmp_path / "xdg" / "kubegate"
    with pytest.raises(KubegateError, match="reinstall kubegate"):
        paths.assets()
    monkeypatch.setenv(paths.REPORTS_ENV, str(tmp_path / "r"))
    assert paths.reports_dir() == tmp_path / "r"


def test_a_state_dir_gets_a_stub_vagrantfile_a_checkout_keeps_its_own(tmp_path: Path) -> None:
    ensure_vagrantfile(tmp_path)
    stub = (tmp_path / "Vagrantfile").read_text()
    assert stub.startswith(HEADER) and str(ROOT / "cluster" / "Vagrantfile") in stub and "$kubegate_state" in stub
    ensure_vagrantfile(tmp_path)  # idempotent
    before = (ROOT / "Vagrantfile").read_text()
    ensure_vagrantfile(ROOT)
    assert (ROOT / "Vagrantfile").read_text() == before
    foreign = tmp_path / "other"
    foreign.mkdir()
    (foreign / "Vagrantfile").write_text('Vagrant.configure("2") {}\n')
    with pytest.raises(KubegateError, match="not kubegate's Vagrantfile"):
        ensure_vagrantfile(foreign)


def test_kubegate_test_hands_everything_after_test_to_pytest() -> None:
    assert _split_test(["test", "-m", "smoke", "--cluster=existing"]) == ([], ["-m", "smoke", "--cluster=existing"])
    assert _split_test(["--state-dir", "/s", "test", "-x"]) == (["--state-dir", "/s"], ["-x"])
    assert _split_test(["up"]) is None
    assert _split_test(["--cluster", "existing", "status"]) is None
    argv = command.command([], ["-m", "smoke"])
    assert argv[1:6] == ["-m", "pytest", "--pyargs", "kubegate.suites", "--kubegate"]
    named = command.command([], ["kubegate.suites.test_dns", "-x"])
    assert named.count("kubegate.suites") == 0 and "kubegate.suites.test_dns" in named
