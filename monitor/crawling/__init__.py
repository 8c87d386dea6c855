"""Crawl runs and how they are started: in a child process here, or by scale-out workers over Redis."""
