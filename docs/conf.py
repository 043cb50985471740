"""Sphinx configuration: numpydoc, autosummary, sphinx-gallery, pydata theme.

Neither the build nor the built site needs the network: no intersphinx, and
MathJax is copied into the site (sphinx-mathjax-offline) rather than loaded
from a CDN, so that formulas render offline.
"""

import sklosses

project = "sklosses"
author = "The sklosses developers"
copyright = "2026, The sklosses developers"
release = sklosses.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 in the site's _static/mathjax; sets mathjax_path to it.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "show_memory": False,
}

templates_path = ["_templates"]
exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_title = "sklosses"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []


def _skip_metadata_request_setters(app, what, name, obj, skip, options):
    # scikit-learn generates set_fit_request & co.; its own docs describe them.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_setters)
