"""docker-compose.yml and the Dockerfile checked without a container
runtime (issue 20; docs/scale-out.md says what is and is not checked).

This machine has no Docker daemon and no registry, so no image is built and
no container runs.  What can be checked with real tools is:
  - Debian's docker-compose parses and validates the file (`config`: the
    schema, every ${...} resolved, the anchors merged);
  - the topology: HAProxy, two servers, primary, standby, a one-shot migrate
    step every server waits for;
  - a server started as the compose file starts one (its command's flags,
    its environment's settings, the database URLs swapped for this test's)
    comes up ready, and its health check command passes;
  - the shell in the standby's and the migrate step's commands parses;
  - HAProxy's file is what `scripts/cluster.sh haproxy-config compose`
    prints for the file's servers, and `haproxy -c` accepts it;
  - the Dockerfile's build stage installs every library package
    scripts/deps.sh builds with, and its run stage the package of every
    shared library bin/sendbench needs (readelf NEEDED, dpkg -S)."""

import os
import re
import shutil
import subprocess
import time

import harness

SERVER = False
COMPOSE = os.path.join(harness.ROOT, "docker-compose.yml")
HAPROXY_CFG = os.path.join(harness.ROOT, "scripts/cluster-compose-haproxy.cfg")
DOCKERFILE = os.path.join(harness.ROOT, "Dockerfile")


def compose_config(t):
    yaml = harness.debian_module("yaml")
    t.true(shutil.which("docker-compose"), "docker-compose (Debian's package) is installed")
    r = subprocess.run(["docker-compose", "-f", COMPOSE, "config"], capture_output=True,
                       text=True, timeout=60, cwd=harness.ROOT,
                       env=dict(os.environ, COMPOSE_PROJECT_NAME="sendbench"))
    t.eq(r.returncode, 0, "docker-compose config: " + r.stderr)
    t.eq(r.stderr.strip(), "", "no warnings")
    return yaml.safe_load(r.stdout)


def unescape(s):
    return s.replace("$$", "$")


def test_the_file_is_valid_and_has_the_topology(t):
    cfg = compose_config(t)
    svc = cfg["services"]
    t.eq(sorted(svc), ["haproxy", "migrate", "primary", "server1", "server2", "standby"],
         "services")
    for name in ("server1", "server2"):
        s = svc[name]
        t.eq(s["depends_on"]["migrate"]["condition"], "service_completed_successfully",
             "%s waits for the migrate step" % name)
        t.eq(s["command"][:2], ["sendbench", "serve"], "%s runs the server" % name)
        t.true(s["environment"]["DATABASE_URL"].endswith("target_session_attrs=read-write"
                                                         "&connect_timeout=2"),
               "%s: multi-host --db that finds the primary" % name)
        t.true("@primary:5432,standby:5432/" in s["environment"]["DATABASE_URL"],
               "%s: both nodes in --db" % name)
        t.true("@standby:5432/" in s["environment"]["SENDBENCH_DB_READ"],
               "%s reads on the standby" % name)
    t.eq(svc["migrate"]["restart"], "no", "migrate is one-shot")
    t.true("sendbench migrate" in svc["migrate"]["command"][-1], "migrate migrates")
    t.eq(svc["standby"]["depends_on"]["primary"]["condition"], "service_healthy",
         "the standby's base backup waits for the primary")
    t.eq(set(svc["haproxy"]["depends_on"]), {"server1", "server2"}, "HAProxy's servers")
    t.true(any(v.startswith(os.path.join(harness.ROOT, "scripts/cluster-compose-haproxy.cfg:"))
               for v in svc["haproxy"]["volumes"]), "HAProxy gets its file")


def test_the_shell_in_the_commands_parses(t):
    svc = compose_config(t)["services"]
    for name, shell, script in (("standby", "bash", svc["standby"]["command"][0]),
                                ("migrate", "sh", svc["migrate"]["command"][-1])):
        r = subprocess.run([shell, "-n", "-c", unescape(script)], capture_output=True,
                           text=True, timeout=30)
        t.eq(r.returncode, 0, "%s's command: %s" % (name, r.stderr))


def test_a_server_starts_as_compose_starts_it(t):
    """Every SENDBENCH_* name of the environment is a setting the server
    has (serve --help), and the server started with that environment and
    command (this test's database for primary and standby) is ready."""
    s = compose_config(t)["services"]["server1"]
    env = {k: str(v) for k, v in s["environment"].items()}
    helptext = subprocess.run([harness.BIN, "serve", "--help"], capture_output=True,
                              text=True, timeout=30)
    known = set(re.findall(r"\b(SENDBENCH_[A-Z_]+)\b", helptext.stdout + helptext.stderr))
    for k in env:
        if k != "DATABASE_URL":
            t.true(k in known, "%s is a setting of sendbench serve" % k)
    args = list(s["command"][2:])
    for i, a in enumerate(args[:-1]):
        if a == "--port":
            args[i + 1] = "0"      # any free port here
    del env["DATABASE_URL"]        # the harness gives --db
    env["SENDBENCH_DB_READ"] = harness.db_url(t.db)
    srv = harness.Server(t.db, args, env=env)
    try:
        # /readyz needs the change listener, which connects after /healthz
        # first answers (the harness waits for that only): on a loaded
        # machine it has been seen 503 "the change listener is not
        # connected" at the first ask.  HAProxy keeps asking too.
        deadline = time.time() + 15
        while True:
            st, _, b = srv.request("GET", "/readyz")
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.1)
        t.eq(st, 200, "/readyz within 15 s: %r" % b)
        check = s["healthcheck"]["test"]
        t.eq(check[0], "CMD-SHELL", "the health check is a shell command")
        cmd = check[1].replace("127.0.0.1:8080", "127.0.0.1:%d" % srv.port)
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30)
        t.eq(r.returncode, 0, "the health check passes: " + r.stderr)
    finally:
        t.eq(srv.stop(), 0, "exit status")


def test_haproxy_file_is_the_cluster_scripts_and_valid(t):
    svc = compose_config(t)["services"]
    n = len([k for k in svc if re.fullmatch(r"server\d+", k)])
    r = subprocess.run(["scripts/cluster.sh", "haproxy-config", "compose"], capture_output=True,
                       text=True, timeout=30, cwd=harness.ROOT,
                       env=dict(os.environ, CLUSTER_SERVERS=str(n)))
    t.eq(r.returncode, 0, "haproxy-config compose: " + r.stderr)
    with open(HAPROXY_CFG) as f:
        t.eq(f.read(), r.stdout, "scripts/cluster-compose-haproxy.cfg is what "
                                 "`scripts/cluster.sh haproxy-config compose` prints")
    t.true(shutil.which("haproxy"), "haproxy is installed")
    c = subprocess.run(["haproxy", "-c", "-f", HAPROXY_CFG], capture_output=True, text=True,
                       timeout=30)
    t.eq(c.returncode, 0, "haproxy -c: " + c.stdout + c.stderr)
    # The only warnings: the servers' names, which only Docker's DNS knows.
    for line in (c.stdout + c.stderr).splitlines():
        if "[WARNING]" in line:
            t.true(re.search(r"could not resolve address 'server\d+'", line), line)


def dockerfile_stages():
    """The packages each stage's apt-get install names."""
    with open(DOCKERFILE) as f:
        text = f.read().replace("\\\n", " ")
    stages = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            stages.append(set())
        m = re.search(r"apt-get install (.*?)(&&|$)", line)
        if m and stages:
            stages[-1].update(w for w in m.group(1).split() if not w.startswith("-"))
    return stages


def test_the_dockerfile_installs_what_the_server_needs(t):
    build, run = dockerfile_stages()
    with open(os.path.join(harness.ROOT, "scripts/deps.sh")) as f:
        m = re.search(r"^PKGS=\((.*?)\)", f.read(), re.S | re.M)
    wanted = [p for p in m.group(1).split()
              if p.endswith("-dev") or p in ("build-essential", "pkg-config")]
    t.true(len(wanted) >= 10, "deps.sh's build packages: %r" % wanted)
    for p in wanted:
        t.true(p in build, "the build stage installs %s (scripts/deps.sh builds with it)" % p)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    elf = subprocess.run(["readelf", "-d", harness.BIN], capture_output=True, text=True,
                         check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", elf)
    t.true("libpq.so.5" in needed, "readelf lists the libraries: %r" % needed)
    for so in needed:
        if re.match(r"lib(asan|ubsan|lsan|tsan)\.so", so):
            continue        # a sanitizer build's runtime (make test SANITIZE=...)
        owners = subprocess.run(["dpkg", "-S", "*/" + so], capture_output=True, text=True)
        pkgs = {line.split(":")[0] for line in owners.stdout.splitlines()
                if re.match(r"[^:]+:%s: " % re.escape(arch), line)}
        t.true(pkgs, "a Debian package has %s" % so)
        if pkgs == {"libc6"}:
            continue        # in every Debian image
        t.true(pkgs & run, "the run stage installs %s's package (%s)" % (so, ", ".join(pkgs)))
