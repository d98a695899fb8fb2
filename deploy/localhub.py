"""A class hub on this machine, driven as a browser drives it: used by tests/test_hub.py and
benchmarks/bench_class.py.

``LocalHub`` starts JupyterHub with deploy/jupyterhub_config_trial.py (the class hub's
configuration with the dummy authenticator and every user run as the current Unix user, each in
a home folder of their own) on free ports of 127.0.0.1, and stops it together with every process
it started. Through the hub's REST API it creates users, gives each a token and starts their
servers; ``User`` then speaks to one user's server through the hub's proxy, with that user's
token: the contents API (open and save notebooks), nbgitpuller's pull, and kernels, run cell by
cell over the kernel's websocket exactly as JupyterLab does.

    with LocalHub(workdir) as hub:
        alice = hub.add_user("alice")
        hub.start_servers([alice])
        alice.git_pull("/path/to/cnn6.git", "main", "cnn6")
        kernel = alice.kernel("cnn6/book/02_convolution.ipynb")
        for result in kernel.run_notebook(alice.read("cnn6/book/02_convolution.ipynb")):
            assert not result.errors
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
import websocket

DEPLOY = Path(__file__).resolve().parent
TRIAL_CONFIG = DEPLOY / "jupyterhub_config_trial.py"


def free_port() -> int:
    """A port of 127.0.0.1 that is free now (bound to port 0, read back, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_marked(marker: str) -> list[psutil.Process]:
    """Every live process whose environment holds CNN6_HUB_RUN=``marker``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("CNN6_HUB_RUN") == marker and proc.status() != "zombie":
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


class HubError(RuntimeError):
    """The hub, a server or a kernel did not do what was asked; the message says what."""


class LocalHub:
    """JupyterHub on 127.0.0.1, its state, homes and exchange under ``workdir``.

    ``teachers``: names made hub admins (nbgrader acts for every student there).
    """

    def __init__(self, workdir: Path, teachers: tuple[str, ...] = ("teacher",)):
        self.workdir = Path(workdir)
        self.homes = self.workdir / "home"
        self.exchange = self.workdir / "exchange"
        self.state = self.workdir / "hub"
        self.teachers = teachers
        self.marker = uuid.uuid4().hex
        self.token = secrets.token_hex(32)
        self.url = ""
        self.proc: subprocess.Popen | None = None
        self.log_path = self.state / "jupyterhub.log"

    # ------------------------------------------------------------------ start and stop
    def __enter__(self) -> LocalHub:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        for folder in (self.homes, self.exchange, self.state):
            folder.mkdir(parents=True, exist_ok=True)
        # matplotlib's font cache, which a first import builds (and says so on stderr): built
        # once here for every user of the hub (all run as this Unix user)
        mplconfig = self.state / "matplotlib"
        subprocess.run(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            env=dict(os.environ, MPLCONFIGDIR=str(mplconfig)),
            check=True,
            capture_output=True,
        )
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = dict(
            os.environ,
            CNN6_HUB_URL=self.url,
            CNN6_HUB_HUB_URL=f"http://127.0.0.1:{free_port()}",
            CNN6_HUB_PROXY_API_URL=f"http://127.0.0.1:{free_port()}",
            CNN6_HUB_STATE=str(self.state),
            CNN6_HUB_HOMES=str(self.homes),
            CNN6_HUB_EXCHANGE=str(self.exchange),
            CNN6_HUB_TEACHERS=",".join(self.teachers),
            CNN6_HUB_DRIVER_TOKEN=self.token,
            CNN6_HUB_RUN=self.marker,
            MPLCONFIGDIR=str(mplconfig),
        )
        jupyterhub = Path(sys.executable).parent / "jupyterhub"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(jupyterhub), "-f", str(TRIAL_CONFIG)],
                cwd=self.state,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HubError(f"the hub exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "hub/api/", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        raise HubError(f"the hub did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self, tail: int = 4000) -> str:
        """The end of the hub's log."""
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self, grace: float = 30.0) -> list[int]:
        """Stop the hub (which stops the proxy and every server, and the servers their
        kernels), wait for it, then kill whatever process it started that is still alive.
        Returns the pids that had to be killed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        leftovers = processes_marked(self.marker)
        for proc in leftovers:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(leftovers, timeout=10)
        return [proc.pid for proc in leftovers]

    def processes(self) -> list[psutil.Process]:
        """Every live process this hub started (the hub included)."""
        return processes_marked(self.marker)

    # ------------------------------------------------------------------ the REST API
    def api(self, method: str, path: str, **json_body) -> dict | list | None:
        """Call the hub's REST API as the driver service; the decoded answer."""
        response = requests.request(
            method,
            self.url + "hub/api/" + path,
            headers={"Authorization": f"token {self.token}"},
            json=json_body or None,
            timeout=60,
        )
        if not response.ok:
            raise HubError(f"{method} hub/api/{path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def add_user(self, name: str) -> User:
        """Create the user ``name`` (an admin when a teacher) and a token of theirs."""
        if name not in self.teachers:  # teachers exist already: the hub's admin_users
            self.api("POST", f"users/{name}")
        token = self.api("POST", f"users/{name}/tokens", note="cnn6 localhub", expires_in=7200)
        return User(self, name, token["token"])

    def start_servers(self, users: list[User], timeout: float = 120.0) -> dict[str, float]:
        """Ask for every user's server at once; wait until all are ready. Seconds each took."""
        started = {}
        for user in users:
            self.api("POST", f"users/{user.name}/server")
            started[user.name] = time.monotonic()
        took: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while len(took) < len(users):
            if time.monotonic() > deadline:
                waiting = sorted(set(started) - set(took))
                raise HubError(f"servers not ready after {timeout:.0f} s: {waiting}\n{self.log()}")
            for user in users:
                if user.name in took:
                    continue
                model = self.api("GET", f"users/{user.name}")
                server = model.get("servers", {}).get("")
                if server and server.get("ready"):
                    took[user.name] = time.monotonic() - started[user.name]
                elif not server and not model.get("pending"):
                    raise HubError(f"{user.name}'s server failed to start:\n{self.log()}")
            time.sleep(0.25)
        return took


@dataclass
class CellResult:
    """What one code cell sent back: every output message, and the errors among them."""

    index: int
    outputs: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """An error (ename: evalue) or a stderr stream per output that is one."""
        found = []
        for out in self.outputs:
            if out["msg_type"] == "error":
                found.append(f"{out['content']['ename']}: {out['content']['evalue']}")
            elif out["msg_type"] == "stream" and out["content"]["name"] == "stderr":
                found.append("stderr: " + out["content"]["text"])
        return found

    @property
    def text(self) -> str:
        """The stdout streams, joined."""
        return "".join(
            out["content"]["text"]
            for out in self.outputs
            if out["msg_type"] == "stream" and out["content"]["name"] == "stdout"
        )


class User:
    """One user of the hub, acting through the proxy with their own token."""

    def __init__(self, hub: LocalHub, name: str, token: str):
        self.hub, self.name, self.token = hub, name, token
        self.base = f"{hub.url}user/{name}/"
        self.headers = {"Authorization": f"token {token}"}

    @property
    def home(self) -> Path:
        return self.hub.homes / self.name

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method, self.base + path, headers=self.headers, timeout=120, **kwargs
        )
        if not response.ok:
            raise HubError(f"{self.name}: {method} {path}: {response.status_code} {response.text}")
        return response

    # ------------------------------------------------------------------ files
    def read(self, path: str) -> dict:
        """The notebook at ``path`` (relative to the user's home), as JupyterLab opens it."""
        return self.request("GET", f"api/contents/{path}", params={"content": 1}).json()["content"]

    def save(self, path: str, notebook: dict) -> None:
        """Save ``notebook`` to ``path``, as JupyterLab's save does."""
        self.request("PUT", f"api/contents/{path}", json={"type": "notebook", "content": notebook})

    def git_pull(self, repo: str, branch: str, targetpath: str) -> list[dict]:
        """Follow an nbgitpuller link: pull ``repo`` into ``targetpath``; the events it sent.

        The link's page streams the pull from ``git-pull/api``; this reads that stream.
        """
        params = {"repo": repo, "branch": branch, "targetpath": targetpath}
        events = []
        with requests.get(
            self.base + "git-pull/api",
            params=params,
            headers=self.headers,
            stream=True,
            timeout=120,
        ) as response:
            if not response.ok:
                raise HubError(f"{self.name}: git-pull: {response.status_code} {response.text}")
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("data: "):
                    events.append(json.loads(line[len("data: ") :]))
                    if events[-1].get("phase") in ("finished", "error"):
                        break
        if not events or events[-1].get("phase") != "finished":
            raise HubError(f"{self.name}: git-pull did not finish: {events[-3:]}")
        return events

    # ------------------------------------------------------------------ kernels
    def kernel(self, path: str) -> Kernel:
        """Open ``path`` in a new session with a ``python3`` kernel (its working directory is
        the notebook's folder), connected over the kernel's websocket."""
        model = self.request(
            "POST",
            "api/sessions",
            json={"path": path, "name": "", "type": "notebook", "kernel": {"name": "python3"}},
        ).json()
        return Kernel(self, model["kernel"]["id"], model["id"])


class Kernel:
    """A running kernel of a user's server, spoken to over its websocket channels."""

    def __init__(self, user: User, kernel_id: str, session_id: str):
        self.user, self.id, self.session_id = user, kernel_id, session_id
        self.client_session = uuid.uuid4().hex
        self._connect()

    def _connect(self) -> None:
        url = self.user.base.replace("http://", "ws://", 1) + f"api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {self.user.token}"], timeout=600
        )

    def close(self) -> None:
        """Close the websocket and shut the kernel down (its session is deleted)."""
        try:
            self.ws.close()
        finally:
            self.user.request("DELETE", f"api/sessions/{self.session_id}")

    def pid(self) -> int | None:
        """The kernel's process id (found by its connection file), or None."""
        for proc in self.user.hub.processes():
            try:
                if any(self.id in arg for arg in proc.cmdline()):
                    return proc.pid
            except psutil.NoSuchProcess:
                continue
        return None

    def execute(self, code: str, index: int = 0, timeout: float = 600.0) -> CellResult:
        """Run ``code``; wait for the kernel to be idle again; what it sent back."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": self.user.name,
                        "session": self.client_session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        result = CellResult(index)
        replied = idle = False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise HubError(
                    f"{self.user.name}: cell {index} still running after {timeout} s"
                ) from None
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if message["channel"] == "shell" and kind == "execute_reply":
                replied = True
            elif kind == "status":
                idle = message["content"]["execution_state"] == "idle"
            elif kind in ("stream", "error", "execute_result", "display_data"):
                result.outputs.append({"msg_type": kind, "content": message["content"]})
        return result

    def run_notebook(self, notebook: dict, stop: int | None = None) -> list[CellResult]:
        """Run the code cells of ``notebook`` in order (the first ``stop`` only, if given)."""
        results = []
        for index, cell in enumerate(notebook["cells"]):
            if stop is not None and index >= stop:
                break
            if cell["cell_type"] == "code":
                source = cell["source"]
                code = "".join(source) if isinstance(source, list) else source
                results.append(self.execute(code, index))
        return results

    def restart(self, timeout: float = 60.0) -> None:
        """Restart the kernel, as Kernel > Restart does, and wait until it answers again."""
        self.ws.close()
        self.user.request("POST", f"api/kernels/{self.id}/restart")
        self._connect()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.execute("pass", timeout=10)
                return
            except HubError:
                if time.monotonic() > deadline:
                    raise

    def interrupt(self) -> None:
        """Interrupt the running cell, as Kernel > Interrupt does."""
        self.user.request("POST", f"api/kernels/{self.id}/interrupt")
