"""JupyterHub for a class on one machine: the cnn6 book and its assignments.

Run it from the book's environment (the venv that ``make hub-env`` completes), as root, so that
each student gets a server of their own, run as their own Unix account:

    make hub-env vendor                # JupyterHub, nbgitpuller, nbgrader; the proxy from npm
    .venv/bin/jupyterhub -f deploy/jupyterhub_config.py

What it sets up (each path or name below can be changed by an environment variable):

- users log in with their Unix accounts (PAM); ``CNN6_HUB_STUDENTS`` and ``CNN6_HUB_TEACHERS``
  list them, comma-separated; teachers are the hub's admins;
- each user's server is a local process (LocalProcessSpawner), ``jupyterhub-singleuser`` of
  this environment, opening JupyterLab; the ``python3`` kernel it starts is this environment's,
  which holds numpy, matplotlib, ipywidgets and ``cnn6``: the book's environment;
- nbgitpuller is installed, so a link ``/hub/user-redirect/git-pull?repo=...`` hands out the
  book and the student assignments (see the README, "A class on JupyterHub");
- nbgrader's exchange is the folder ``CNN6_HUB_EXCHANGE`` (default /srv/nbgrader/exchange),
  created here writable by all (mode 1777, like /tmp), and named to every user's nbgrader by
  deploy/nbgrader_config.py, which the users' servers find on their JUPYTER_CONFIG_PATH;
- the hub's own state (database, cookie secret, proxy pid) is kept in ``CNN6_HUB_STATE``
  (default /srv/cnn6-hub); the proxy is configurable-http-proxy from the book's
  node_modules (``make vendor``), or the one on the PATH.

tests/test_hub.py loads this file and changes only what a test must: free ports on 127.0.0.1,
the dummy authenticator, and a spawner that runs every user as the test's own Unix user, each
in a home folder of their own under a temporary folder.
"""

import os
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides it)

ROOT = Path(__file__).resolve().parents[1]
ENV_BIN = Path(sys.prefix) / "bin"  # the book's environment: the one running this hub
STATE = Path(os.environ.get("CNN6_HUB_STATE", "/srv/cnn6-hub"))
EXCHANGE = Path(os.environ.get("CNN6_HUB_EXCHANGE", "/srv/nbgrader/exchange"))
URL = os.environ.get("CNN6_HUB_URL", "http://:8000")


def names(variable: str) -> set[str]:
    """The comma-separated user names in the environment variable ``variable``."""
    return {name.strip() for name in os.environ.get(variable, "").split(",") if name.strip()}


# --------------------------------------------------------------------------- the hub
c.JupyterHub.bind_url = URL
STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
PROXY = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [
    str(PROXY) if PROXY.exists() else shutil.which("configurable-http-proxy") or str(PROXY)
]

# --------------------------------------------------------------------------- who logs in
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = names("CNN6_HUB_STUDENTS") | names("CNN6_HUB_TEACHERS")
c.Authenticator.admin_users = names("CNN6_HUB_TEACHERS")

# --------------------------------------------------------------------------- each user's server
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    # this environment's commands (jupyter, nbgrader, python) first
    "PATH": os.pathsep.join([str(ENV_BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
    # where every user's nbgrader finds deploy/nbgrader_config.py (the exchange, the course)
    "JUPYTER_CONFIG_PATH": str(ROOT / "deploy"),
    "CNN6_HUB_EXCHANGE": str(EXCHANGE),
}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# A class: a student's idle server keeps its memory until the hub stops it or it exits.
c.Spawner.mem_limit = None

# --------------------------------------------------------------------------- nbgrader's exchange
EXCHANGE.mkdir(parents=True, exist_ok=True)
EXCHANGE.chmod(0o1777)
