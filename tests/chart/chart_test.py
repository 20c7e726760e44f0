#!/usr/bin/env python3
"""The Helm chart and the DX post-renderer, checked on what they render.

- `helm lint` and `helm template` pass with the default values and with the
  example fleet (charts/examples/dx-fleet-values.yaml);
- the NetworkPolicy lets the scheduler reach only DNS, each database (by
  its host) and what the values add;
- the scheduler's StatefulSet: selectors that match its pods and Service,
  gRPC probes on the health service, a non-root read-only security context,
  the config, TLS, token and database Secrets mounted;
- the rendered config and tokens file run a real dxbackup-scheduler, and
  the rendered CLI tokens get exactly their roles from it;
- a quiesce limit beyond DX's liveness tolerance is refused;
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
import hashlib
import os
import subprocess
import tempfile
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

    def test_rendered_config_and_tokens_run_the_scheduler(self):
        docs = render(EXAMPLE)
        config = yaml.safe_load(
            find(docs, "ConfigMap", "dxb-dxbackup")[0]["data"]["config.yaml"])
        cli = find(docs, "Secret", "dxb-dxbackup-cli")[0]
        with tempfile.TemporaryDirectory() as work:
            tokens_path = os.path.join(work, "tokens.yaml")
            with open(tokens_path, "w") as f:
                f.write(secret_value(find(docs, "Secret",
                                          "dxb-dxbackup-tokens")[0],
                                     "tokens.yaml"))
            config["tokens_file"] = tokens_path
            config_path = os.path.join(work, "config.yaml")
            with open(config_path, "w") as f:
                yaml.safe_dump(config, f)
            scheduler = subprocess.Popen(
                [os.path.join(BIN, "dxbackup-scheduler"),
                 "--insecure-loopback", "--listen", "127.0.0.1:0",
                 "--data-dir", os.path.join(work, "data"),
                 "--config", config_path],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = scheduler.stdout.readline()
                self.assertIn("listening on port", line,
                              scheduler.stderr.read() if not line else line)
                address = "127.0.0.1:" + line.split()[-1]

                def cli_as(role, *verb):
                    token_path = os.path.join(work, role)
                    with open(token_path, "w") as f:
                        f.write(secret_value(cli, role + "-token"))
                    return run([os.path.join(BIN, "dxbackup"),
                                "--insecure-loopback", "--server", address,
                                "--token-file", token_path] + list(verb),
                               check=False)

                self.assertEqual(cli_as("viewer", "policies").returncode, 0)
                refused = cli_as("viewer", "prune", "--dry-run")
                self.assertNotEqual(refused.returncode, 0)
                self.assertIn("needs OPERATOR", refused.stdout + refused.stderr)
                self.assertEqual(
                    cli_as("operator", "prune", "--dry-run").returncode, 0)
            finally:
                scheduler.terminate()
                scheduler.communicate()

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
