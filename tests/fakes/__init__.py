"""Local stand-ins for the services olist talks to (a fake Kaggle API, ...)."""
