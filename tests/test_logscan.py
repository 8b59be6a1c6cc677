"""The one line a failed build is summarised by: the first error, not stderr's last line."""

from __future__ import annotations

from kubegate.rig.build.logscan import docker_step, first_error, go_packages

# What the client image's build printed when whatwg-url 15 reached Node 18 (shortened).
MONGOSH_ON_NODE18 = """\
Step 9/18 : RUN set -eux; cd /opt/mongosh; npm ci --no-audit --no-fund --omit=dev; mongosh --version
 ---> Running in 0c5a
+ cd /opt/mongosh
+ npm ci --no-audit --no-fund --omit=dev
added 301 packages in 21s
+ /opt/mongosh/node_modules/.bin/mongosh --version
/opt/mongosh/node_modules/webidl-conversions/lib/index.js:325
const abByteLengthGetter =
                                                                                                   ^

TypeError: Cannot read properties of undefined (reading 'get')
    at Object.<anonymous> (/opt/mongosh/node_modules/webidl-conversions/lib/index.js:325:104)
    at Module._compile (node:internal/modules/cjs/loader:1364:14)

Node.js v18.20.4
The command '/bin/sh -c set -eux; cd /opt/mongosh; npm ci' returned a non-zero code: 1
"""


def test_a_node_exception_is_named_with_its_package_not_nodes_version_line() -> None:
    assert first_error(MONGOSH_ON_NODE18) == (
        "TypeError: Cannot read properties of undefined (reading 'get') (in webidl-conversions)")


def test_the_failing_dockerfile_step_is_the_last_one_started() -> None:
    assert docker_step(MONGOSH_ON_NODE18, width=40) == "Step 9/18 (RUN set -eux; cd /opt/mongosh; npm ci...)"
    assert docker_step("Sending build context to Docker daemon  2kB\n") == ""


def test_npm_code_lines_carry_the_next_line_that_says_what() -> None:
    log = ("npm error code ETARGET\nnpm error notarget No matching version found for whatwg-url@99.0.0.\n"
           "npm error A complete log of this run can be found in: /root/.npm/_logs/x.log\n")
    assert first_error(log) == ("npm error code ETARGET | npm error notarget No matching version found for "
                                "whatwg-url@99.0.0.")


def test_pip_apt_maven_and_go_errors() -> None:
    assert first_error("Collecting celery\nERROR: Could not find a version that satisfies the requirement "
                       "celery==99 (from versions: 5.7.0)\n").startswith("ERROR: Could not find a version")
    assert first_error("Reading package lists...\nE: Unable to locate package nodejs\n") == \
        "E: Unable to locate package nodejs"
    assert first_error("[INFO] x\n[ERROR] Failed to execute goal\n") == "[ERROR] Failed to execute goal"
    assert first_error("$ go build -v x\nk8s.io/a\n# k8s.io/b\nb/c.go:12:3: undefined: Foo\n") == \
        "b/c.go:12:3: undefined: Foo"


def test_a_very_long_error_line_is_cut_and_says_so() -> None:
    line = "ERROR: Could not find a version that satisfies the requirement celery==99 (from versions: " + \
        ", ".join(f"5.{i}.0" for i in range(200)) + ")"
    cut = first_error(line + "\n")
    assert cut.startswith("ERROR: Could not find a version that satisfies the requirement celery==99")
    assert len(cut) < 340 and cut.endswith("more characters]")


def test_the_builders_colour_codes_are_not_part_of_the_line() -> None:
    assert first_error("\x1b[91mE: Unable to locate package x\n\x1b[0m") == "E: Unable to locate package x"


def test_shell_trace_lines_are_commands_not_errors() -> None:
    assert first_error("+ echo ERROR: nothing\nE: real\n") == "E: real"


def test_without_an_error_line_docker_s_verdict_then_the_last_line() -> None:
    assert first_error("Step 1/2 : RUN false\nThe command '/bin/sh -c false' returned a non-zero code: 1\n") == \
        "The command '/bin/sh -c false' returned a non-zero code: 1"
    assert first_error("just\nthis\n") == "this"
    assert first_error("") == "(empty log)"


def test_go_packages_counts_the_package_lines_of_go_build_v() -> None:
    assert go_packages("$ go build -v -o out/ k8s.io/x\ngo: downloading y v1\nk8s.io/a\nk8s.io/b/c\n") == 2
