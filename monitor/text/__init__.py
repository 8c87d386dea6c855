"""Text shared by the baseline and the crawl: folding, sentences, the claim filter."""
