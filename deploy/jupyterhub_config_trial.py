"""A trial of the class hub on one's own machine, and the hub the tests and the class benchmark
start (deploy/localhub.py): deploy/jupyterhub_config.py with four changes.

- Anyone may log in under any name with any password (the dummy authenticator): never on a
  network that others reach.
- Every user's server runs as the Unix user who started the hub (SimpleLocalProcessSpawner),
  with a home folder of their own, ``CNN6_HUB_HOMES/<name>``: no isolation between users.
  Run as root, the servers get ``--allow-root``. nbgrader, which tells students apart by Unix
  account, is given each student's hub name instead (CNN6_HUB_STUDENT, read by
  deploy/nbgrader_config.py); teachers (admins) get none, so they act on every student.
- The hub's internal API and the proxy's API listen on ``CNN6_HUB_HUB_URL`` and
  ``CNN6_HUB_PROXY_API_URL`` when given (the tests pass free ports of 127.0.0.1).
- With ``CNN6_HUB_DRIVER_TOKEN`` set, a service ``cnn6-driver`` holding that token may create
  users, start and stop their servers, make tokens for them and use their servers: that is how
  a script drives the hub through its REST API.

    CNN6_HUB_URL=http://127.0.0.1:8000 CNN6_HUB_STATE=/tmp/hub CNN6_HUB_HOMES=/tmp/hub/home \\
    CNN6_HUB_EXCHANGE=/tmp/hub/exchange CNN6_HUB_TEACHERS=teacher \\
    .venv/bin/jupyterhub -f deploy/jupyterhub_config_trial.py
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub provides it)
load_subconfig(str(Path(__file__).with_name("jupyterhub_config.py")))  # noqa: F821

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True

c.JupyterHub.spawner_class = "simple"
HOMES = Path(os.environ.get("CNN6_HUB_HOMES", "/tmp/cnn6-hub-homes"))
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
if os.getuid() == 0:
    c.Spawner.args = ["--allow-root"]


def student_name(spawner) -> str:
    """The hub name of a student, for nbgrader; empty for a teacher (an admin)."""
    return "" if spawner.user.admin else spawner.user.name


c.Spawner.environment["CNN6_HUB_STUDENT"] = student_name
# One Unix account for all: one matplotlib cache (fonts) for all, built once by
# deploy/localhub.py before the hub starts, not by every user's first kernel.
if os.environ.get("MPLCONFIGDIR"):
    c.Spawner.environment["MPLCONFIGDIR"] = os.environ["MPLCONFIGDIR"]
# The tests mark every process the hub starts (servers, kernels, the proxy) with this variable,
# so that they can prove none is left when the hub is gone.
if os.environ.get("CNN6_HUB_RUN"):
    c.Spawner.environment["CNN6_HUB_RUN"] = os.environ["CNN6_HUB_RUN"]

if os.environ.get("CNN6_HUB_HUB_URL"):
    c.JupyterHub.hub_bind_url = os.environ["CNN6_HUB_HUB_URL"]
if os.environ.get("CNN6_HUB_PROXY_API_URL"):
    c.ConfigurableHTTPProxy.api_url = os.environ["CNN6_HUB_PROXY_API_URL"]

if os.environ.get("CNN6_HUB_DRIVER_TOKEN"):
    c.JupyterHub.services = [
        {"name": "cnn6-driver", "api_token": os.environ["CNN6_HUB_DRIVER_TOKEN"]}
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "cnn6-driver",
            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
            "services": ["cnn6-driver"],
        }
    ]
