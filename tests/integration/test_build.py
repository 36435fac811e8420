"""A build that explains itself: plain `make` on a machine without the
libraries names the missing Debian packages and the one command to install
them (or, as root, installs them as `make run` does) instead of stopping on a
compiler error.  The machine is simulated with stand-ins for pkg-config,
dpkg-query, id and apt-get put first on PATH; make runs with -n so that
nothing is built or changed."""

import os
import shutil
import subprocess
import tempfile

import harness

SERVER = False

# pkg-config and dpkg-query both answer from one marker file: before
# apt-get "installs", libevent-dev is missing and pkg-config finds nothing.
FAKES = {
    "pkg-config": """#!/bin/sh
[ -f "$FAKE_DIR/installed" ] && exec "$REAL_PKG_CONFIG" "$@"
exit 1
""",
    "dpkg-query": """#!/bin/sh
for a; do last=$a; done
if [ "$last" = libevent-dev ] && [ ! -f "$FAKE_DIR/installed" ]; then
    echo "dpkg-query: no packages found matching $last" >&2; exit 1
fi
printf 'install ok installed'
""",
    "id": """#!/bin/sh
echo "$FAKE_UID"
""",
    "apt-get": """#!/bin/sh
echo "$*" >> "$FAKE_DIR/apt-get.log"
case "$1" in install) touch "$FAKE_DIR/installed";; esac
exit 0
""",
}


def run_make(fake_dir, uid, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    env.update(PATH=fake_dir + os.pathsep + env["PATH"], FAKE_DIR=fake_dir,
               FAKE_UID=str(uid), REAL_PKG_CONFIG=shutil.which("pkg-config") or "false")
    return subprocess.run(["make", "--no-print-directory", "-n"] + list(args),
                          cwd=harness.ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def fake_machine():
    d = tempfile.mkdtemp(prefix="sendbench-fake-deb.")
    for name, text in FAKES.items():
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)
    return d


def test_make_names_missing_packages_and_the_command(t):
    d = fake_machine()
    try:
        r = run_make(d, 1000)
        t.true(r.returncode != 0, "make succeeded without libevent-dev: %s" % r.stdout[-300:])
        t.true("sudo apt-get install -y libevent-dev" in r.stderr,
               "make did not print the install command: %r" % r.stderr)
        t.true("build libraries missing" in r.stderr, "no reason line: %r" % r.stderr)
        t.true("fatal error" not in r.stderr and "event2/" not in r.stderr,
               "compiler error instead of the explanation: %r" % r.stderr)
        t.true(not os.path.exists(os.path.join(d, "apt-get.log")),
               "apt-get ran as a non-root user")
    finally:
        shutil.rmtree(d)


def test_make_as_root_runs_the_dependency_step(t):
    d = fake_machine()
    try:
        r = run_make(d, 0, "all")
        t.eq(r.returncode, 0, "make as root after installing (stderr %r)" % r.stderr[-400:])
        with open(os.path.join(d, "apt-get.log")) as f:
            log = f.read()
        t.true("install" in log and "libevent-dev" in log,
               "apt-get was not asked for libevent-dev: %r" % log)
        t.true("deps: installing libevent-dev" in r.stderr, "no note of what was installed")
    finally:
        shutil.rmtree(d)


def test_make_clean_needs_no_libraries(t):
    d = fake_machine()
    try:
        r = run_make(d, 1000, "clean")
        t.eq(r.returncode, 0, "make clean on a bare machine (stderr %r)" % r.stderr)
        t.true("apt-get" not in r.stderr, "make clean ran the dependency check")
    finally:
        shutil.rmtree(d)
