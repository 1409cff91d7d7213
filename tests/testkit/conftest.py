"""The test kit's own tests run pytest in a subprocess, as a plugin author's project would."""

pytest_plugins = ["pytester"]
