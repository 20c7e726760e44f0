#!/usr/bin/env python3
"""The Helm chart and the DX post-renderer, checked on what they render.

- `helm lint` and `helm template` pass with the default values and with the
  example fleet (charts/examples/dx-fleet-values.yaml);
- the NetworkPolicy lets the scheduler reach only DNS, each database (by
  its host) and what the values add;
- the scheduler's StatefulSet: selectors that match its pods and Service,
  gRPC probes on the health service, a non-root read-only security context,
  the config, TLS, token and database Secrets mounted;
- the rendered config, tokens file and certificates run a real
  dxbackup-scheduler with mutual TLS, the rendered CLI tokens get exactly
  their roles from it, a call without a client certificate is refused, and
  clients keep working against a renewed server certificate;
- the chart's CA signs the server and every client certificate, keeps its
  key to itself, and certificates are kept across upgrades until they are
  due (their expiry is an annotation on their Secret) and then renewed;
- a quiesce limit beyond DX's liveness tolerance is refused;
- a PostgreSQL catalog mounts its password and CA, gets its egress rule and
  renders a config the scheduler takes; standby replicas need it and a
  bucket store, are Ready ("ready") while the Service selects the pod the
  active one labels, so they get rolling updates and a disruption budget,
  and the startup and liveness probes ask for the "liveness" health name;
- the quiesce Role of every quiesced deployment names that release's core
  pods, grants only what `kubectl exec` needs, and is bound to the right
  service account; nothing renders a missing value ("%!s(<nil>)");
- the post-renderer adds the agent to DX's core and DAM StatefulSets with
  the right mounts, downward-API identity, Secret, resources and security
  context, runs the core pods as their own service account (the one the
  chart binds the quiesce Role to, with what DX gave its own), leaves
  everything else alone, and is idempotent.

Run by ctest (tests/CMakeLists.txt) with DXBACKUP_BIN_DIR set.
"""
import base64
import calendar
import copy
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "charts", "dxbackup")
EXAMPLE = os.path.join(ROOT, "charts", "examples", "dx-fleet-values.yaml")
RENDERER = os.path.join(ROOT, "tools", "dx-post-renderer")
DX_RENDERED = os.path.join(ROOT, "tests", "chart", "dx-rendered.yaml")
BIN = os.environ.get("DXBACKUP_BIN_DIR", os.path.join(ROOT, "build", "bin"))


def run(argv, stdin=None, check=True):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (
            " ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def render_text(*values, sets=()):
    argv = ["helm", "template", "dxb", CHART, "--namespace", "backup"]
    for v in values:
        argv += ["-f", v]
    for s in sets:
        argv += ["--set", s]
    return run(argv).stdout


def render(*values, sets=()):
    return [d for d in yaml.safe_load_all(render_text(*values, sets=sets))
            if d]


def load_values(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def find(docs, kind, name=None, namespace=None):
    out = [d for d in docs if d["kind"] == kind
           and (name is None or d["metadata"]["name"] == name)
           and (namespace is None
                or d["metadata"].get("namespace") == namespace)]
    if not out:
        raise AssertionError("no %s %s" % (kind, name or ""))
    return out


def secret_value(secret, key):
    if key in secret.get("stringData", {}):
        return secret["stringData"][key]
    return base64.b64decode(secret["data"][key]).decode()


RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
DAY = 86400


def in_days(days):
    """The RFC 3339 UTC time `days` from now, as the chart writes it."""
    return time.strftime(RFC3339, time.gmtime(time.time() + days * DAY))


def rfc3339_seconds(text):
    return calendar.timegm(time.strptime(text, RFC3339))


def openssl(*argv, pem=None):
    return run(["openssl"] + list(argv), stdin=pem, check=False)


def cert_not_after(pem):
    """A certificate's notAfter in Unix seconds, read by openssl."""
    out = run(["openssl", "x509", "-noout", "-enddate"], stdin=pem).stdout
    when = " ".join(out.strip().split("=", 1)[1].split())  # "Mar 4 ... GMT"
    return calendar.timegm(time.strptime(when, "%b %d %H:%M:%S %Y %Z"))


def cert_text(pem):
    return run(["openssl", "x509", "-noout", "-text"], stdin=pem).stdout


def verifies(ca_pem, pem, purpose):
    """openssl verify of `pem` against `ca_pem` alone, for sslserver or
    sslclient use."""
    with tempfile.TemporaryDirectory() as work:
        ca, leaf = os.path.join(work, "ca.pem"), os.path.join(work, "c.pem")
        for path, text in ((ca, ca_pem), (leaf, pem)):
            with open(path, "w") as f:
                f.write(text)
        return openssl("verify", "-CAfile", ca, "-purpose", purpose,
                       leaf).returncode == 0


def secrets_as_found(docs, namespace="backup"):
    """testing.existingSecrets from rendered docs: what `lookup` would
    return once they were applied."""
    found = {}
    for d in docs:
        if d["kind"] == "Secret" and "data" in d:
            meta = d["metadata"]
            found["%s/%s" % (meta.get("namespace", namespace),
                             meta["name"])] = {
                "metadata": {"annotations": dict(meta.get("annotations")
                                                 or {})},
                "data": dict(d["data"])}
    return found


def render_with_existing(found, *values):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump({"testing": {"existingSecrets": found}}, f)
        f.flush()
        return render(*(values + (f.name,)))


class RenderedScheduler:
    """A real dxbackup-scheduler on the rendered config, tokens file and
    certificates (as the StatefulSet mounts them), on 127.0.0.1, for the
    CLI to call as `localhost`, a name the server certificate holds."""

    def __init__(self, docs, work):
        self.work = work
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        config["tokens_file"] = self.write("tokens.yaml", secret_value(
            find(docs, "Secret", "dxb-dxbackup-tokens")[0], "tokens.yaml"))
        self.argv = [
            os.path.join(BIN, "dxbackup-scheduler"),
            "--listen", "127.0.0.1:0",
            "--data-dir", os.path.join(work, "data"),
            "--config", self.write("config.yaml", yaml.safe_dump(config)),
            "--web-listen", "localhost:0"]
        # The StatefulSet's TLS flags, each file taken from the Secret its
        # path is mounted from.
        spec = find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"][
            "template"]["spec"]
        (container,) = spec["containers"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        for arg in container["args"]:
            if not arg.startswith("--tls-"):
                continue
            flag, path = arg.split("=", 1)
            directory, name = os.path.split(path)
            (mount,) = [m for m in container["volumeMounts"]
                        if m["mountPath"] == directory]
            source = volumes[mount["name"]]["secret"]
            key = {i["path"]: i["key"] for i in source.get("items", [])
                   }.get(name, name)
            secret = find(docs, "Secret", source["secretName"])[0]
            self.argv += [flag, self.write(flag[2:], secret_value(secret,
                                                                  key))]

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def __enter__(self):
        self.process = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        line = self.process.stdout.readline()
        if "listening on port" not in line:
            self.__exit__()
            raise AssertionError("the scheduler did not start: %s%s" % (
                line, self.stderr))
        self.address = "localhost:" + line.split()[-1]
        line = self.process.stdout.readline()
        if "web dashboard on port" not in line:
            self.__exit__()
            raise AssertionError("no dashboard: %s%s" % (line, self.stderr))
        self.web_port = int(line.split()[-1])
        return self

    def __exit__(self, *_):
        self.process.terminate()
        _, self.stderr = self.process.communicate()

    def cli(self, secret, role, *verb, client_cert=True, cert_from=None):
        """The CLI with the CA, token and client certificate of `secret` (a
        rendered CLI Secret); the certificate of `cert_from` instead."""
        cert = cert_from or secret
        argv = [os.path.join(BIN, "dxbackup"), "--server", self.address,
                "--tls-ca", self.write("cli-ca.crt",
                                       secret_value(secret, "ca.crt")),
                "--token-file", self.write(role, secret_value(
                    secret, role + "-token"))]
        if client_cert:
            argv += ["--tls-cert", self.write("cli.crt",
                                              secret_value(cert, "tls.crt")),
                     "--tls-key", self.write("cli.key",
                                             secret_value(cert, "tls.key"))]
        return run(argv + list(verb), check=False)

    def web(self, secret, role, path):
        """The dashboard's HTTP status for `path`, over HTTPS checked
        against the CA of `secret` (a rendered CLI Secret), with the token
        of `role` ("" for none)."""
        argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "--cacert", self.write("web-ca.crt",
                                       secret_value(secret, "ca.crt"))]
        if role:
            argv += ["-H", "Authorization: Bearer " +
                     secret_value(secret, role + "-token").strip()]
        argv.append("https://localhost:%d%s" % (self.web_port, path))
        return run(argv, check=False).stdout


def mounted_secrets(docs):
    """The scheduler container's Secret mounts: mount path -> Secret name
    (the data volume is a claim template, not a pod volume)."""
    spec = find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"]["template"][
        "spec"]
    (container,) = spec["containers"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    return {m["mountPath"]: volumes[m["name"]]["secret"]["secretName"]
            for m in container["volumeMounts"]
            if "secret" in volumes.get(m["name"], {})}


def scheduler_refusal(config):
    """What dxbackup-scheduler says when it refuses to start with `config`
    (it must refuse: the Secrets the config names are not mounted here)."""
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "config.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        p = run([os.path.join(BIN, "dxbackup-scheduler"), "--listen",
                 "127.0.0.1:0", "--insecure-loopback", "--data-dir",
                 os.path.join(work, "data"), "--config", path], check=False)
        assert p.returncode != 0, p.stdout + p.stderr
        return p.stderr + p.stdout

class ChartTest(unittest.TestCase):
    def test_lint_passes_with_default_and_example_values(self):
        run(["helm", "lint", "--strict", CHART])
        run(["helm", "lint", "--strict", CHART, "-f", EXAMPLE])

    def test_scheduler_statefulset(self):
        docs = render(EXAMPLE)
        sts = find(docs, "StatefulSet", "dxb-dxbackup")[0]
        pod = sts["spec"]["template"]
        selector = sts["spec"]["selector"]["matchLabels"]
        for k, v in selector.items():
            self.assertEqual(pod["metadata"]["labels"][k], v)
        service = find(docs, "Service", "dxb-dxbackup")[0]
        self.assertEqual(service["spec"]["selector"], selector)
        policy = find(docs, "NetworkPolicy")[0]
        self.assertEqual(policy["spec"]["podSelector"]["matchLabels"],
                         selector)
        admitted = [f.get("namespaceSelector", {}).get("matchLabels", {})
                    .get("kubernetes.io/metadata.name")
                    for f in policy["spec"]["ingress"][0]["from"]]
        self.assertIn("dx-prod", admitted)
        self.assertIn("dx-staging", admitted)

        spec = pod["spec"]
        self.assertTrue(spec["securityContext"]["runAsNonRoot"])
        self.assertNotEqual(spec["securityContext"]["runAsUser"], 0)
        (c,) = spec["containers"]
        sc = c["securityContext"]
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            self.assertEqual(c[probe]["grpc"]["port"], 7070, probe)
        self.assertIn("--listen=0.0.0.0:7070", c["args"])
        self.assertIn("--tls-cert=/etc/dxbackup/tls/tls.crt", c["args"])
        self.assertNotIn("--insecure-loopback", c["args"])
        # The drain fits in the grace period, with time left to stop.
        self.assertIn("--drain-seconds=5", c["args"])
        self.assertGreater(spec["terminationGracePeriodSeconds"], 5 + 30)
        # The dashboard: its port served, in the Service, and admitted from
        # the scheduler's own namespace only (no webFrom given).
        self.assertIn("--web-listen=0.0.0.0:8443", c["args"])
        self.assertIn({"name": "web", "port": 8443, "targetPort": "web",
                       "protocol": "TCP", "appProtocol": "https"},
                      service["spec"]["ports"])
        (web_rule,) = [r for r in policy["spec"]["ingress"]
                       if r["ports"] == [{"port": 8443, "protocol": "TCP"}]]
        self.assertEqual(web_rule["from"], [{"podSelector": {}}])
        none = find(render(EXAMPLE, sets=("scheduler.webPort=0",)),
                    "StatefulSet", "dxb-dxbackup")[0]
        self.assertFalse([a for a in none["spec"]["template"]["spec"]
                          ["containers"][0]["args"] if "web-listen" in a])
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        self.assertEqual(mounts["/var/lib/dxbackup"], "data")
        self.assertIn("/etc/dxbackup/db/dx-prod-dam-db", mounts)
        volumes = {v["name"]: v for v in spec["volumes"]}
        self.assertEqual(
            volumes[mounts["/etc/dxbackup/db/dx-prod-dam-db"]]["secret"]
            ["secretName"], "dx-prod-dam-db")
        self.assertEqual(sts["spec"]["volumeClaimTemplates"][0]["metadata"]
                         ["name"], "data")

    def egress(self, *values, sets=()):
        policy = find(render(*values, sets=sets), "NetworkPolicy")[0]["spec"]
        return policy["policyTypes"], policy.get("egress")

    def test_scheduler_egress_is_dns_and_the_databases(self):
        types, egress = self.egress(EXAMPLE)
        self.assertEqual(types, ["Ingress", "Egress"])
        with open(os.path.join(CHART, "values.yaml")) as f:
            dns = yaml.safe_load(f)["networkPolicy"]["egress"]["dns"]
        self.assertEqual(egress, [
            dns,
            # dx-persistence-node.dx-prod.svc, the default port
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "dx-prod"}}}],
             "ports": [{"port": 5432, "protocol": "TCP"}]}],
            "DNS and the example's one database, nothing else")
        self.assertEqual(dns["ports"], [{"port": 53, "protocol": "UDP"},
                                        {"port": 53, "protocol": "TCP"}])

    def test_database_egress_follows_each_host(self):
        def db(host, **more):
            return dict({"dbname": "d", "host": host, "user": "u",
                         "passwordSecret": {"name": "s", "key": "k"}}, **more)
        own = {"to": [{"podSelector": {"matchLabels": {"app": "pg"}}}],
               "ports": [{"port": 6432, "protocol": "TCP"}]}
        extra = {"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
                 "ports": [{"port": 443, "protocol": "TCP"}]}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump({
                "fleet": {"deployments": [{"namespace": "dx", "release": "r",
                                           "databases": [
                    db("10.1.2.3", port=5433),
                    db("pg"),  # the scheduler's namespace
                    db("pg-0.pg.data.svc.cluster.local"),
                    db("pg.data.svc"),  # same rule: once
                    db("/var/run/postgresql"),  # a socket: no rule
                    db("rds.example.com", egress=own)]}]},
                "networkPolicy": {"egress": {"extra": [extra]}}}, values)
            values.flush()
            _, egress = self.egress(values.name)
        port = [{"port": 5432, "protocol": "TCP"}]
        self.assertEqual(egress[1:], [
            {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}],
             "ports": [{"port": 5433, "protocol": "TCP"}]},
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "backup"}}}], "ports": port},
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "data"}}}], "ports": port},
            own, extra])

    def test_a_discovery_entry_renders_and_runs_the_scheduler(self):
        entry = {"name": "persistence", "discover": True,
                 "host": "dx-persistence-node.dx-prod.svc", "user": "dxadmin",
                 "passwordSecret": {"name": "pg-admin", "key": "password"},
                 "exclude": ["scratch"], "allowStandby": True}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump({"fleet": {"deployments": [{
                "namespace": "dx-prod", "release": "dx",
                "databases": [entry]}]}}, values)
            values.flush()
            docs = render(values.name)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        (db,) = config["deployments"][0]["databases"]
        self.assertEqual(db, {
            "name": "persistence", "discover": True,
            "host": "dx-persistence-node.dx-prod.svc", "user": "dxadmin",
            "password_file": "/etc/dxbackup/db/pg-admin/password",
            "exclude": ["scratch"], "allow_standby": True})
        # The scheduler takes the rendered config as it is.
        cli = find(docs, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work, \
                RenderedScheduler(docs, work) as scheduler:
            self.assertEqual(
                scheduler.cli(cli, "viewer", "policies").returncode, 0)
        # Without a name the entry would have no member for its roles.
        del entry["name"]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump({"fleet": {"deployments": [{
                "namespace": "dx-prod", "release": "dx",
                "databases": [entry]}]}}, values)
            values.flush()
            p = run(["helm", "template", "dxb", CHART, "-f", values.name],
                    check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("a `discover` entry needs a name", p.stderr)

    def test_dam_renders_and_lets_the_core_pods_exec_into_core(self):
        values = {"fleet": {"deployments": [
            {"namespace": "dx-prod", "release": "dx", "dam": True},
            {"namespace": "dx-staging", "release": "dx"}]}}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            docs = render(f.name)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        self.assertTrue(config["deployments"][0]["dam"])
        self.assertNotIn("dam", config["deployments"][1])
        # Without quiesce hooks, the core agent still execs xmlaccess into
        # its pod's core container: the same Role, that release alone.
        (role,) = find(docs, "Role", "dxbackup-quiesce-dx")
        self.assertEqual(role["metadata"]["namespace"], "dx-prod")
        self.assertEqual({tuple(r["resources"]) for r in role["rules"]},
                         {("pods",), ("pods/exec",)})
        self.assertEqual([r for r in docs if r["kind"] == "Role" and
                          r["metadata"]["namespace"] == "dx-staging"], [])

    def test_command_and_external_databases_pass_through(self):
        values = {"fleet": {"deployments": [{
            "namespace": "dx-prod", "release": "dx",
            "databases": [
                {"name": "jcr", "command": {
                    "component": "core", "timeout_seconds": 3600,
                    "dump": ["/opt/db2/dump.sh", "JCRDB"],
                    "restore": ["/opt/db2/restore.sh"],
                    "env_files": {"DB2PASSWORD": "/etc/db2/password"}}},
                {"name": "wpsdb", "external": {
                    "backup": ["/opt/db2/online-backup.sh", "WPSDB"]},
                 "passwordSecret": {"name": "db2-wpsdb"},
                 "egress": {"to": [{"ipBlock": {"cidr": "10.0.3.9/32"}}],
                            "ports": [{"port": 50000, "protocol": "TCP"}]}},
            ]}]}}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            docs = render(f.name)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        jcr, wpsdb = config["deployments"][0]["databases"]
        self.assertEqual(jcr, {"name": "jcr", "command": values["fleet"][
            "deployments"][0]["databases"][0]["command"]})
        self.assertEqual(wpsdb, {"name": "wpsdb", "external": {
            "backup": ["/opt/db2/online-backup.sh", "WPSDB"]}})
        # Its Secret is mounted for its env_files.
        spec = find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"][
            "template"]["spec"]
        (container,) = spec["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        self.assertEqual(volumes[mounts["/etc/dxbackup/db/db2-wpsdb"]][
            "secret"]["secretName"], "db2-wpsdb")
        # The scheduler's own command reaches what its egress says; one in
        # a pod needs no rule of the scheduler's.
        policy = find(docs, "NetworkPolicy")[0]
        self.assertIn({"to": [{"ipBlock": {"cidr": "10.0.3.9/32"}}],
                       "ports": [{"port": 50000, "protocol": "TCP"}]},
                      policy["spec"]["egress"])
        # The scheduler takes the rendered config.
        cli = find(docs, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work, \
                RenderedScheduler(docs, work) as scheduler:
            self.assertEqual(
                scheduler.cli(cli, "viewer", "policies").returncode, 0)
        # Without an egress rule, a scheduler-run command is refused.
        del values["fleet"]["deployments"][0]["databases"][1]["egress"]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            failed = run(["helm", "template", "dxb", CHART, "-n", "backup",
                          "-f", f.name], check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("database wpsdb runs its commands in the scheduler",
                      failed.stderr)

    def test_scale_to_one_may_patch_only_its_core_scale(self):
        api = {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}],
               "ports": [{"port": 6443, "protocol": "TCP"}]}
        values = {"fleet": {"deployments": [
            {"namespace": "dx-prod", "release": "dx", "scaleToOne": True},
            {"namespace": "dx-staging", "release": "dx"}]},
            "networkPolicy": {"egress": {"kubernetesApi": api}}}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            docs = render(f.name)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        self.assertTrue(config["deployments"][0]["scale_to_one"])
        self.assertNotIn("scale_to_one", config["deployments"][1])
        (role,) = find(docs, "Role", "dxbackup-scale-dx")
        self.assertEqual(role["metadata"]["namespace"], "dx-prod")
        self.assertEqual(role["rules"], [{
            "apiGroups": ["apps"], "resources": ["statefulsets/scale"],
            "resourceNames": ["dx-core"], "verbs": ["get", "patch"]}])
        (binding,) = find(docs, "RoleBinding", "dxbackup-scale-dx")
        self.assertEqual(binding["subjects"], [{
            "kind": "ServiceAccount", "name": "dxb-dxbackup",
            "namespace": "backup"}])
        # The scheduler's token where it looks for it in the cluster.
        spec = find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"][
            "template"]["spec"]
        (container,) = spec["containers"]
        self.assertIn("/var/run/secrets/kubernetes.io/serviceaccount",
                      [m["mountPath"] for m in container["volumeMounts"]])
        # Without the egress rule to the API server, rendering fails.
        del values["networkPolicy"]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            failed = run(["helm", "template", "dxb", CHART, "-n", "backup",
                                 "-f", f.name], check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("scales its core to one", failed.stderr)

    def test_kubernetes_objects_get_a_read_only_role_and_the_api_token(self):
        api = {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}],
               "ports": [{"port": 6443, "protocol": "TCP"}]}
        values = {"fleet": {"deployments": [
            {"namespace": "dx-prod", "release": "dx",
             "kubernetesObjects": {"capture": True,
                                   "selector": "release=dx"}},
            {"namespace": "dx-staging", "release": "dx"}]},
            "networkPolicy": {"egress": {"kubernetesApi": api}}}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            docs = render(f.name)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        self.assertEqual(config["deployments"][0]["kubernetes"],
                         {"capture": True, "selector": "release=dx"})
        self.assertNotIn("kubernetes", config["deployments"][1])
        # Read-only, Secrets and ConfigMaps, that namespace alone.
        (role,) = find(docs, "Role", "dxbackup-objects-dx")
        self.assertEqual(role["metadata"]["namespace"], "dx-prod")
        self.assertEqual(role["rules"], [{"apiGroups": [""],
                                          "resources": ["secrets",
                                                        "configmaps"],
                                          "verbs": ["get", "list"]}])
        # restore --kubernetes needs create, only where allowed.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            allowed = copy.deepcopy(values)
            allowed["fleet"]["deployments"][0]["kubernetesObjects"][
                "restore"] = True
            yaml.safe_dump(allowed, f)
            f.flush()
            (restoring,) = find(render(f.name), "Role",
                                "dxbackup-objects-dx")
        self.assertEqual(restoring["rules"][0]["verbs"],
                         ["get", "list", "create"])
        (binding,) = find(docs, "RoleBinding", "dxbackup-objects-dx")
        self.assertEqual(binding["subjects"], [{
            "kind": "ServiceAccount", "name": "dxb-dxbackup",
            "namespace": "backup"}])
        # The token where the scheduler looks for it in the cluster.
        spec = find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"][
            "template"]["spec"]
        (container,) = spec["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        api_volume = volumes[mounts[
            "/var/run/secrets/kubernetes.io/serviceaccount"]]
        self.assertIn("serviceAccountToken",
                      api_volume["projected"]["sources"][0])
        policy = find(docs, "NetworkPolicy")[0]["spec"]
        self.assertIn(api, policy["egress"])
        # The scheduler takes the rendered config.
        cli = find(docs, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work, \
                RenderedScheduler(docs, work) as scheduler:
            self.assertEqual(
                scheduler.cli(cli, "viewer", "policies").returncode, 0)
        # No rule to the API server: refused, saying which value.
        del values["networkPolicy"]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(values, f)
            f.flush()
            p = run(["helm", "template", "dxb", CHART, "-f", f.name],
                    check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("networkPolicy.egress.kubernetesApi", p.stderr)
        # Nothing of it when no deployment captures its objects.
        docs = render(EXAMPLE)
        self.assertFalse([d for d in docs if d["kind"] == "Role" and
                          d["metadata"]["name"].startswith("dxbackup-objects")])

    def test_database_outside_the_cluster_needs_its_own_rule(self):
        sets = ["fleet.deployments[0].namespace=dx",
                "fleet.deployments[0].release=r",
                "fleet.deployments[0].databases[0].dbname=d",
                "fleet.deployments[0].databases[0].host=db.example.com",
                "fleet.deployments[0].databases[0].user=u",
                "fleet.deployments[0].databases[0].passwordSecret.name=s",
                "fleet.deployments[0].databases[0].passwordSecret.key=k"]
        argv = ["helm", "template", "dxb", CHART]
        for s in sets:
            argv += ["--set", s]
        p = run(argv, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('database host "db.example.com"', p.stderr)
        self.assertIn("databases[].egress", p.stderr)
        types, egress = self.egress(
            sets=sets + ["networkPolicy.egress.enabled=false"])
        self.assertEqual((types, egress), (["Ingress"], None))

    def test_mutual_tls_is_on_by_default(self):
        docs = render(EXAMPLE)
        sts = find(docs, "StatefulSet", "dxb-dxbackup")[0]
        spec = sts["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        self.assertIn("--tls-client-ca=/etc/dxbackup/client-ca/ca.crt",
                      c["args"])
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        client_ca = volumes[mounts["/etc/dxbackup/client-ca"]]["secret"]
        self.assertEqual(client_ca["secretName"], "dxb-dxbackup-ca")
        self.assertEqual(client_ca["items"], [{"key": "ca.crt",
                                               "path": "ca.crt"}],
                         "the CA's certificate only, never its key")

        ca_secret = find(docs, "Secret", "dxb-dxbackup-ca")[0]
        ca = secret_value(ca_secret, "ca.crt")
        self.assertIn("PRIVATE KEY", secret_value(ca_secret, "ca.key"))
        holders = [d["metadata"]["name"] for d in docs
                   if d["kind"] == "Secret" and "ca.key" in d.get("data", {})]
        self.assertEqual(holders, ["dxb-dxbackup-ca"], "the key stays there")

        server = find(docs, "Secret", "dxb-dxbackup-tls")[0]
        server_crt = secret_value(server, "tls.crt")
        self.assertTrue(verifies(ca, server_crt, "sslserver"))
        names = cert_text(server_crt)
        for name in ("DNS:dxb-dxbackup.backup.svc",
                     "DNS:dxb-dxbackup.backup.svc.cluster.local",
                     "DNS:localhost"):
            self.assertIn(name, names)
        self.assertEqual(secret_value(server, "ca.crt"), ca)

        clients = [find(docs, "Secret", "dxbackup-agent-dx", ns)[0]
                   for ns in ("dx-prod", "dx-staging")]
        clients.append(find(docs, "Secret", "dxb-dxbackup-cli")[0])
        certs = set()
        for secret in clients:
            crt = secret_value(secret, "tls.crt")
            self.assertTrue(verifies(ca, crt, "sslclient"),
                            secret["metadata"])
            self.assertIn("PRIVATE KEY", secret_value(secret, "tls.key"))
            self.assertEqual(secret_value(secret, "ca.crt"), ca)
            certs.add(crt)
        self.assertEqual(len(certs), 3, "a certificate per client Secret")

        # Every certificate's expiry is on its Secret, to the second.
        for secret, days in [(ca_secret, 3650), (server, 825)] + [
                (c, 825) for c in clients]:
            annotated = rfc3339_seconds(
                secret["metadata"]["annotations"]["dxbackup.io/not-after"])
            actual = cert_not_after(secret_value(
                secret, "ca.crt" if secret is ca_secret else "tls.crt"))
            self.assertLessEqual(abs(annotated - actual), 2,
                                 secret["metadata"]["name"])
            self.assertLessEqual(abs(actual - time.time() - days * DAY), 120)

        off = render(EXAMPLE, sets=["tls.requireClientCerts=false"])
        spec = find(off, "StatefulSet", "dxb-dxbackup")[0]["spec"][
            "template"]["spec"]
        self.assertFalse([a for a in spec["containers"][0]["args"]
                          if a.startswith("--tls-client-ca")])
        self.assertNotIn("client-ca", [v["name"] for v in spec["volumes"]])

    def test_certificates_are_kept_until_due_and_then_renewed(self):
        first = render(EXAMPLE)
        found = secrets_as_found(first)

        def crt(docs, name, ns=None, key="tls.crt"):
            return secret_value(find(docs, "Secret", name, ns)[0], key)

        def tls_checksum(docs):
            return find(docs, "StatefulSet", "dxb-dxbackup")[0]["spec"][
                "template"]["metadata"]["annotations"]["checksum/tls"]

        def token(docs, ns):
            return crt(docs, "dxbackup-agent-dx", ns, "token")

        ca = crt(first, "dxb-dxbackup-ca", key="ca.crt")
        names = [("dxb-dxbackup-tls", None), ("dxbackup-agent-dx", "dx-prod"),
                 ("dxbackup-agent-dx", "dx-staging"), ("dxb-dxbackup-cli",
                                                       None)]
        # Nothing due: an upgrade changes nothing, and restarts nothing.
        again = render_with_existing(found, EXAMPLE)
        self.assertEqual(crt(again, "dxb-dxbackup-ca", key="ca.crt"), ca)
        for name, ns in names:
            self.assertEqual(crt(again, name, ns), crt(first, name, ns), name)
        self.assertEqual(tls_checksum(again), tls_checksum(first))

        # The server's within its 30 days (or its expiry unreadable): a new
        # one from the same CA, so agents that trust the CA keep working;
        # the scheduler restarts to load it; clients keep theirs.
        for expiry in (in_days(29), "garbage", None):
            changed = dict(found)
            server = dict(found["backup/dxb-dxbackup-tls"])
            server["metadata"] = {"annotations": {} if expiry is None else
                                  {"dxbackup.io/not-after": expiry}}
            changed["backup/dxb-dxbackup-tls"] = server
            renewed = render_with_existing(changed, EXAMPLE)
            new = crt(renewed, "dxb-dxbackup-tls")
            self.assertNotEqual(new, crt(first, "dxb-dxbackup-tls"), expiry)
            self.assertEqual(crt(renewed, "dxb-dxbackup-ca", key="ca.crt"),
                             ca)
            self.assertTrue(verifies(ca, new, "sslserver"))
            self.assertGreater(cert_not_after(new), time.time() + 824 * DAY)
            self.assertNotEqual(tls_checksum(renewed), tls_checksum(first))
            for name, ns in names[1:]:
                self.assertEqual(crt(renewed, name, ns), crt(first, name, ns))
        # 31 days left: kept.
        changed["backup/dxb-dxbackup-tls"]["metadata"] = {
            "annotations": {"dxbackup.io/not-after": in_days(31)}}
        kept = render_with_existing(changed, EXAMPLE)
        self.assertEqual(crt(kept, "dxb-dxbackup-tls"),
                         crt(first, "dxb-dxbackup-tls"))

        # An agent certificate within its 180 days: that one is renewed,
        # its token kept; the other agents' and the server's are kept.
        changed = dict(found)
        prod = dict(found["dx-prod/dxbackup-agent-dx"])
        prod["metadata"] = {"annotations": {
            "dxbackup.io/not-after": in_days(179)}}
        changed["dx-prod/dxbackup-agent-dx"] = prod
        renewed = render_with_existing(changed, EXAMPLE)
        new = crt(renewed, "dxbackup-agent-dx", "dx-prod")
        self.assertNotEqual(new, crt(first, "dxbackup-agent-dx", "dx-prod"))
        self.assertTrue(verifies(ca, new, "sslclient"))
        self.assertEqual(token(renewed, "dx-prod"), token(first, "dx-prod"))
        for name, ns in (names[0], names[2], names[3]):
            self.assertEqual(crt(renewed, name, ns), crt(first, name, ns))

        # The CA's Secret deleted (to replace the CA), or an install of
        # chart 0.1.0 (which kept no CA key, no client certificates and no
        # expiries): a new CA, and every certificate from it, however far
        # from expiry the old ones were; tokens are kept.
        replaced = {k: v for k, v in found.items()
                    if k != "backup/dxb-dxbackup-ca"}
        legacy = {}
        for k, v in replaced.items():
            legacy[k] = {"metadata": {}, "data": {
                key: value for key, value in v["data"].items()
                if k == "backup/dxb-dxbackup-tls"
                or key not in ("tls.crt", "tls.key")}}
        for existing in (replaced, legacy):
            moved = render_with_existing(existing, EXAMPLE)
            new_ca = crt(moved, "dxb-dxbackup-ca", key="ca.crt")
            self.assertNotEqual(new_ca, ca)
            for name, ns in names:
                self.assertTrue(verifies(new_ca, crt(moved, name, ns),
                                         "sslserver" if "tls" in name
                                         else "sslclient"), name)
                self.assertEqual(crt(moved, name, ns, "ca.crt"), new_ca)
            for ns in ("dx-prod", "dx-staging"):
                self.assertEqual(token(moved, ns), token(first, ns))

    def test_notes_show_the_certificates_and_warn_of_the_ca(self):
        def notes(found):
            with tempfile.TemporaryDirectory() as work:
                chart = os.path.join(work, "dxbackup")
                shutil.copytree(CHART, chart)
                with open(os.path.join(chart, "templates", "NOTES.txt")) as f:
                    text = f.read()
                os.remove(os.path.join(chart, "templates", "NOTES.txt"))
                # helm template leaves NOTES out: render it as a manifest.
                with open(os.path.join(chart, "templates", "_notes.tpl"),
                          "w") as f:
                    f.write('{{- define "test.notes" -}}' + text +
                            "{{- end -}}")
                with open(os.path.join(chart, "templates", "notes.yaml"),
                          "w") as f:
                    f.write('notes: {{ include "test.notes" . | toJson }}\n')
                with open(os.path.join(work, "v.yaml"), "w") as f:
                    yaml.safe_dump({"testing": {"existingSecrets": found}}, f)
                out = run(["helm", "template", "dxb", chart, "-n", "backup",
                           "-f", EXAMPLE, "-f", os.path.join(work, "v.yaml"),
                           "--show-only", "templates/notes.yaml"]).stdout
                return yaml.safe_load(out)["notes"]

        found = secrets_as_found(render(EXAMPLE))
        text = notes(found)
        ca_until = found["backup/dxb-dxbackup-ca"]["metadata"]["annotations"][
            "dxbackup.io/not-after"]
        self.assertIn("CA dxb-dxbackup-ca: until " + ca_until, text)
        self.assertIn("server dxb-dxbackup-tls: until ", text)
        self.assertNotIn("WARNING: the CA", text)
        found["backup/dxb-dxbackup-ca"]["metadata"]["annotations"][
            "dxbackup.io/not-after"] = in_days(200)
        self.assertIn("WARNING: the CA expires", notes(found))

    def test_agent_secrets_and_tokens_file_agree(self):
        docs = render(EXAMPLE)
        tokens = yaml.safe_load(secret_value(
            find(docs, "Secret", "dxb-dxbackup-tokens")[0], "tokens.yaml"))
        by_hash = {t["sha256"]: t for t in tokens["tokens"]}
        ca = secret_value(find(docs, "Secret", "dxb-dxbackup-tls")[0],
                          "ca.crt")
        seen = set()
        for ns in ("dx-prod", "dx-staging"):
            agent = find(docs, "Secret", "dxbackup-agent-dx", ns)[0]
            token = secret_value(agent, "token")
            self.assertGreaterEqual(len(token), 40)
            entry = by_hash[hashlib.sha256(token.encode()).hexdigest()]
            self.assertEqual((entry["role"], entry["namespace"],
                              entry["release"]), ("AGENT", ns, "dx"))
            self.assertEqual(secret_value(agent, "ca.crt"), ca)
            self.assertEqual(secret_value(agent, "scheduler"),
                             "dxb-dxbackup.backup.svc:7070")
            seen.add(token)
        self.assertEqual(len(seen), 2, "a token per deployment")
        for t in tokens["tokens"]:
            self.assertNotIn("token", t, "only hashes in the tokens file")

    def test_rendered_config_tokens_and_certificates_run_the_scheduler(self):
        docs = render(EXAMPLE)
        cli = find(docs, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work, \
                RenderedScheduler(docs, work) as scheduler:
            self.assertEqual(
                scheduler.cli(cli, "viewer", "policies").returncode, 0)
            refused = scheduler.cli(cli, "viewer", "prune", "--dry-run")
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("needs OPERATOR", refused.stdout + refused.stderr)
            self.assertEqual(scheduler.cli(cli, "operator", "prune",
                                           "--dry-run").returncode, 0)
            # Mutual TLS: no client certificate, no call, token or not.
            bare = scheduler.cli(cli, "operator", "policies",
                                 client_cert=False)
            self.assertNotEqual(bare.returncode, 0)
            # An agent's certificate is one of the chart's CA too.
            agent = find(docs, "Secret", "dxbackup-agent-dx", "dx-prod")[0]
            self.assertEqual(scheduler.cli(cli, "viewer", "policies",
                                           cert_from=agent).returncode, 0)
            # The dashboard, over HTTPS with the chart's server
            # certificate, for the chart's viewer token (no client
            # certificate asked for).
            self.assertEqual(scheduler.web(cli, "viewer", "/"), "200")
            self.assertEqual(scheduler.web(cli, "", "/"), "401")

    def test_a_renewed_server_certificate_keeps_clients_working(self):
        first = render(EXAMPLE)
        found = secrets_as_found(first)
        found["backup/dxb-dxbackup-tls"]["metadata"] = {"annotations": {
            "dxbackup.io/not-after": in_days(1)}}
        renewed = render_with_existing(found, EXAMPLE)
        self.assertNotEqual(
            secret_value(find(renewed, "Secret", "dxb-dxbackup-tls")[0],
                         "tls.crt"),
            secret_value(find(first, "Secret", "dxb-dxbackup-tls")[0],
                         "tls.crt"))
        # The CLI (as an agent would) with the CA and client certificate it
        # got at install, against the scheduler restarted on the new one.
        cli = find(first, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work, \
                RenderedScheduler(renewed, work) as scheduler:
            p = scheduler.cli(cli, "viewer", "policies")
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_nothing_renders_a_missing_value(self):
        # A template that formats a value that is not there renders Go's
        # "%!s(<nil>)" and passes `helm lint --strict`.
        for values in ((), (EXAMPLE,)):
            bad = [line for line in render_text(*values).splitlines()
                   if "%!" in line or "<nil>" in line]
            self.assertEqual(bad, [], values)

    def test_quiesce_role_grants_exec_on_each_release_core_pods(self):
        docs = render(EXAMPLE)
        example = load_values(EXAMPLE)
        defaults = load_values(os.path.join(CHART, "values.yaml"))
        roles = [d for d in docs if d["kind"] in ("Role", "RoleBinding")]
        deployments = example["fleet"]["deployments"]
        quiesced = [d for d in deployments if d.get("quiesce")]
        self.assertGreaterEqual(len(quiesced), 2,
                                "the example quiesces several deployments")
        self.assertEqual(len(roles), 2 * len(quiesced),
                         "a Role and a binding per quiesced deployment only")
        for d in quiesced:
            ns, release = d["namespace"], d["release"]
            name = "dxbackup-quiesce-" + release
            replicas = (d.get("maxCoreReplicas")
                        or defaults["dx"]["maxCoreReplicas"])
            pods = ["%s-core-%d" % (release, i) for i in range(replicas)]
            role = find(docs, "Role", name, ns)[0]
            rules = {tuple(r["resources"]): r for r in role["rules"]}
            self.assertEqual(set(rules), {("pods",), ("pods/exec",)})
            for r in role["rules"]:
                self.assertEqual(r["apiGroups"], [""])
                self.assertEqual(r["resourceNames"], pods)
            self.assertEqual(rules[("pods",)]["verbs"], ["get"])
            # get: a WebSocket exec (kubectl >= 1.30); create: SPDY, and
            # WebSocket too from Kubernetes 1.35.
            self.assertEqual(sorted(rules[("pods/exec",)]["verbs"]),
                             ["create", "get"])
            binding = find(docs, "RoleBinding", name, ns)[0]
            self.assertEqual(binding["roleRef"],
                             {"apiGroup": "rbac.authorization.k8s.io",
                              "kind": "Role", "name": name})
            self.assertEqual(binding["subjects"],
                             [{"kind": "ServiceAccount",
                               "name": "dxbackup-core-" + release,
                               "namespace": ns}])
        # One deployment's own replica count, the other the chart's.
        self.assertEqual(
            [len(find(docs, "Role", "dxbackup-quiesce-dx", d["namespace"])
                 [0]["rules"][0]["resourceNames"]) for d in quiesced],
            [3, 10])

    def test_quiesce_service_account_is_a_value(self):
        docs = render(EXAMPLE, sets=["quiesce.coreServiceAccount=dx-deployment"])
        binding = find(docs, "RoleBinding", "dxbackup-quiesce-dx", "dx-prod")[0]
        self.assertEqual(binding["subjects"][0]["name"], "dx-deployment")
        # Two releases of one namespace may not share the account: each
        # could exec into the other's core pods.
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump({"fleet": {"deployments": [
                {"namespace": "dx", "release": "a", "quiesce": True},
                {"namespace": "dx", "release": "b", "quiesce": True}]}},
                values)
            values.flush()
            render(values.name)  # {release} in the default: fine
            p = run(["helm", "template", "dxb", CHART, "-f", values.name,
                     "--set", "quiesce.coreServiceAccount=dx-core"],
                    check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("would share the core service account dx-core", p.stderr)
        # The former value would silently bind nothing: refused, with why.
        p = run(["helm", "template", "dxb", CHART, "-f", EXAMPLE, "--set",
                 "quiesce.dxServiceAccount=default"], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("quiesce.coreServiceAccount", p.stderr)

    S3_SETS = (
        "store.s3.endpoint=http://127.0.0.1:1",
        "store.s3.bucket=dx-backups",
        "store.s3.prefix=prod",
        "store.s3.credentialsSecret.name=s3-keys",
        "store.s3.caSecret.name=s3-ca",
        "store.s3.objectLock.mode=GOVERNANCE",
        "store.s3.egress.to[0].namespaceSelector.matchLabels"
        ".kubernetes\\.io/metadata\\.name=storage",
        "store.s3.egress.ports[0].port=9000")

    def test_a_bucket_store_mounts_its_secrets_and_reaches_its_endpoint(self):
        docs = render(sets=self.S3_SETS)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        s3 = config["store"]["s3"]
        self.assertEqual(s3["bucket"], "dx-backups")
        self.assertEqual(s3["access_key_file"],
                         "/etc/dxbackup/s3/credentials/access-key")
        self.assertEqual(s3["secret_key_file"],
                         "/etc/dxbackup/s3/credentials/secret-key")
        self.assertEqual(s3["ca_file"], "/etc/dxbackup/s3/ca/ca.crt")
        self.assertEqual(s3["object_lock"]["mode"], "GOVERNANCE")
        secrets = mounted_secrets(docs)
        self.assertEqual(secrets["/etc/dxbackup/s3/credentials"], "s3-keys")
        self.assertEqual(secrets["/etc/dxbackup/s3/ca"], "s3-ca")
        egress = find(docs, "NetworkPolicy")[0]["spec"]["egress"]
        self.assertIn({"to": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "storage"}}}],
            "ports": [{"port": 9000}]}, egress)
        # The rendered config is one the scheduler takes: it gets as far
        # as reading the mounted keys (which are not there here).
        self.assertIn("cannot read the S3 access key from "
                      "/etc/dxbackup/s3/credentials/access-key",
                      scheduler_refusal(config))

    def test_a_bucket_store_needs_its_keys_secret_and_an_egress_rule(self):
        without_keys = [s for s in self.S3_SETS if "credentialsSecret" not in s]
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in without_keys), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("credentialsSecret.name", p.stderr)
        without_egress = [s for s in self.S3_SETS if "egress" not in s]
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in without_egress), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("store.s3.egress", p.stderr)
        # Without a NetworkPolicy's egress, no rule is needed.
        render(sets=without_egress + ["networkPolicy.egress.enabled=false"])

    PG_SETS = (
        "catalog.postgres.host=pg.databases.svc",
        "catalog.postgres.dbname=dxbackup",
        "catalog.postgres.passwordSecret.name=catalog-pg",
        "catalog.postgres.caSecret.name=catalog-pg-ca",
        "catalog.postgres.egress.to[0].namespaceSelector.matchLabels"
        ".kubernetes\\.io/metadata\\.name=databases",
        "catalog.postgres.egress.ports[0].port=5432")

    def test_a_postgres_catalog_mounts_its_secrets_and_reaches_its_server(self):
        docs = render(sets=self.PG_SETS)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        pg = config["catalog"]["postgres"]
        self.assertEqual(pg["host"], "pg.databases.svc")
        self.assertEqual(pg["port"], 5432)
        self.assertEqual(pg["sslmode"], "verify-full")
        self.assertEqual(pg["password_file"],
                         "/etc/dxbackup/catalog/password/password")
        self.assertEqual(pg["ca_file"], "/etc/dxbackup/catalog/ca/ca.crt")
        secrets = mounted_secrets(docs)
        self.assertEqual(secrets["/etc/dxbackup/catalog/password"],
                         "catalog-pg")
        self.assertEqual(secrets["/etc/dxbackup/catalog/ca"], "catalog-pg-ca")
        egress = find(docs, "NetworkPolicy")[0]["spec"]["egress"]
        self.assertIn({"to": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "databases"}}}],
            "ports": [{"port": 5432}]}, egress)
        # The rendered config is one the scheduler takes: it gets as far
        # as reading the mounted password (which is not there here).
        self.assertIn("cannot read password_file "
                      "/etc/dxbackup/catalog/password/password",
                      scheduler_refusal(config))
        self.assertFalse([d for d in docs
                          if d and d["kind"] == "PodDisruptionBudget"],
                         "one replica: no budget")
        without_egress = [s for s in self.PG_SETS if "egress" not in s]
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in without_egress), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("catalog.postgres.egress", p.stderr)
        without_ca = [s for s in self.PG_SETS if "caSecret" not in s]
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in without_ca), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("catalog.postgres.caSecret.name: sslmode verify-full",
                      p.stderr)
        render(sets=without_ca + ["catalog.postgres.sslmode=require"])

    def refusal(self, *sets):
        """helm template's error with `sets`, which it must refuse."""
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in sets), []), check=False)
        self.assertNotEqual(p.returncode, 0, sets)
        return p.stderr

    def test_standby_replicas_need_a_postgres_catalog_and_a_bucket_store(self):
        self.assertIn("needs catalog.postgres.host",
                      self.refusal("scheduler.replicas=2", *self.S3_SETS))
        self.assertIn("needs store.s3",
                      self.refusal("scheduler.replicas=2", *self.PG_SETS))
        self.assertIn("networkPolicy.egress.kubernetesApi",
                      self.refusal("scheduler.replicas=2", *self.PG_SETS,
                              *self.S3_SETS))
        api = ("networkPolicy.egress.kubernetesApi.to[0].ipBlock.cidr="
               "10.96.0.1/32",
               "networkPolicy.egress.kubernetesApi.ports[0].port=443")
        docs = render(sets=("scheduler.replicas=2",) + self.PG_SETS +
                      self.S3_SETS + api)
        sts = find(docs, "StatefulSet", "dxb-dxbackup")[0]
        self.assertEqual(sts["spec"]["replicas"], 2)
        # Every replica is Ready (a standby answers "ready"), so a rolling
        # update goes pod by pod and a budget lets a drain take one.
        self.assertNotIn("updateStrategy", sts["spec"])
        pdb = find(docs, "PodDisruptionBudget", "dxb-dxbackup")[0]
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"],
                         sts["spec"]["selector"]["matchLabels"])
        container = sts["spec"]["template"]["spec"]["containers"][0]
        for probe in ("livenessProbe", "startupProbe"):
            self.assertEqual(container[probe]["grpc"]["service"], "liveness")
        self.assertEqual(container["readinessProbe"]["grpc"]["service"],
                         "ready")
        # The Service reaches the pod the active scheduler labels, which
        # labels itself by the downward API's name, among its peers.
        service = find(docs, "Service", "dxb-dxbackup")[0]
        self.assertEqual(service["spec"]["selector"]["dxbackup.io/active"],
                         "true")
        peers = ",".join("%s=%s" % kv for kv in
                         sts["spec"]["selector"]["matchLabels"].items())
        self.assertIn("--label-active-pod=$(POD_NAMESPACE)/$(POD_NAME)",
                      container["args"])
        self.assertIn("--peer-pods=" + peers, container["args"])
        env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
               for e in container["env"]}
        self.assertEqual(env, {"POD_NAME": "metadata.name",
                               "POD_NAMESPACE": "metadata.namespace"})
        # The token is mounted, and may list the pods of the scheduler's
        # namespace and patch its own StatefulSet's pods (no more).
        self.assertIn("kube-api", [m["name"] for m in
                                   container["volumeMounts"]])
        role = find(docs, "Role", "dxb-dxbackup-active")[0]
        self.assertEqual(role["metadata"]["namespace"], "backup")
        self.assertEqual(role["rules"], [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
            {"apiGroups": [""], "resources": ["pods"],
             "resourceNames": ["dxb-dxbackup-0", "dxb-dxbackup-1"],
             "verbs": ["patch"]}])
        binding = find(docs, "RoleBinding", "dxb-dxbackup-active")[0]
        self.assertEqual(binding["roleRef"]["name"], "dxb-dxbackup-active")
        # One scheduler: no label, no budget, no Role.
        one = render(sets=self.PG_SETS + self.S3_SETS)
        self.assertNotIn("dxbackup.io/active", find(
            one, "Service", "dxb-dxbackup")[0]["spec"]["selector"])
        self.assertFalse([d for d in one
                          if d and d["kind"] == "PodDisruptionBudget"])

    def test_active_replicas_advertise_their_pod_ip_and_all_serve(self):
        docs = render(sets=("scheduler.replicas=3",
                            "scheduler.activeReplicas=true") +
                      self.PG_SETS + self.S3_SETS)
        sts = find(docs, "StatefulSet", "dxb-dxbackup")[0]
        self.assertEqual(sts["spec"]["replicas"], 3)
        container = sts["spec"]["template"]["spec"]["containers"][0]
        # Each replica tells the others its pod's address; none labels
        # pods, so none needs the API (no kubernetesApi rule was given).
        self.assertIn("--advertise=$(POD_IP):7070", container["args"])
        self.assertFalse([a for a in container["args"]
                          if a.startswith("--label-active-pod")])
        env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
               for e in container["env"]}
        self.assertEqual(env, {"POD_IP": "status.podIP"})
        self.assertNotIn("kube-api", [m["name"] for m in
                                      container["volumeMounts"]])
        self.assertFalse([d for d in docs if d and d["kind"] == "Role" and
                          d["metadata"]["name"] == "dxb-dxbackup-active"])
        # The Service reaches every replica, each Ready while it serves;
        # a node drain takes one at a time.
        self.assertNotIn("dxbackup.io/active", find(
            docs, "Service", "dxb-dxbackup")[0]["spec"]["selector"])
        self.assertNotIn("service", container["readinessProbe"]["grpc"])
        pdb = find(docs, "PodDisruptionBudget", "dxb-dxbackup")[0]
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        # They share the catalog and the store, as standbys do.
        self.assertIn("needs catalog.postgres.host",
                      self.refusal("scheduler.replicas=2",
                              "scheduler.activeReplicas=true", *self.S3_SETS))
        self.assertIn("needs store.s3",
                      self.refusal("scheduler.replicas=2",
                              "scheduler.activeReplicas=true", *self.PG_SETS))

    COPY_SETS = (
        "copyBuckets.offsite.endpoint=https://s3.offsite.example",
        "copyBuckets.offsite.bucket=dx-copies",
        "copyBuckets.offsite.prefix=prod",
        "copyBuckets.offsite.credentialsSecret.name=offsite-keys",
        "copyBuckets.offsite.caSecret.name=offsite-ca",
        "copyBuckets.offsite.objectLock.mode=COMPLIANCE",
        "copyBuckets.offsite.egress.to[0].ipBlock.cidr=203.0.113.10/32",
        "copyBuckets.offsite.egress.ports[0].port=443",
        "policies[0].name=nightly",
        "policies[0].selector.namespaces[0]=dx-*",
        "policies[0].schedule=@daily",
        "policies[0].copy_to.bucket=offsite",
        "policies[0].copy_to.retention.keep_weekly=8")

    def test_a_policys_copy_bucket_mounts_its_secrets_and_reaches_it(self):
        docs = render(sets=self.COPY_SETS)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        copy_to = config["policies"][0]["copy_to"]
        self.assertNotIn("bucket", copy_to, "the chart's own key is resolved")
        self.assertEqual(copy_to["retention"], {"keep_weekly": 8})
        s3 = copy_to["s3"]
        self.assertEqual(s3["bucket"], "dx-copies")
        self.assertEqual(s3["prefix"], "prod")
        self.assertEqual(
            s3["access_key_file"],
            "/etc/dxbackup/copy-buckets/offsite/credentials/access-key")
        self.assertEqual(s3["ca_file"],
                         "/etc/dxbackup/copy-buckets/offsite/ca/ca.crt")
        self.assertEqual(s3["object_lock"],
                         {"mode": "COMPLIANCE", "margin": "7d"})
        secrets = mounted_secrets(docs)
        self.assertEqual(
            secrets["/etc/dxbackup/copy-buckets/offsite/credentials"],
            "offsite-keys")
        self.assertEqual(
            secrets["/etc/dxbackup/copy-buckets/offsite/ca"], "offsite-ca")
        egress = find(docs, "NetworkPolicy")[0]["spec"]["egress"]
        self.assertIn({"to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}],
                       "ports": [{"port": 443}]}, egress)
        # The scheduler takes the rendered config: it gets as far as the
        # copy bucket's mounted keys (not there here).
        self.assertIn("policy nightly's copy_to: cannot read the S3 "
                      "access key from /etc/dxbackup/copy-buckets/"
                      "offsite/credentials/access-key",
                      scheduler_refusal(config))
        for dropped, says in (("egress", "copyBuckets.offsite.egress"),
                              ("credentialsSecret",
                               "credentialsSecret.name")):
            p = run(["helm", "template", "dxb", CHART] + sum(
                (["--set", s] for s in self.COPY_SETS if dropped not in s),
                []), check=False)
            self.assertNotEqual(p.returncode, 0, dropped)
            self.assertIn(says, p.stderr)
        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s.replace("bucket=offsite", "bucket=elsewhere")]
             for s in self.COPY_SETS), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("copy_to.bucket elsewhere is not in copyBuckets",
                      p.stderr)

    ENCRYPTION_SETS = (
        "encryption.recipientsSecret=age-recipients",
        "encryption.keys[0].namespaces[0]=dx-prod*",
        "encryption.keys[0].file=prod.txt",
        "encryption.keys[1].file=default.txt")

    def test_encryption_keys_come_from_a_mounted_secret(self):
        docs = render(sets=self.ENCRYPTION_SETS)
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        self.assertEqual(config["encryption"]["keys"], [
            {"recipients_file":
             "/etc/dxbackup/encryption/recipients/prod.txt",
             "namespaces": ["dx-prod*"]},
            {"recipients_file":
             "/etc/dxbackup/encryption/recipients/default.txt"}])
        self.assertNotIn("identity_files", config["encryption"],
                         "no secret key unless one is given")
        secrets = mounted_secrets(docs)
        self.assertEqual(
            secrets["/etc/dxbackup/encryption/recipients"], "age-recipients")
        self.assertNotIn("/etc/dxbackup/encryption/identity", secrets)

        docs = render(sets=self.ENCRYPTION_SETS + (
            "encryption.identitySecret.name=age-identity",))
        config = yaml.safe_load(find(docs, "ConfigMap", "dxb-dxbackup")[0]
                                ["data"]["config.yaml"])
        self.assertEqual(config["encryption"]["identity_files"],
                         ["/etc/dxbackup/encryption/identity/identity.txt"])
        # The rendered config is one the scheduler takes: it gets as far as
        # reading the mounted recipients file (not there here).
        self.assertIn("/etc/dxbackup/encryption/recipients/prod.txt",
                      scheduler_refusal(config))

        p = run(["helm", "template", "dxb", CHART] + sum(
            (["--set", s] for s in self.ENCRYPTION_SETS[1:]), []), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("encryption.recipientsSecret", p.stderr)

    def test_quiesce_limit_beyond_liveness_tolerance_is_refused(self):
        p = run(["helm", "template", "dxb", CHART, "--set",
                 "config.quiesce_limit_seconds=200"], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("liveness probe", p.stderr)
        run(["helm", "template", "dxb", CHART, "--set",
             "config.quiesce_limit_seconds=170"])


class PostRendererTest(unittest.TestCase):
    def setUp(self):
        with open(DX_RENDERED) as f:
            self.source = f.read()
        self.out = run([RENDERER, "--scheduler=dxb-dxbackup.backup.svc:7070"],
                       stdin=self.source).stdout
        self.docs = [d for d in yaml.safe_load_all(self.out) if d]
        self.before = [d for d in yaml.safe_load_all(self.source) if d]

    def agent(self, sts_name):
        sts = find(self.docs, "StatefulSet", sts_name)[0]
        spec = sts["spec"]["template"]["spec"]
        agents = [c for c in spec["containers"]
                  if c["name"] == "dxbackup-agent"]
        self.assertEqual(len(agents), 1)
        return agents[0], spec

    def check_common(self, agent, spec, release):
        env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"]
               for e in agent["env"]}
        self.assertEqual(env, {"POD_NAME": "metadata.name",
                               "POD_NAMESPACE": "metadata.namespace"})
        self.assertIn("--namespace=$(POD_NAMESPACE)", agent["args"])
        self.assertIn("--pod=$(POD_NAME)", agent["args"])
        self.assertIn("--release=" + release, agent["args"])
        self.assertIn("--scheduler=dxb-dxbackup.backup.svc:7070",
                      agent["args"])
        self.assertIn("--token-file=/etc/dxbackup-agent/token", agent["args"])
        self.assertIn("--tls-ca=/etc/dxbackup-agent/ca.crt", agent["args"])
        # The client certificate the chart puts beside them (mutual TLS).
        self.assertIn("--tls-cert=/etc/dxbackup-agent/tls.crt", agent["args"])
        self.assertIn("--tls-key=/etc/dxbackup-agent/tls.key", agent["args"])
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
        secret = volumes[mounts["/etc/dxbackup-agent"]["name"]]["secret"]
        self.assertEqual(secret["secretName"], "dxbackup-agent-" + release)
        self.assertTrue(mounts["/etc/dxbackup-agent"]["readOnly"])
        sc = agent["securityContext"]
        self.assertTrue(sc["runAsNonRoot"])
        self.assertEqual(sc["runAsUser"], 1000, "DX's user: owners kept")
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertIn("memory", agent["resources"]["limits"])
        self.assertIn("cpu", agent["resources"]["requests"])
        return mounts

    def test_core_gets_the_agent_on_the_profile_volume(self):
        agent, spec = self.agent("dx-core")
        mounts = self.check_common(agent, spec, "dx")
        self.assertEqual(mounts["/opt/HCL/profiles"]["name"], "wp-profile",
                         "the PVC DX's core container mounts")
        self.assertIn("--component=core", agent["args"])
        self.assertIn("--volume=profile=/opt/HCL/profiles", agent["args"])
        self.assertFalse([a for a in agent["args"]
                          if a.startswith("--volume-claim=profile")],
                         "each core pod's profile claim is its own")
        core = [c for c in spec["containers"] if c["name"] == "core"][0]
        before = find(self.before, "StatefulSet", "dx-core")[0]
        self.assertEqual(core, before["spec"]["template"]["spec"]
                         ["containers"][0], "DX's container untouched")
        self.assertEqual(find(self.docs, "StatefulSet", "dx-core")[0]["spec"]
                         ["selector"], before["spec"]["selector"])
        # kubectl in the agent (the quiesce hooks) gets the service account
        # token where in-cluster config looks for it; DX's container not.
        api = mounts["/var/run/secrets/kubernetes.io/serviceaccount"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        sources = volumes[api["name"]]["projected"]["sources"]
        self.assertIn("serviceAccountToken", sources[0])
        self.assertTrue(api["readOnly"])

    def test_dam_gets_the_agent_on_upload_and_config(self):
        agent, spec = self.agent("dx-digital-asset-management")
        mounts = self.check_common(agent, spec, "dx")
        self.assertEqual(mounts["/opt/app/upload"]["name"], "dam")
        self.assertEqual(mounts["/etc/config"]["name"], "dam-config")
        self.assertIn("--component=dam", agent["args"])
        self.assertIn("--volume=upload=/opt/app/upload", agent["args"])
        self.assertIn("--volume=config=/etc/config", agent["args"])
        # Every DAM pod mounts the one claim: the set captures it once.
        self.assertIn("--volume-claim=upload=dx-dam", agent["args"])
        self.assertEqual([a for a in agent["args"]
                          if a.startswith("--volume-claim")],
                         ["--volume-claim=upload=dx-dam"],
                         "a ConfigMap is no claim")

    def test_remote_search_gets_the_agent_on_its_profile(self):
        agent, spec = self.agent("dx-remote-search")
        mounts = self.check_common(agent, spec, "dx")
        self.assertEqual(mounts["/opt/HCL/AppServer/profiles"]["name"],
                         "prs-profile")
        self.assertIn("--component=remote-search", agent["args"])
        self.assertIn("--volume=profile=/opt/HCL/AppServer/profiles",
                      agent["args"])

    def test_core_custom_pvcs_are_captured_too(self):
        agent, spec = self.agent("dx-core")
        mounts = self.check_common(agent, spec, "dx")
        self.assertEqual(mounts["/opt/HCL/shared"]["name"], "custom-shared")
        self.assertEqual(mounts["/opt/HCL/reports"]["name"], "custom-reports")
        self.assertIn("--volume=custom-shared=/opt/HCL/shared", agent["args"])
        self.assertIn("--volume=custom-reports=/opt/HCL/reports",
                      agent["args"])
        # The pod template's claim is every core pod's: captured once.
        self.assertIn("--volume-claim=custom-shared=dx-core-custom-shared",
                      agent["args"])
        self.assertNotIn("/opt/HCL/tranlog", str(agent["args"]),
                         "only the volumes DX's values name")

    def test_a_custom_volume_name_no_target_can_have_is_an_error(self):
        broken = self.source.replace("dx-core-custom-shared",
                                     "dx-core-custom-shared.v2")
        p = run([RENDERER, "--scheduler=x:1"], stdin=broken, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("'shared.v2' cannot name a backup target", p.stderr)

    def test_everything_else_passes_through(self):
        for kind, name in (("Service", "dx-core"), ("ConfigMap", "dx-core"),
                           ("StatefulSet", "dx-persistence-node"),
                           ("ServiceAccount", "dx-deployment"),
                           ("RoleBinding", "dx-persistence")):
            self.assertEqual(find(self.docs, kind, name),
                             find(self.before, kind, name))
        self.assertEqual(len(self.docs), len(self.before) + 1,
                         "one more: the core pods' service account")

    def test_core_runs_as_a_service_account_of_its_own(self):
        core = find(self.docs, "StatefulSet", "dx-core")[0]
        self.assertEqual(core["spec"]["template"]["spec"]
                         ["serviceAccountName"], "dxbackup-core-dx")
        (account,) = find(self.docs, "ServiceAccount", "dxbackup-core-dx")
        self.assertEqual(account["metadata"]["namespace"], "dx-prod")
        self.assertEqual(account["imagePullSecrets"], [{"name": "dx-registry"}],
                         "DX's pull secret, or the core image would not pull")
        self.assertLess(self.docs.index(account), self.docs.index(core),
                        "made before the pods that run as it")
        # What DX bound to its account, the core's own gets too.
        binding = find(self.docs, "RoleBinding", "dx-deployment")[0]
        self.assertEqual(binding["subjects"], [
            {"kind": "ServiceAccount", "name": "dx-deployment",
             "namespace": "dx-prod"},
            {"kind": "ServiceAccount", "name": "dxbackup-core-dx",
             "namespace": "dx-prod"}])
        # DAM keeps the account it had (none named: "default").
        dam = find(self.docs, "StatefulSet", "dx-digital-asset-management")[0]
        self.assertNotIn("serviceAccountName", dam["spec"]["template"]["spec"])

    def test_core_service_account_agrees_with_the_chart(self):
        out = run([RENDERER, "--scheduler=x:1", "--values=" + EXAMPLE],
                  stdin=self.source).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        core = find(docs, "StatefulSet", "dx-core")[0]
        chart = render(EXAMPLE)
        binding = find(chart, "RoleBinding", "dxbackup-quiesce-dx",
                       "dx-prod")[0]
        self.assertEqual(core["spec"]["template"]["spec"]
                         ["serviceAccountName"], binding["subjects"][0]["name"])
        with open(os.path.join(CHART, "values.yaml")) as f:
            default = yaml.safe_load(f)["quiesce"]["coreServiceAccount"]
        self.assertEqual(default.replace("{release}", "dx"),
                         "dxbackup-core-dx", "the chart's default is ours")

    def test_core_service_account_can_be_left_to_dx(self):
        out = run([RENDERER, "--scheduler=x:1", "--core-service-account="],
                  stdin=self.source).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        core = find(docs, "StatefulSet", "dx-core")[0]
        self.assertEqual(core["spec"]["template"]["spec"]
                         ["serviceAccountName"], "dx-deployment")
        self.assertEqual(len(docs), len(self.before))
        self.assertEqual(find(docs, "RoleBinding", "dx-deployment"),
                         find(self.before, "RoleBinding", "dx-deployment"))

    def test_dx_admin_secret_is_mounted_for_the_core_agent_alone(self):
        out = run([RENDERER, "--scheduler=x:1",
                   "--dx-admin-secret=dx-admin"], stdin=self.source).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        spec = find(docs, "StatefulSet", "dx-core")[0]["spec"]["template"][
            "spec"]
        agent = [c for c in spec["containers"]
                 if c["name"] == "dxbackup-agent"][0]
        mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
        mount = mounts["/etc/dxbackup/dx-admin"]
        self.assertTrue(mount["readOnly"])
        volume = [v for v in spec["volumes"] if v["name"] == mount["name"]][0]
        self.assertEqual(volume["secret"]["secretName"], "dx-admin")
        self.assertEqual(sorted(i["path"] for i in volume["secret"]["items"]),
                         ["password", "username"])
        for c in spec["containers"]:
            if c["name"] != "dxbackup-agent":
                self.assertNotIn(mount["name"],
                                 [m["name"] for m in
                                  c.get("volumeMounts") or []])
        dam = find(docs, "StatefulSet", "dx-digital-asset-management")[0]
        self.assertNotIn(mount["name"],
                         [v["name"] for v in dam["spec"]["template"]["spec"]
                          ["volumes"]])
        again = run([RENDERER, "--scheduler=x:1",
                     "--dx-admin-secret=dx-admin"], stdin=out).stdout
        self.assertEqual(again, out, "running twice changes nothing more")

    def test_running_twice_changes_nothing_more(self):
        again = run([RENDERER, "--scheduler=dxb-dxbackup.backup.svc:7070"],
                    stdin=self.out).stdout
        self.assertEqual(again, self.out)

    def test_agent_image_and_resources_come_from_the_chart_values(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
            yaml.safe_dump({"agent": {
                "image": {"repository": "registry.example/dxbackup-agent",
                          "tag": "1.2.3"},
                "resources": {"requests": {"cpu": "20m", "memory": "48Mi"},
                              "limits": {"memory": "128Mi"}}}}, values)
            values.flush()
            out = run([RENDERER, "--scheduler=x:1", "--values=" + values.name],
                      stdin=self.source).stdout
        docs = [d for d in yaml.safe_load_all(out) if d]
        sts = find(docs, "StatefulSet", "dx-core")[0]
        agent = [c for c in sts["spec"]["template"]["spec"]["containers"]
                 if c["name"] == "dxbackup-agent"][0]
        self.assertEqual(agent["image"], "registry.example/dxbackup-agent:1.2.3")
        self.assertEqual(agent["resources"],
                         {"requests": {"cpu": "20m", "memory": "48Mi"},
                          "limits": {"memory": "128Mi"}})
        # The chart's own defaults are what the post-renderer's are.
        with open(os.path.join(CHART, "values.yaml")) as f:
            defaults = yaml.safe_load(f)
        self.assertEqual(self.agent("dx-core")[0]["resources"],
                         defaults["agent"]["resources"])

    def test_a_manifest_without_dx_volumes_is_an_error(self):
        broken = self.source.replace("/opt/HCL/profiles", "/elsewhere")
        p = run([RENDERER, "--scheduler=x:1"], stdin=broken, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/opt/HCL/profiles", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
