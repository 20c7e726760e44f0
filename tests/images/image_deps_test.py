#!/usr/bin/env python3
"""The images' runtime stages install every library their binaries link.

Docker is not needed: for each image, the Debian packages that own the
shared libraries `ldd` shows for the binary must be among the packages the
Dockerfile's runtime stage installs, or what those pull in (apt's
dependency closure, without recommends). Run by ctest with
DXBACKUP_BIN_DIR set.
"""
import os
import re
import subprocess
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DXBACKUP_BIN_DIR", os.path.join(ROOT, "build", "bin"))


def runtime_packages(dockerfile):
    """Packages the last stage's `apt-get install` lines name."""
    with open(os.path.join(ROOT, "images", dockerfile)) as f:
        text = f.read().replace("\\\n", " ")
    last_stage = text.split("\nFROM ")[-1]
    packages = set()
    for m in re.finditer(r"apt-get install -y --no-install-recommends([^&]*)",
                         last_stage):
        packages |= {p for p in m.group(1).split() if re.match(r"^[a-z0-9]", p)}
    return packages


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

    def test_agent_image(self):
        self.check("agent.Dockerfile", ["dxbackup-agent"])

    def test_scheduler_image(self):
        self.check("scheduler.Dockerfile", ["dxbackup-scheduler", "dxbackup"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
