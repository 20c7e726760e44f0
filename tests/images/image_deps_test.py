#!/usr/bin/env python3
"""The images' runtime stages hold every library their binaries link.

Docker is not needed. The scheduler image: the Debian packages that own
the shared libraries `ldd` shows for its binaries must be among the
packages the Dockerfile's runtime stage installs, or what those pull in
(apt's dependency closure, without recommends). The agent image is one
layer that images/rootfs.sh assembles: the test assembles the same root
from the built agent and runs the agent and /bin/sh chrooted into it, and
bounds its size. Run by ctest with DXBACKUP_BIN_DIR set.
"""
import os
import re
import subprocess
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DXBACKUP_BIN_DIR", os.path.join(ROOT, "build", "bin"))


def named(command, text):
    """Package names the `command` lines of `text` name."""
    packages = set()
    for m in re.finditer(command + r"([^&;]*)", text):
        packages |= {p for p in m.group(1).split() if re.match(r"^[a-z0-9]", p)}
    return packages


def runtime_packages(dockerfile):
    """Packages the last stage's `apt-get install` lines name, less those
    it purges again (what only they pulled in goes with autoremove)."""
    with open(os.path.join(ROOT, "images", dockerfile)) as f:
        text = f.read().replace("\\\n", " ")
    last_stage = text.split("\nFROM ")[-1]
    return (named(r"apt-get install -y --no-install-recommends", last_stage) -
            named(r"apt-get purge -y", last_stage))


def closure(packages):
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances"] + sorted(packages),
        capture_output=True, text=True, check=True).stdout
    names = set(packages)
    for line in out.splitlines():
        line = line.strip()
        if line.startswith(("Depends:", "PreDepends:")):
            names.add(line.split(":", 1)[1].strip().strip("<>").split(":")[0])
        elif line and not line.startswith(("|", "Depends", "PreDepends")):
            names.add(line.split(":")[0])
    return names


def linked_packages(binary):
    """Debian packages owning the shared libraries `binary` loads."""
    owners = set()
    for line in subprocess.run(["ldd", binary], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        m = re.search(r"=> (/\S+)", line)
        if not m:
            continue
        lib = m.group(1)
        # Debian 12 merged /lib into /usr/lib; dpkg knows one of the names.
        candidates = [lib, os.path.realpath(lib)]
        candidates += [c.replace("/usr/lib/", "/lib/", 1) for c in candidates]
        candidates += [c.replace("/lib/", "/usr/lib/", 1)
                       for c in candidates if c.startswith("/lib/")]
        for candidate in candidates:
            p = subprocess.run(["dpkg", "-S", candidate], capture_output=True,
                               text=True)
            if p.returncode == 0:
                owners.add(p.stdout.split(":")[0])
                break
        else:
            raise AssertionError("no Debian package owns %s" % lib)
    return owners


class ImageDepsTest(unittest.TestCase):
    def check(self, dockerfile, binaries):
        have = closure(runtime_packages(dockerfile))
        for b in binaries:
            missing = linked_packages(os.path.join(BIN, b)) - have
            self.assertEqual(missing, set(),
                             "%s: %s links libraries of packages the image "
                             "does not install" % (dockerfile, b))

    def test_agent_image_runs_from_its_assembled_root(self):
        with open(os.path.join(ROOT, "images", "agent.Dockerfile")) as f:
            text = f.read().replace("\\\n", " ")
        runtime = text.split("\nFROM ")[-1]
        self.assertTrue(runtime.startswith("scratch"), runtime)
        self.assertIn("COPY --from=build /rootfs /", runtime)
        call = re.search(r"images/rootfs.sh /rootfs ([^\n]*)", text)
        self.assertIsNotNone(call, "agent.Dockerfile does not run rootfs.sh")
        self.assertIn("/bin/dash:/bin/sh", call.group(1).split())
        if os.geteuid() != 0:
            self.skipTest("chroot needs root (the test command runs as root)")
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "root")
            subprocess.run(
                [os.path.join(ROOT, "images", "rootfs.sh"), root,
                 os.path.join(BIN, "dxbackup-agent") +
                 ":/usr/local/bin/dxbackup-agent", "/bin/dash:/bin/sh"],
                check=True)
            # Only what rootfs.sh put there: a missing library fails here.
            agent = subprocess.run(
                ["chroot", "--userspec=1000:1000", root,
                 "/usr/local/bin/dxbackup-agent", "--help"],
                capture_output=True, text=True)
            self.assertEqual(agent.returncode, 0, agent.stderr)
            self.assertIn("--scheduler", agent.stdout)
            shell = subprocess.run(
                ["chroot", "--userspec=1000:1000", root, "/bin/sh", "-c",
                 "echo hook > /tmp/out && read line < /tmp/out && echo $line"],
                capture_output=True, text=True)
            self.assertEqual((shell.returncode, shell.stdout), (0, "hook\n"),
                             shell.stderr)
            size = sum(os.path.getsize(os.path.join(d, f))
                       for d, _, files in os.walk(root) for f in files)
            # kubectl (36-50 MB) comes on top; the image stays under 100 MB.
            print("agent root without kubectl: %.1f MiB" % (size / 2**20))
            self.assertLess(size, 40 * 2**20)

    def test_scheduler_image(self):
        self.check("scheduler.Dockerfile", ["dxbackup-scheduler", "dxbackup"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
