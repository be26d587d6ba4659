"""LeafScout web app: `python app.py` serves the Gradio app farmers and extension officers use.

The app itself is `leafscout/webapp/app.py` in the installed package (`webapp/app.py` here), so an installed
copy runs it as `leafscout-app`; this file keeps the checkout's one-command start. Options: `python app.py -h`.
"""
from leafscout.webapp.app import build_app, main  # noqa: F401  (build_app: for `gradio app.py`-style tools)

if __name__ == "__main__":
    main()
