"""A small local news site for crawl tests and demos: feeds, sitemaps, a section page, articles in three
languages, a syndicated copy, and the hard cases a crawler meets (errors, slowness, bad encodings)."""
