"""adsim's subcommands implemented in Python, one module each (see adsim/__main__.py)."""
