# dualrole on JupyterHub: the class service, its roles and the learners' token scopes.
#
# This file is the configuration docs/deploy-jupyterhub.md explains. Copy it as it is (on The Littlest
# JupyterHub: /opt/tljh/config/jupyterhub_config.d/dualrole.py) and change only the five local settings
# below. tests/test_service_hub.py runs a real JupyterHub on this very file, changing only those five.
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines it)

# -- Local settings -----------------------------------------------------------------------------
# A root-only file (chmod 600) holding the store URL, e.g. postgresql://dualrole:PASSWORD@db/class
# or sqlite:////srv/dualrole/class.sqlite. The URL is a secret: never write it here, in a notebook,
# in a repository or on a command line.
STORE_URL_FILE = Path("/etc/dualrole/store-url")
# Where the service listens (the Hub proxies /services/dualrole/ to it).
SERVICE_URL = "http://127.0.0.1:10101"
# The class every learner's answers belong to: the name `dualrole class-export --cohort` takes.
COHORT = "psy501-2025"
# The Hub users who pace the class and export it (or manage the group on the Hub's admin page).
INSTRUCTORS = ["prof-lee", "ta-kim"]
# A learner sees a class distribution only once this many have answered (never below 3).
MIN_CLASS = 10
# -----------------------------------------------------------------------------------------------

c.JupyterHub.services = [
    {
        "name": "dualrole",
        "url": SERVICE_URL,
        # sys.executable is the Hub's own Python, the one the curriculum was installed into.
        "command": [sys.executable, "-m", "widgets", "serve", "--instructors", "instructors",
                    "--min-class", str(MIN_CLASS)],
        "environment": {"DUALROLE_STORE": STORE_URL_FILE.read_text().strip()},
        "display": False,  # an API, not a page: keep it out of the Services menu
    },
]

c.JupyterHub.load_roles = [
    # Every user may use the service (access) and look it up (read). A server's token gets only
    # scopes its user holds, so both must be here as well as in server_token_scopes below.
    {"name": "user", "scopes": ["self", "access:services!service=dualrole", "read:services!service=dualrole"]},
    # The service may ask the Hub who is in the instructors' group.
    {"name": "dualrole-service", "services": ["dualrole"], "scopes": ["read:groups!group=instructors"]},
]

# The token each learner's server (and kernel) gets as JUPYTERHUB_API_TOKEN. The first two scopes are
# JupyterHub's default; the third lets the token reach the service; the fourth lets a kernel find the
# service by itself, so DUALROLE_SERVICE_URL below is a shortcut, not a requirement.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "access:services!service=dualrole",
    "read:services!service=dualrole",
]

# Tell the kernels where the service is and which class they belong to.
c.Spawner.environment.update({
    "DUALROLE_SERVICE_URL": SERVICE_URL + "/services/dualrole/",
    "DUALROLE_COHORT": COHORT,
})

c.JupyterHub.load_groups = {"instructors": {"users": INSTRUCTORS}}
