"""The browser playground: a static page that runs this package in Pyodide.

`glue` answers the page's requests with JSON-ready data; `build` writes the page (index.html,
playground.js, the package's own sources) into a folder; `python -m micrograd playground` runs
it. `lesson` computes the numbers of the lesson page (lesson.html, written beside index.html and
run by the same worker). The page files live in `static/`. Nothing here is imported by the rest
of the package.
"""
