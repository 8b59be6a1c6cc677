"""manifests.py: placeholder substitution and its one-line refusals (pure: no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.services.manifests import (
    PLACEHOLDERS,
    load_manifest,
    manifest_names,
    render_manifest,
    render_text,
    values_from_env,
)

VALUES = {
    "NAMESPACE": "kubegate",
    "PUBLIC_IP": "10.245.1.3",
    "DB_IMAGE": "kubegate.local/db:0123abcd",
    "MSG_IMAGE": "kubegate.local/msg:0123abcd",
    "PULP_IMAGE": "kubegate.local/pulp:0123abcd",
    "PULL_POLICY": "Never",
}


def one_line(exc: pytest.ExceptionInfo[KubegateError]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_repo_manifests_render_and_parse() -> None:
    assert set(manifest_names()) >= {"db-service", "msg-service", "db-rc", "msg-rc"}
    for name in manifest_names():
        docs = load_manifest(name, VALUES)
        assert docs and all(d["apiVersion"].endswith("v1") for d in docs)
        assert "${" not in render_manifest(name, VALUES)


def test_services_match_the_seed() -> None:
    (db,) = load_manifest("db-service", VALUES)
    assert db["spec"]["selector"] == {"name": "db"}
    assert db["spec"]["ports"][0]["port"] == 27017
    (msg,) = load_manifest("msg-service", VALUES)
    assert msg["spec"]["selector"] == {"name": "msg"}
    assert msg["spec"]["ports"][0]["port"] == 5672
    assert msg["spec"]["externalIPs"] == ["10.245.1.3"]
    assert msg["metadata"]["namespace"] == "kubegate"


def test_controllers_use_local_images_and_the_secret() -> None:
    (db,) = load_manifest("db-rc", VALUES)
    assert db["kind"] == "ReplicationController" and db["spec"]["replicas"] == 1
    assert db["spec"]["template"]["metadata"]["labels"]["name"] == "db"
    (c,) = db["spec"]["template"]["spec"]["containers"]
    assert c["image"] == VALUES["DB_IMAGE"] and c["imagePullPolicy"] == "Never"
    assert c["readinessProbe"]["tcpSocket"]["port"] == 27017

    (msg,) = load_manifest("msg-rc", VALUES)
    (c,) = msg["spec"]["template"]["spec"]["containers"]
    assert c["image"] == VALUES["MSG_IMAGE"] and c["imagePullPolicy"] == "Never"
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "valueFrom" in e}
    assert refs["KUBEGATE_MSG_USERNAME"] == {"name": "msg-credentials", "key": "username"}
    assert refs["KUBEGATE_MSG_PASSWORD"] == {"name": "msg-credentials", "key": "password"}
    assert c["readinessProbe"]["tcpSocket"]["port"] == 5672


def test_unknown_placeholder_in_file_is_refused_with_line(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: ${SERVICE_NAME}\n")
    with pytest.raises(KubegateError) as exc:
        render_manifest("x", VALUES, tmp_path)
    msg = one_line(exc)
    assert "x.yaml:4" in msg and "${SERVICE_NAME}" in msg and "NAMESPACE" in msg


def test_missing_value_is_refused_naming_the_setting() -> None:
    values = dict(VALUES)
    del values["DB_IMAGE"]
    with pytest.raises(KubegateError) as exc:
        render_manifest("db-rc", values)
    msg = one_line(exc)
    assert "manifests/db-rc.yaml" in msg and "DB_IMAGE" in msg and "KUBEGATE_DB_IMAGE" in msg


def test_empty_value_counts_as_missing() -> None:
    with pytest.raises(KubegateError, match="no value for PUBLIC_IP"):
        render_manifest("msg-service", {**VALUES, "PUBLIC_IP": ""})


def test_unknown_value_name_is_refused() -> None:
    with pytest.raises(KubegateError) as exc:
        render_manifest("db-service", {**VALUES, "DB_IMGAE": "x"})
    assert "DB_IMGAE" in one_line(exc)


def test_malformed_placeholder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: a$-b\n")
    with pytest.raises(KubegateError) as exc:
        render_manifest("x", VALUES, tmp_path)
    msg = one_line(exc)
    assert "x.yaml:4" in msg and "$$" in msg


def test_dollar_dollar_is_a_literal_dollar() -> None:
    out = render_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  price: $$5\n", {}, "t.yaml")
    assert "price: $5" in out


def test_malformed_yaml_is_refused_with_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: [db\n")
    with pytest.raises(KubegateError) as exc:
        render_manifest("bad", VALUES, tmp_path)
    msg = one_line(exc)
    assert "bad.yaml" in msg and "malformed YAML" in msg and "fix" in msg


def test_non_object_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(KubegateError, match="not a Kubernetes object"):
        render_manifest("list", VALUES, tmp_path)


def test_unknown_manifest_lists_the_known_ones() -> None:
    with pytest.raises(KubegateError) as exc:
        render_manifest("nope", VALUES)
    msg = one_line(exc)
    assert "nope.yaml" in msg and "db-rc" in msg


@pytest.mark.parametrize(
    ("name", "value"),
    [("PUBLIC_IP", "minion-1"), ("NAMESPACE", "Kube_Gate"), ("DB_IMAGE", "mongo:7\n  evil: 1"), ("MSG_IMAGE", "")],
)
def test_bad_values_are_refused(name: str, value: str) -> None:
    manifest = {"PUBLIC_IP": "msg-service", "NAMESPACE": "db-service", "DB_IMAGE": "db-rc", "MSG_IMAGE": "msg-rc"}
    with pytest.raises(KubegateError) as exc:
        render_manifest(manifest[name], {**VALUES, name: value})
    assert name in one_line(exc)


def test_image_settings_override_the_built_images() -> None:
    env = {"KUBEGATE_DB_IMAGE": "mongo:7", "KUBEGATE_MSG_IMAGE": "apache/activemq-artemis:2.37.0"}
    v = values_from_env(namespace="ns", public_ip="10.245.1.3", db_image="kubegate.local/db:x",
                        msg_image="kubegate.local/msg:x", env=env)
    assert v["DB_IMAGE"] == "mongo:7" and v["MSG_IMAGE"] == "apache/activemq-artemis:2.37.0"
    (db,) = load_manifest("db-rc", v)
    assert db["spec"]["template"]["spec"]["containers"][0]["image"] == "mongo:7"
    default = values_from_env(namespace="ns", public_ip="10.245.1.3", db_image="kubegate.local/db:x",
                              msg_image="kubegate.local/msg:x", pulp_image="kubegate.local/pulp:x", env={})
    assert default["DB_IMAGE"] == "kubegate.local/db:x"
    assert set(default) == set(PLACEHOLDERS)
    # Without the consumers' image the seed's two services still render; a consumer does not.
    services_only = values_from_env(namespace="ns", public_ip="10.245.1.3", db_image="kubegate.local/db:x",
                                    msg_image="kubegate.local/msg:x", env={})
    assert "PULP_IMAGE" not in services_only
    load_manifest("db-rc", services_only)
    with pytest.raises(KubegateError, match="PULP_IMAGE"):
        load_manifest("pulp-worker-rc", services_only)


def test_restarts_since_counts_only_new_restarts() -> None:
    from kubegate.services.deploy import restarts_since
    before = {"u1": ("db-a on minion-1", 2), "u2": ("msg-a on minion-2", 0)}
    after = {"u1": ("db-a on minion-1", 2), "u3": ("msg-b on minion-3", 1)}  # msg-a replaced, msg-b restarted once
    assert restarts_since(before, after) == ["msg-b on minion-3: 1 restart(s)"]
    assert restarts_since(before, {"u1": ("db-a on minion-1", 3)}) == ["db-a on minion-1: 1 restart(s)"]
    assert restarts_since(before, before) == []
