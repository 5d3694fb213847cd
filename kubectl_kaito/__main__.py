"""`python -m kubectl_kaito` runs the plugin."""

from kubectl_kaito.cli import run

if __name__ == "__main__":
    run()
