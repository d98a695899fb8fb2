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

# Feedback pages show each check's message but not the hidden checks' code (their seed and
# calls): the hidden region of each graded cell is cleared, as in the student's copy, and a
# hidden check's error keeps its message without the traceback that would quote that code.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402


class ClearHiddenFeedback(ClearHiddenTests):
    def preprocess_cell(self, cell, resources, cell_index):
        hidden = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        for output in cell.get("outputs", []) if hidden else []:
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenFeedback]
