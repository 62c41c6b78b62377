"""zenlayer_widgets: Zenlayer Cloud custom-image work from a Jupyter notebook."""

__version__ = "0.1.0"
