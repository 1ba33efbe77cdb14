# dualrole on JupyterHub: the class service, its roles and the learners' token scopes.
#
# This file is the configuration docs/deploy-jupyterhub.md explains. Copy it as it is (on The Littlest
# JupyterHub: /opt/tljh/config/jupyterhub_config.d/dualrole.py) and change only the six local settings
# below. tests/service/test_service_hub.py runs a real JupyterHub on this very file, loaded as The Littlest
# JupyterHub loads jupyterhub_config.d, changing only those six.
#
# It adds to what an earlier file set (TLJH's idle culler, say) rather than replacing it, and it never
# stops the Hub: a wrong setting or a missing store-URL file makes the service answer 503 with the reason.
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (JupyterHub defines it)

# -- Local settings -----------------------------------------------------------------------------
# A root-only file (chmod 600) holding the store URL, e.g. postgresql://dualrole:PASSWORD@db/class
# or sqlite:////srv/dualrole/class.sqlite. The URL is a secret: never write it here, in a notebook,
# in a repository or on a command line. The service reads the file itself (this file does not).
STORE_URL_FILE = Path("/etc/dualrole/store-url")
# Where the service listens (the Hub proxies /services/dualrole/ to it).
SERVICE_URL = "http://127.0.0.1:10101"
# The class every learner's answers belong to: the name `dualrole class-export --cohort` takes.
COHORT = "psy501-2025"
# The Hub users who pace the class and export it (or manage the group on the Hub's admin page).
INSTRUCTORS = ["prof-lee", "ta-kim"]
# The class minimum: 5 learners by default, never below 3. A class distribution (on the cards and
# the projected dashboard) is shown only once at least this many learners have answered.
MIN_CLASS = 5
# Service processes: 1, or one per core for a large class on a PostgreSQL store (never on SQLite).
PROCESSES = 1
# -----------------------------------------------------------------------------------------------

c.JupyterHub.services.append(
    {
        "name": "dualrole",
        "url": SERVICE_URL,
        # sys.executable is the Hub's own Python, the one the curriculum was installed into. The
        # service records every answer in COHORT, whatever a learner's kernel says.
        "command": [sys.executable, "-m", "widgets", "serve", "--instructors", "instructors",
                    "--cohort", COHORT, "--min-class", str(MIN_CLASS)],
        "environment": {"DUALROLE_STORE_FILE": str(STORE_URL_FILE), "DUALROLE_PROCESSES": str(PROCESSES)},
        "display": False,  # an API, not a page: keep it out of the Services menu
    },
)

c.JupyterHub.load_roles.extend([
    # Every user may use the service (access) and look it up (read). A server's token gets only
    # scopes its user holds, so both must be here as well as in server_token_scopes below.
    {"name": "user", "scopes": ["self", "access:services!service=dualrole", "read:services!service=dualrole"]},
    # The service may ask the Hub who is in the instructors' group.
    {"name": "dualrole-service", "services": ["dualrole"], "scopes": ["read:groups!group=instructors"]},
])

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

c.JupyterHub.load_groups.update({"instructors": {"users": INSTRUCTORS}})
