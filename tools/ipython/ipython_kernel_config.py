# Kernels that `make lab` starts load this (it becomes profile_default/ipython_kernel_config.py in
# the project's .dualrole-lab/ipython folder, the IPYTHONDIR of that JupyterLab).
c = get_config()  # noqa: F821 - IPython provides get_config in config files
c.InteractiveShellApp.extensions = ["widgets.learner.hints"]
