"""olist: an ELT pipeline for the Olist Brazilian E-Commerce dataset."""

__version__ = "0.1.0"
