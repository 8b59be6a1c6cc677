"""kubegate's pytest options and ini key, registered in every session the plugin is installed in.

pytest parses options before any plugin can be switched on, so they all live here, in a module
that imports nothing of kubegate's: an installed kubegate costs other pytest sessions this module
and nothing else (see kubegate.pytest.entry).
"""

from __future__ import annotations

import pytest

#: kubegate.providers.PROVIDERS and kubegate.pytest.settings.DESTROY_POLICIES (a harness test
#: keeps them equal), written out so this module stays import-free.
PROVIDERS = ("vagrant", "existing")
DESTROY_POLICIES = ("never", "passing", "always")
INI_KEY = "kubegate"
#: kubegate's markers, registered when the plugin is switched on (never in other sessions)
MARKERS = (
    "smoke: the release gate: essential connectivity checks",
    "connectivity: real traffic through ClusterIPs and externalIPs",
    "cli: kubectl's stdout/stderr/exit-code contract and the REST view",
    "disruptive: deletes pods or cordons nodes; runs alone",
    "nightly: everything",
    "needs_vagrant: needs the Vagrant-managed local cluster (skipped with --cluster=existing)",
    "upstream: upstream's own e2e specs (e2e.test) as a second judge; needs cluster-admin rights",
    "triage(service, ...): on failure, walk the path to each Service in turn and name the first broken hop",
)
#: any of these on the command line switches kubegate on, as the ini key does
SWITCHES = ("kubegate", "cluster", "kubeconfig", "image_registry", "state_dir")


def add_options(parser: pytest.Parser) -> None:
    parser.addini(INI_KEY, type="bool", default=False,
                  help="switch kubegate's plugin on for this project (as --kubegate does)")
    g = parser.getgroup("kubegate", "kubegate (inert unless --kubegate, --cluster or the `kubegate` ini key)")
    g.addoption("--kubegate", action="store_true", default=None,
                help="switch kubegate's plugin on: its fixtures, markers, reports and verdict")
    g.addoption("--cluster", choices=PROVIDERS, default=None,
                help="cluster provider: vagrant (local cluster, default) or existing (--kubeconfig)")
    g.addoption("--kubeconfig", default=None, help="kubeconfig of an existing cluster (--cluster=existing)")
    g.addoption("--context", default=None, help="kubeconfig context (--cluster=existing)")
    g.addoption("--public-ip", default=None, help="address the db/msg Services expose as externalIPs")
    g.addoption("--destroy", choices=DESTROY_POLICIES, default="never",
                help="destroy the Vagrant cluster after the run: never (default; reuse it next run), "
                     "passing (only when every test passed), always")
    g.addoption("--image-registry", default=None, metavar="REGISTRY[/PREFIX]",
                help="--cluster=existing: pull db, msg and client from here (what `kubegate images push` "
                     "wrote); KUBEGATE_<NAME>_IMAGE still overrides one image")
    g.addoption("--public-ip-mode", default=None, choices=("externalIPs", "loadbalancer"),
                help="how the Services' public address is made: the seed's externalIPs (deprecated from 1.36) or a "
                "type: LoadBalancer Service (MetalLB on the local cluster; your cluster's implementation otherwise); "
                "default $KUBEGATE_PUBLIC_IP_MODE, else externalIPs")
    g.addoption("--kubernetes-version", default=None, metavar="VERSION",
                help="the local cluster's Kubernetes: a minor (1.36: its newest served patch) or a version "
                "(default $KUBEGATE_KUBERNETES_VERSION, else the running cluster's, else the newest supported)")
    g.addoption("--namespace", default=None, help="namespace for the db/msg services (default: pulp)")
    g.addoption("--state-dir", default=None, metavar="DIR",
                help="the local cluster's state (.cluster/, Vagrant's project); default KUBEGATE_STATE_DIR, "
                     "else the kubegate checkout, else ~/.local/state/kubegate")
    g.addoption("--reports-dir", default=None,
                help="where reports/<run-id>/ and reports/latest go (default: ./reports)")
    g.addoption("--accept-skip", action="append", default=[], metavar="NODEID",
                help="accept this test's skip in the verdict (repeatable): a node id, a node id without its "
                     "[params], or a glob. Without it a skipped smoke test makes the run INCOMPLETE (exit 6).")
    g.addoption("--accept-node", action="append", default=[], metavar="NAME",
                help="accept that per-node tests leave out this worker node (NotReady, cordoned, tainted), "
                     "repeatable. Without it a left-out worker makes the run INCOMPLETE (exit 6).")
    g.addoption("--gate", action="store_true", default=False,
                help="the release gate's reading: a run that selected only part of the smoke set (-k, -m, "
                     "single files) is INCOMPLETE, not PASSED")
    g.addoption("--fail-on-repair", action="store_true", default=False,
                help="anything the bring-up had to repair (a stopped kubelet restarted, ...) makes the run an "
                     "ERROR: for gates that count the cluster's own health as part of the verdict")
    g.addoption("--flaky-blocks", action="store_true", default=False,
                help="a test that passes only after --reruns makes the run FAILED (default: it is FLAKY in the "
                     "verdict line and the history, listed first, and does not block)")
    g.addoption("--history", default=None, metavar="PATH",
                help="the run history database every run appends to (default $KUBEGATE_HISTORY, else "
                     "history.sqlite beside the run folders); read it with `kubegate history`")
    g.addoption("--keep-runs", type=int, default=30, metavar="N",
                help="keep the newest N run folders under the reports dir, remove older finished ones "
                     "(default 30; 0 keeps all; the history keeps their summaries)")
    g.addoption("--update-golden", action="store_true", default=False,
                help="rewrite suites/golden/*.txt from this run's (normalised) output instead of comparing; the "
                     "run's verdict is then UPDATED (exit 7), never PASSED")


def active(config: pytest.Config) -> bool:
    """Asked for: an option of SWITCHES on the command line, or the ini key."""
    return any(config.getoption(name, None) for name in SWITCHES) or bool(config.getini(INI_KEY))
