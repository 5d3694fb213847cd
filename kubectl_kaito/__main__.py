"""`python -m kubectl_kaito` runs the plugin."""

from kubectl_kaito.entry import run

if __name__ == "__main__":
    run()
