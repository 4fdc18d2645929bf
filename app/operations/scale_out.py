"""Several app processes on one PostgreSQL behind nginx (`python -m app scale-out`).

The engines carry it: nginx spreads the requests, PostgreSQL holds the sessions
and relays board events (LISTEN/NOTIFY) and webhook claims (SKIP LOCKED), and the
processes share the photo storage. This starts them the way the README's recipe
does, and the tests that need several processes start them through it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from app.settings import ROOT

NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf"
START_TIMEOUT_S = 60.0


class ScaleOutError(RuntimeError):
    """The processes or the proxy could not be started (the message says which and why)."""


def find_nginx() -> str | None:
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_nginx(listen: str, upstreams: list[str], prefix: Path) -> str:
    servers = "\n".join(f"        server {address} max_fails=0;" for address in upstreams)
    text = NGINX_TEMPLATE.read_text()
    fields = {"listen": listen, "servers": servers, "prefix": str(prefix), "user": _user()}
    for name, value in fields.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310 - ours
            return int(answer.status) == 200
    except OSError:
        return False


@dataclass
class ScaleOut:
    """`processes` app processes on `database_url`, nginx in front on `port`."""

    database_url: str
    data_dir: Path
    processes: int = 2
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    env: dict[str, str] = field(default_factory=dict)  # more settings for every process
    ports: list[int] = field(default_factory=list)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def prefix(self) -> Path:
        return self.data_dir / "nginx"

    def log(self, n: int) -> Path:
        return self.data_dir / f"app-{n}.log"

    def app_env(self, n: int) -> dict[str, str]:
        return {
            **os.environ,
            **self.env,
            "WALKAROUND_DATABASE_URL": self.database_url,
            "WALKAROUND_DATA_DIR": str(self.data_dir),
            "WALKAROUND_BOARD_EVENTS": "postgres",
            "WALKAROUND_INSTANCE": f"app-{n}",
            "PYTHONUNBUFFERED": "1",
        }

    def _command(self, *args: str, env: dict[str, str]) -> None:
        done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise ScaleOutError(f"`walkaround {' '.join(args)}` failed:\n{done.stderr[-3000:]}")

    def prepare(self, demo: bool = False) -> None:
        """Migrate once (and load the demo), before any process serves: processes
        started together would otherwise all upgrade the schema at once."""
        if not self.database_url.startswith("postgresql"):
            raise ScaleOutError("several processes need WALKAROUND_DATABASE_URL on PostgreSQL")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._command("migrate", env=self.app_env(0))
        if demo:
            self._command("demo", env=self.app_env(0))

    def start(self) -> None:
        nginx = find_nginx()
        if nginx is None:
            raise ScaleOutError("nginx is not installed (Debian: apt-get install nginx)")
        self.ports = [free_port() for _ in range(self.processes)]
        for n, port in enumerate(self.ports, start=1):
            argv = [sys.executable, "-m", "app", "serve", "--no-demo",
                    "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
            with self.log(n).open("ab") as out:
                child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    argv, cwd=ROOT, env=self.app_env(n), stdout=out, stderr=subprocess.STDOUT
                )
            self.children.append(child)
        for n, port in enumerate(self.ports, start=1):
            self._wait(f"http://127.0.0.1:{port}", self.children[n - 1], self.log(n))
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"
        upstreams = [f"127.0.0.1:{port}" for port in self.ports]
        config.write_text(render_nginx(f"{self.host}:{self.port}", upstreams, self.prefix))
        argv = [nginx, "-p", str(self.prefix), "-c", str(config), "-e", "stderr"]
        with (self.prefix / "stdout.log").open("ab") as out:
            proxy = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        self.children.append(proxy)
        self._wait(self.url, self.children[-1], self.prefix / "stdout.log")

    def _wait(self, url: str, child: subprocess.Popen[bytes], log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if child.poll() is not None:
                self.stop()
                raise ScaleOutError(f"{url} exited at start:\n{log.read_text()[-3000:]}")
            if _healthy(url):
                return
            time.sleep(0.1)
        self.stop()
        raise ScaleOutError(f"{url} was not healthy in {START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        # nginx first (last started): no request reaches a process that is going.
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(self.children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                child.wait(timeout=5)
        self.children.clear()

    def wait(self) -> None:
        """Until one of them exits or Ctrl-C; then stop the rest."""
        try:
            while all(child.poll() is None for child in self.children):
                time.sleep(0.5)
        finally:
            self.stop()
