"""The example project's pytest set-up: adsim's plugin gives the `adsim_regression` fixture."""

pytest_plugins = ["adsim.testing"]
