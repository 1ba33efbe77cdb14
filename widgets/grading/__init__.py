"""Grading: the instructor's rubric, grading policy and roster files."""
