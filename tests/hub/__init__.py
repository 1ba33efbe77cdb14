"""Fixtures for the class service: in process with a stand-in Hub, and under a real JupyterHub."""
