"""Compiled numerical core: numbers in, numbers out, no scikit-learn here."""
