"""Helpers for the tests that use the real Docker engine (test_docker_image.py,
test_docker_compose.py), and the CTest fixture that builds their images once:

    emu_docker.py build  --repo DIR --state FILE    # ecs-emulator:test and ecs-emulator-demo:test
    emu_docker.py remove --state FILE               # those tags and the build-stage image the
                                                    # build left (ECS_EMULATOR_KEEP_TEST_IMAGES=1
                                                    # keeps them, for quicker local reruns)

Without a Docker engine, or without the `debian:bookworm` base image (scripts/docker-base-image.sh
makes it offline), everything here fails with a message saying so: these tests never skip.
Traffic goes only to loopback and to the containers and networks the tests create.
"""
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import emu

DOCKER = shutil.which("docker", path="/usr/bin:/bin") or shutil.which("docker") or "/usr/bin/docker"
COMPOSE = shutil.which("docker-compose", path="/usr/bin:/bin") or shutil.which("docker-compose") or \
    "/usr/bin/docker-compose"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IMAGE = "ecs-emulator:test"
DEMO_IMAGE = "ecs-emulator-demo:test"
BASE_IMAGE = "debian:bookworm"
STAGE_LABEL = "ecs-emulator.stage=build"
IMAGE_SIZE_LIMIT = 40 * 1000 * 1000  # SPEC 10: runtime image under 40 MB


def run(cmd, timeout=120, check=True, env=None, input=None):
    """Runs a command; returns its CompletedProcess (text). `check` fails with its output."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s: no result within %ds\nstdout: %s\nstderr: %s"
                             % (" ".join(cmd), timeout, e.stdout, e.stderr))
    if check and out.returncode != 0:
        raise AssertionError("%s: exit %d\nstdout: %s\nstderr: %s"
                             % (" ".join(cmd), out.returncode, out.stdout[-4000:], out.stderr[-4000:]))
    return out


def docker(*args, timeout=120, check=True):
    """`docker ARGS`; returns stdout."""
    return run([DOCKER] + list(args), timeout=timeout, check=check).stdout


def inspect(kind, name):
    """`docker <kind> inspect` as JSON, or None when it does not exist."""
    out = run([DOCKER, kind, "inspect", name], check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]


def require_docker():
    """Fails (never skips) when no Docker engine answers."""
    if not os.path.exists(DOCKER):
        raise AssertionError("the docker client (%s) is missing: scripts/install-deps.sh installs "
                             "docker.io" % DOCKER)
    out = run([DOCKER, "version", "--format", "{{.Server.Version}}"], check=False, timeout=30)
    if out.returncode != 0:
        raise AssertionError("no Docker engine answers (scripts/start-dockerd.sh starts one): %s"
                             % out.stderr.strip())
    return out.stdout.strip()


def wait_until(predicate, timeout, interval=0.2, message="condition"):
    """emu.wait_until, polling Docker less often (every 0.2 s by default)."""
    return emu.wait_until(predicate, timeout, interval=interval, message=message)


def health(container):
    """Docker's health status of a container ('starting', 'healthy', 'unhealthy'), or its state
    when it has no health or stopped."""
    info = inspect("container", container)
    if info is None:
        return "missing"
    state = info["State"]
    if not state.get("Running"):
        return "exited(%s)" % state.get("ExitCode")
    return (state.get("Health") or {}).get("Status", "none")


def wait_healthy(container, timeout=60):
    def ready():
        status = health(container)
        if status.startswith("exited") or status in ("missing", "unhealthy"):
            raise AssertionError("container %s is %s:\n%s" % (container, status, logs(container)))
        return status == "healthy"
    wait_until(ready, timeout, message="container %s to be healthy" % container)


def logs(container):
    out = run([DOCKER, "logs", container], check=False, timeout=60)
    return out.stdout + out.stderr


def container_ip(container, network):
    info = inspect("container", container)
    return info["NetworkSettings"]["Networks"][network]["IPAddress"]


def used_subnets():
    """Every IPv4 subnet of the Docker networks and of the host's routes."""
    nets = []
    for name in docker("network", "ls", "--format", "{{.Name}}").split():
        info = inspect("network", name) or {}
        for cfg in (info.get("IPAM") or {}).get("Config") or []:
            try:
                nets.append(ipaddress.ip_network(cfg.get("Subnet", ""), strict=False))
            except ValueError:
                pass
    out = run(["ip", "-4", "route", "show"], check=False)
    for line in out.stdout.splitlines():
        word = line.split(" ", 1)[0]
        if word != "default":
            try:
                nets.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                pass
    return [n for n in nets if n.version == 4]


def free_prefix(candidates=range(100, 200), base="172.29"):
    """A /24 prefix ("172.29.N") that no Docker network or host route overlaps."""
    used = used_subnets()
    for n in candidates:
        net = ipaddress.ip_network("%s.%d.0/24" % (base, n))
        if not any(net.overlaps(u) for u in used):
            return "%s.%d" % (base, n)
    raise AssertionError("no free /24 in %s.%d-%d" % (base, candidates[0], candidates[-1]))


def free_port():
    """A loopback port free for both TCP and UDP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise AssertionError("no free loopback port")


def require_base_image():
    if inspect("image", BASE_IMAGE) is None:
        raise AssertionError("the image %s is missing: scripts/docker-base-image.sh makes it "
                             "without a registry" % BASE_IMAGE)


def stage_images():
    """IDs of the images the Dockerfile's build stage left (label ecs-emulator.stage=build)."""
    return set(docker("images", "-a", "-q", "--no-trunc", "--filter", "label=" + STAGE_LABEL).split())


def build_images(repo=REPO, state=None):
    """Builds ecs-emulator:test (the Dockerfile at the repo root) and ecs-emulator-demo:test
    (examples/grpc-demo), one after the other; returns the seconds each took."""
    require_docker()
    require_base_image()
    if state:
        with open(state, "w") as f:
            json.dump({"stage_images_before": sorted(stage_images())}, f)
    times = {}
    for tag, context in ((IMAGE, repo), (DEMO_IMAGE, os.path.join(repo, "examples", "grpc-demo"))):
        start = time.monotonic()
        out = run([DOCKER, "build", "-t", tag, context], timeout=3600, check=False)
        if out.returncode != 0:
            raise AssertionError("docker build -t %s %s failed:\n%s\n%s"
                                 % (tag, context, out.stdout[-6000:], out.stderr[-3000:]))
        times[tag] = time.monotonic() - start
    return times


def remove_images(state=None):
    """Removes the test tags and the build-stage images made since build_images(state)."""
    before = set()
    if state and os.path.exists(state):
        with open(state) as f:
            before = set(json.load(f).get("stage_images_before", []))
    for tag in (IMAGE, DEMO_IMAGE):
        if inspect("image", tag) is not None:
            docker("rmi", tag, check=False)
    for image in sorted(stage_images() - before):
        # Only the untagged ones: a tagged image with the label is somebody's on purpose.
        info = inspect("image", image)
        if info is not None and not info.get("RepoTags"):
            docker("rmi", image, check=False)
    if state and os.path.exists(state):
        os.unlink(state)


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("build", "remove"):
        sys.exit("usage: emu_docker.py build [--repo DIR] [--state FILE] | remove [--state FILE]")
    opts = dict(zip(args[1::2], args[2::2]))
    state = opts.get("--state")
    if args[0] == "build":
        print("docker engine %s" % require_docker(), flush=True)
        times = build_images(opts.get("--repo", REPO), state)
        for tag, seconds in times.items():
            size = inspect("image", tag)["Size"]
            print("built %s: %.1f MB in %.0f s" % (tag, size / 1e6, seconds), flush=True)
    elif os.environ.get("ECS_EMULATOR_KEEP_TEST_IMAGES") == "1":
        print("ECS_EMULATOR_KEEP_TEST_IMAGES=1: keeping %s and %s" % (IMAGE, DEMO_IMAGE))
    else:
        require_docker()
        remove_images(state)
        print("removed %s, %s and their build-stage images" % (IMAGE, DEMO_IMAGE))


if __name__ == "__main__":
    main()
