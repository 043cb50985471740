"""Optional dependencies, imported where they are used."""

import importlib


def import_optional(module, caller, extra="io"):
    """``module``, from one of the package's extras (``io``: pandas, pyarrow;
    ``plot``: matplotlib; ``onnx``: skl2onnx), or an ImportError that says
    what ``caller`` needs and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.partition(".")[0]
        raise ImportError(
            f"{caller} needs {package}: pip install 'sklosses[{extra}]' (or pip "
            f"install {package})."
        ) from None
