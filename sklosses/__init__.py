"""SGD-trained linear models where the loss is an object you pass in."""

__version__ = "0.1.0.dev0"
