"""Every hand-over between a learner and an instructor: bundles, collect, feedback files, class export, the outbox.

Like nbgrader's ``exchange``, the hand-overs are symmetric: a learner's bundle is collected into a cohort
store, and released feedback goes back as a file the learner imports.
"""
