# nbgrader settings of every user of the class hub (deploy/jupyterhub_config.py puts this
# folder on their JUPYTER_CONFIG_PATH): the course and the exchange folder the hub names.
# The teacher's course directory (dist/autograder, from `make assignments`) adds its own
# nbgrader_config.py on top, when nbgrader runs there.
import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "cnn6"
c.Exchange.root = os.environ.get("CNN6_HUB_EXCHANGE", "/srv/nbgrader/exchange")
# On a hub that runs every user as one Unix account (the tests' spawner), nbgrader cannot tell
# students apart by account: the hub then passes each student's name here.
if os.environ.get("CNN6_HUB_STUDENT"):
    c.CourseDirectory.student_id = os.environ["CNN6_HUB_STUDENT"]
