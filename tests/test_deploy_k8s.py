"""deploy/k8s/ validated offline: no cluster here.

Every manifest is checked against the Kubernetes API's JSON schemas in strict mode (unknown
fields are errors) with kubernetes-validate from PyPI, which ships the schemas of every
Kubernetes release it supports inside the package (no download at run time); then the pieces are
checked against each other and against the Dockerfile and deploy/haproxy.cfg: selectors and
labels, port names, the health path, the cookie secret the pods read, the Ingress's cookie
affinity and websocket timeouts, resources that match one GIL-bound process. yamllint and
shellcheck (both from PyPI) lint the YAML and the shell scripts.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # an old release still supported by ingress-nginx and managed clusters

kv = pytest.importorskip("kubernetes_validate", reason="pip install -r requirements-dev.txt")


def manifests() -> dict[str, dict]:
    out = {}
    for f in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if doc:
                out[doc["kind"]] = doc
    return out


def tool(name: str) -> str:
    exe = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not os.access(exe, os.X_OK):
        pytest.skip(f"{name} not installed (pip install -r requirements-dev.txt)")
    return exe


@pytest.mark.parametrize("version", [KUBERNETES_VERSION, kv.latest_version()])
def test_every_manifest_matches_the_kubernetes_schema(version):
    m = manifests()
    assert set(m) == {"Deployment", "Service", "Ingress", "Secret"}
    for kind, doc in m.items():
        kv.validate(doc, version, strict=True)  # raises ValidationError


def test_the_validator_can_fail():
    d = copy.deepcopy(manifests()["Deployment"])
    d["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo
    with pytest.raises(kv.ValidationError):
        kv.validate(d, KUBERNETES_VERSION, strict=True)
    d = copy.deepcopy(manifests()["Deployment"])
    d["spec"]["replicas"] = "four"
    with pytest.raises(kv.ValidationError):
        kv.validate(d, KUBERNETES_VERSION, strict=True)


def test_the_pieces_fit_together():
    m = manifests()
    dep, svc, ing, sec = m["Deployment"], m["Service"], m["Ingress"], m["Secret"]
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    (c,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    (sp,) = svc["spec"]["ports"]
    assert sp["targetPort"] in ports
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == svc["metadata"]["name"] and backend["port"]["name"] == sp["name"]

    # same port and health path as the image
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"EXPOSE {ports[sp['targetPort']]}" in dockerfile
    assert "/_stcore/health" in dockerfile
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/_stcore/health" and c[probe]["httpGet"]["port"] in ports
    assert c["livenessProbe"]["failureThreshold"] * c["livenessProbe"]["periodSeconds"] >= 60

    # every pod reads the one cookie secret as Streamlit's server.cookieSecret
    env = {e["name"]: e for e in c["env"]}
    ref = env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] == sec["metadata"]["name"] and ref["key"] in sec["stringData"]

    # non-root, as the image
    uid = re.search(r"USER (\d+)", dockerfile).group(1)
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert str(pod["spec"]["securityContext"]["runAsUser"]) == uid
    assert c["securityContext"]["allowPrivilegeEscalation"] is False

    # one GIL-bound process per pod: one whole core; requests equal to limits ("Guaranteed"), so a
    # static CPU manager gives the pod that core alone; memory from the measurements (README)
    res = c["resources"]
    assert res["requests"]["cpu"] == res["limits"]["cpu"] == "1"
    assert res["requests"] == res["limits"] and res["limits"]["memory"] == "1Gi"
    assert dep["spec"]["replicas"] >= 2


def test_ingress_keeps_a_tab_on_its_pod_for_a_lesson():
    a = manifests()["Ingress"]["metadata"]["annotations"]
    p = "nginx.ingress.kubernetes.io/"
    assert a[p + "affinity"] == "cookie" and a[p + "affinity-mode"] == "persistent"
    assert a[p + "session-cookie-name"] == "OPTLAB_REPLICA"  # as deploy/haproxy.cfg names it
    assert "cookie OPTLAB_REPLICA insert" in (REPO / "deploy" / "haproxy.cfg").read_text()
    for t in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(a[p + t]) >= 4 * 3600
    assert manifests()["Ingress"]["spec"]["ingressClassName"] == "nginx"


def test_yaml_lints_clean():
    config = "{extends: default, rules: {line-length: {max: 110}, document-start: disable}}"
    res = subprocess.run([tool("yamllint"), "-s", "-d", config, str(K8S)], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("script", ["deploy/run-local.sh", ".ci/run"])
def test_shell_scripts_pass_shellcheck(script):
    res = subprocess.run([tool("shellcheck"), str(REPO / script)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
