"""`kubegate up|build|status|down|test|deploy|undeploy|sweep|locks ...`: the fixtures' code, for a person at a shell.

Errors a user can fix print one line (`kubegate: ...`) and exit 2; Ctrl-C exits 130
after the interrupted step has cleaned up what it created.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kubegate.errors import KubegateError
from kubegate.kube.publicip import MODE_ENV, MODES
from kubegate.paths import REPORTS_ENV, STATE_ENV, assets, state_dir
from kubegate.providers import PROVIDERS, make_provider
from kubegate.providers.base import ClusterProvider
from kubegate.rig import versions
from kubegate.rig.versions import VERSION_ENV
from kubegate.upstream.ginkgo import DEFAULT_PROCS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubegate", description=__doc__)
    p.add_argument("--cluster", choices=PROVIDERS, default="vagrant", help="cluster provider (default: vagrant)")
    p.add_argument("--kubeconfig", type=Path, help="kubeconfig of an existing cluster (--cluster=existing)")
    p.add_argument("--context", help="kubeconfig context (--cluster=existing)")
    p.add_argument("--public-ip", help="address Services expose as externalIPs")
    p.add_argument("--state-dir", type=Path, help=f"the local cluster's state (.cluster/, Vagrant's project); default "
                   f"${STATE_ENV}, else the kubegate checkout, else ~/.local/state/kubegate")
    p.add_argument("--reports-dir", type=Path, help=f"where reports go (default ${REPORTS_ENV}, else ./reports)")
    p.add_argument("--public-ip-mode", choices=MODES, help=f"how Services get their public address: externalIPs "
                   f"(the seed's, deprecated from 1.36) or loadbalancer (MetalLB on the local cluster); default "
                   f"${MODE_ENV}, else externalIPs")
    _version_option(p, "kube_version_global")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("test", help="run the packaged suites from any directory: kubegate test [PYTEST ARGS...] "
                   "(pytest --pyargs kubegate.suites; same verdicts and exit codes)")
    sub.add_parser("setup", help="set up this Debian 12 host (as root): docker.io, vagrant, Go, Java, npm "
                   "from Debian, mongosh from its lock, a running Docker Engine (cluster/host/setup.sh)")
    _version_option(sub.add_parser("up", help="build what is missing, bring the cluster up or repair it, wait for "
                                   "Ready minions"), "kube_version")
    sub.add_parser("status", help="machines, nodes and what is wrong")
    bd = sub.add_parser("build", help="build the binaries and images the local cluster runs (no machines)")
    _version_option(bd, "kube_version")
    bd.add_argument("--no-cache", action="store_true", help="rebuild every image without Docker's cache, from "
                    "the committed locks: catches a registry change before a new user does")
    lk = sub.add_parser("locks", help="the committed dependency locks (npm, pip, Maven)")
    lk.add_argument("action", choices=("check", "update"), help="check: where a lock and its manifest disagree; "
                    "update: renew the locks from their manifests")
    lk.add_argument("only", nargs="?", default=None, metavar="PATH",
                    help="update: only the locks under PATH (e.g. cluster/workloads/pulp)")
    dn = sub.add_parser("down", help="destroy the Vagrant machines (never an existing cluster)")
    dn.add_argument("--purge", action="store_true",
                    help="also remove the minions' image stores (docker volumes kept for a fast next `up`)")
    dep = sub.add_parser("deploy", help="create the db and msg Services, then their controllers, then the "
                         "Pulp-shaped consumers (workers, beat, web)")
    dep.add_argument("--namespace", default=None, help="namespace (default: pulp)")
    und = sub.add_parser("undeploy", help="delete what deploy created")
    und.add_argument("--namespace", default=None, help="namespace (default: pulp)")
    sw = sub.add_parser("sweep", help="delete leftovers of earlier runs, selected by kubegate's run-id label only")
    sw.add_argument("--older-than", metavar="AGE", help="only objects older than AGE (30m, 12h, 2d): protects "
                    "runs on other hosts, whose liveness this host cannot see")
    sw.add_argument("--run", action="append", metavar="RUN_ID", help="only this run's objects (repeatable)")
    sw.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    sw.add_argument("--timeout", type=float, default=120, help="seconds to wait for namespaces to go (default 120)")
    sw.add_argument("--namespace", default=None, help="namespace of the services, whose db holds the runs' "
                    "marker databases (default: pulp)")
    rb = sub.add_parser("rbac", help="apply manifests/rbac.yaml (least privilege for the suites) and write a "
                        "token kubeconfig for its ServiceAccount")
    rb.add_argument("--out", type=Path, required=True, help="where to write the ServiceAccount kubeconfig (0600)")
    rb.add_argument("--duration", default="2h", help="token lifetime (default 2h)")
    doc = sub.add_parser("doctor", help="walk db's and msg's paths hop by hop from every node and the host; "
                         "exit 1 naming the first broken hop")
    doc.add_argument("--namespace", default=None, help="namespace of the services (default: pulp)")
    reg = sub.add_parser("registry", help="the local rig's private registry (TLS from the cluster CA, htpasswd "
                         "login) on the host's cluster address")
    reg.add_argument("action", choices=("up", "down", "status"))
    img = sub.add_parser("images", help="kubegate's db, msg and client images")
    img_sub = img.add_subparsers(dest="images_command", required=True)
    ps = img_sub.add_parser("push", help="build (or reuse) the images and push them; prints the references")
    ps.add_argument("registry", nargs="?", default=None, metavar="REGISTRY[/PREFIX]",
                    help="where to push (default: the local registry, started when needed)")
    ps.add_argument("--username", help="log in as this user, the password read from stdin; on success the "
                    "login is saved as `docker login` saves it (DOCKER_CONFIG or ~/.docker/config.json)")
    ps.add_argument("--ca-file", type=Path, help="CA that signed the registry's certificate, if not a public one "
                    "(default for the local registry: the cluster CA)")
    cf = sub.add_parser("conformance", help="upstream's own specs (e2e.test of the cluster's minor) as a second judge: "
                        "Services [Conformance], service env vars, Variable Expansion, kubectl client")
    cf.add_argument("--focus", help="regex of specs to run (default: kubegate's selection)")
    cf.add_argument("--skip", default=None,
                    help="regex of specs to leave out (default: Serial, Disruptive, Slow, Flaky)")
    cf.add_argument("--procs", type=int, default=DEFAULT_PROCS,
                    help=f"parallel e2e.test processes (default {DEFAULT_PROCS})")
    cf.add_argument("--list", action="store_true", help="print the specs the selection would run, run nothing")
    hi = sub.add_parser("history", help="the last runs together: a test x run grid, failure and flip rates, new "
                        "failures, still failing, flaky, phase and probe trends (from the history database)")
    hi.add_argument("--last", type=int, default=20, help="how many runs (default 20)")
    hi.add_argument("--test", metavar="PATTERN", help="only tests whose node id contains PATTERN or matches the glob")
    hi.add_argument("--html", type=Path, metavar="FILE", help="also write the page as static HTML")
    hi.add_argument("--history", metavar="PATH", help="the database (default $KUBEGATE_HISTORY, else "
                    "history.sqlite beside the run folders)")
    so = sub.add_parser("soak", help="run a selection N times back to back on one healthy cluster: per test its "
                        "failures, flip rate and causes; runs with repairs or injected faults are named, not counted")
    so.add_argument("--runs", type=int, default=10, help="how many runs (default 10)")
    so.add_argument("pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST ARGS",
                    help="the selection, as for pytest (e.g. -- suites/ -m smoke -n 4)")
    be = sub.add_parser("bench", help="time cached bring-up, the warm gate and the full suites: min/median/max")
    be.add_argument("kinds", nargs="*", default=["cached", "warm"], help="cached, warm, full, full-n4")
    be.add_argument("--runs", type=int, default=3, help="repetitions of each (default 3)")
    return p


def _version_option(parser: argparse.ArgumentParser, dest: str) -> None:
    parser.add_argument("--kubernetes-version", dest=dest, metavar="VERSION",
                        help=f"the local cluster's Kubernetes: a minor (its newest served patch) or a version; "
                        f"default ${VERSION_ENV}, else the running cluster's, else {versions.DEFAULT.minor} "
                        f"(supported: {versions.supported()})")


def _provider(args: argparse.Namespace) -> ClusterProvider:
    return make_provider(args.cluster, state_dir(), kubeconfig=args.kubeconfig, context=args.context,
                         public_ip=args.public_ip)


def _split_test(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(kubegate's options, pytest's arguments) when the command is `test`: everything after
    `test` goes to pytest unparsed, its own --cluster and --kubeconfig included."""
    i = 0
    while i < len(argv):
        if argv[i] == "test":
            return argv[:i], argv[i + 1:]
        if not argv[i].startswith("-"):
            return None  # another command
        i += 2 if argv[i] in _VALUED else 1
    return None


_VALUED = ("--cluster", "--kubeconfig", "--context", "--public-ip", "--state-dir", "--reports-dir",
           "--kubernetes-version", "--public-ip-mode")


def run(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = _split_test(argv)
    args = _parser().parse_args([*split[0], "test"] if split else argv)
    if args.state_dir:
        os.environ[STATE_ENV] = str(args.state_dir.expanduser().resolve())
    if args.reports_dir:
        os.environ[REPORTS_ENV] = str(args.reports_dir.expanduser().resolve())
    if args.public_ip_mode:
        os.environ[MODE_ENV] = args.public_ip_mode
    asked = getattr(args, "kube_version", None) or args.kube_version_global
    if asked:  # refused here, in one line, before anything is built
        os.environ[VERSION_ENV] = versions.resolve(asked).kubernetes
    if split is not None:
        from kubegate.pytest.command import run_suites
        return run_suites(split[0], split[1])
    if args.command == "locks":
        return _locks(args.action, args.only)
    if args.command == "setup":
        import subprocess
        script = assets() / "cluster" / "host" / "setup.sh"
        env = {**os.environ, "PYTHON": sys.executable}
        return subprocess.run(["bash", str(script)], env=env, check=False).returncode
    provider = _provider(args)
    if args.command == "up":
        provider.up()
        spec = getattr(provider, "spec", None)
        print(f"cluster ready{f': Kubernetes {spec.kube_version}' if spec else ''}; "
              f"kubectl --kubeconfig {provider.kubeconfig} get nodes")
    elif args.command == "build":
        build = getattr(provider, "build", None)
        if build is None:
            raise KubegateError("kubegate build builds the local cluster's parts; it has nothing to build for "
                                f"--cluster={args.cluster}")
        build(no_cache=args.no_cache)
        print("built" + (" without Docker's cache" if args.no_cache else ""))
    elif args.command == "status":
        st = provider.status()
        for name, state in sorted(st.machines.items()):
            print(f"{name:10} {state}")
        print(st.summary)
        return 0 if st.healthy else 1
    elif args.command == "down":
        provider.down(purge=args.purge)
        print("cluster destroyed" if provider.name == "vagrant" else "existing cluster left alone")
        if provider.name == "vagrant":
            from kubegate.rig.engine import stop_if_ours
            print(stop_if_ours())
        machines = getattr(provider, "machines", None)
        changed = machines.host_sysctls_changed() if machines is not None else None
        if changed:
            print(f"kubegate: the host's kernel settings differ from before the cluster started: "
                  f"{'; '.join(changed[:5])}", file=sys.stderr)
            return 1
        if changed == []:
            print("host kernel settings (kernel.*, vm.*) as found before the cluster started")
    elif args.command in ("deploy", "undeploy"):
        from kubegate.services.deploy import deploy, undeploy
        if args.command == "deploy":
            from kubegate.services.app import deploy_app
            deployment = deploy(provider, namespace=args.namespace)
            print(deployment.describe())
            app = deploy_app(provider, deployment)
            print(f"pulp app: {app.https} (CA {app.ca_file}) and {app.http}; workers x3, beat x1")
        else:
            undeploy(provider, namespace=args.namespace)
    elif args.command == "rbac":
        from kubegate.kube.serviceaccount import token_kubeconfig
        from kubegate.services.manifests import MANIFESTS_DIR
        path = token_kubeconfig(provider.kubectl(), MANIFESTS_DIR / "rbac.yaml", args.out, args.duration)
        print(f"ServiceAccount kubegate-system/kubegate bound to ClusterRole kubegate-suites; kubeconfig: {path}")
    elif args.command == "doctor":
        from kubegate.services.deploy import DEFAULT_NAMESPACE
        from kubegate.triage.doctor import doctor
        text, healthy = doctor(provider, args.namespace or DEFAULT_NAMESPACE)
        print(text, end="")
        return 0 if healthy else 1
    elif args.command == "registry":
        from kubegate.registry.local import LocalRegistry
        from kubegate.rig.spec import ClusterSpec
        local = LocalRegistry(state_dir(), ClusterSpec())
        if args.action == "up":
            print(local.up().describe())
        elif args.action == "down":
            print(local.down())
        else:
            running = local.pid() is not None
            print(local.info().describe() if running else "local registry not running (kubegate registry up)")
            return 0 if running else 1
    elif args.command == "images":
        from kubegate.registry.cli import push_images
        return push_images(state_dir(), args.registry, args.username, args.ca_file)
    elif args.command == "conformance":
        from kubegate.upstream.cli import conformance
        return conformance(provider, state_dir(), focus=args.focus, skip=args.skip, procs=args.procs,
                           list_only=args.list)
    elif args.command == "history":
        import sqlite3

        from kubegate.history import page, store, window
        from kubegate.paths import reports_dir
        path = store.history_path(reports_dir(Path.cwd()), args.history)
        if not path.is_file():
            raise KubegateError(f"history: no database at {path}: every kubegate pytest run appends to it; "
                                "run one, or name another with --history")
        try:
            with store.connect(path) as db:
                w = window.load(db, max(1, args.last), args.test)
        except sqlite3.DatabaseError as exc:
            raise KubegateError(f"history: cannot read {path}: {exc}") from None
        print("\n".join(window.grid_lines(w)), flush=True)
        if args.html:
            print(f"history page: {page.write(w, args.html)}")
    elif args.command == "soak":
        from kubegate.history.store import history_path
        from kubegate.paths import reports_dir
        from kubegate.soak import earlier_failures, soak
        pytest_args = [a for a in args.pytest_args if a != "--"] or ["suites/", "-m", "smoke"]
        reports = reports_dir(Path.cwd())
        result = soak(args.runs, pytest_args)
        before = earlier_failures(result, history_path(reports))
        out = reports / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps({"pytest_args": pytest_args, **result.as_dict(), "history": before}, indent=2)
                       + "\n")
        print("\n".join([*result.lines(), *before]) + f"\nsoak report: {out}", flush=True)
        return 0 if result.false_failures() == 0 else 1
    elif args.command == "bench":
        from kubegate.bench import KINDS, measure
        from kubegate.bench import line as bench_line
        bad = [k for k in args.kinds if k not in KINDS]
        if bad or args.runs < 1:
            raise KubegateError(f"bench: unknown {bad} (choose from {', '.join(KINDS)}) or --runs < 1")
        for kind in args.kinds:
            print(bench_line(kind, measure(state_dir(), kind, args.runs)), flush=True)
    elif args.command == "sweep":
        from kubegate.kube.namespaces import RUN_LABEL, labels
        from kubegate.paths import cluster_dir
        from kubegate.runs.cleanup import live_runs, remove_stale_markers
        from kubegate.runs.sweep import parse_duration, sweep
        from kubegate.services.deploy import DEFAULT_NAMESPACE
        older = parse_duration(args.older_than) if args.older_than else None
        live = live_runs(cluster_dir(state_dir()))
        if not args.dry_run:
            remove_stale_markers(cluster_dir(state_dir()), live)
        only = {labels(r)[RUN_LABEL] for r in args.run} if args.run else None
        for line in sweep(provider.kubectl(), keep_runs=live, timeout=args.timeout,
                          older_than=older, dry_run=args.dry_run, only_runs=only):
            print(line, flush=True)
        if older is None:  # a database carries no age to compare
            print(sweep_markers(provider, args.namespace or DEFAULT_NAMESPACE, live, only, args.dry_run), flush=True)
    return 0


def _locks(action: str, only: str | None) -> int:
    from kubegate.locks import check, update
    root = assets()
    if action == "update":
        for line in update.update(root, only):
            print(line, flush=True)
    problems = check.problems(root)
    for problem in problems:
        print(f"kubegate: {problem}", file=sys.stderr)
    if not problems:
        print("every lock agrees with its manifest")
    return 1 if problems else 0


def sweep_markers(provider: ClusterProvider, namespace: str, live: set[str], only: set[str] | None,
                  dry_run: bool) -> str:
    """Marker databases of runs that are not alive (kubegate.services.markers), through the publicIP."""
    from kubegate.kube.namespaces import RUN_LABEL, labels
    from kubegate.services import markers

    def doomed(name: str) -> bool:
        run = labels(markers.run_of(name) or "")[RUN_LABEL]
        return run not in live and (only is None or run in only)
    try:
        host, port = markers.public_db(provider, namespace)
        gone = markers.drop_markers(host, port, doomed, dry_run=dry_run)
    except KubegateError as exc:
        return f"marker databases left alone: {exc}"
    verb = "would drop" if dry_run else "dropped"
    return f"{verb} {len(gone)} marker database(s) of earlier runs" + (f": {', '.join(gone)}" if gone else "")


def main(argv: Sequence[str] | None = None) -> None:
    from kubegate.runs.cleanup import install_sigterm
    install_sigterm()  # a CI job's SIGTERM takes Ctrl-C's path: builds and waits stop and clean up
    try:
        code = run(argv)
    except KubegateError as exc:
        print(f"kubegate: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("kubegate: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # `kubegate conformance --list | head`: the reader has what it wanted
        sys.stderr.close()
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
