# nbgrader configuration of the cnn6 coursework. `make assignments` copies it, with source/,
# into dist/autograder/, which is then an nbgrader course directory: run nbgrader there.
c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "cnn6"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# What a student finds in place of each solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading runs each notebook top to bottom in a fresh kernel of this environment.
c.Execute.timeout = 120
c.Execute.kernel_name = "python3"

# Kernels started for grading say "Kernel is running over TCP without encryption" once per
# notebook (they listen on 127.0.0.1 only); keep their log to errors.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
