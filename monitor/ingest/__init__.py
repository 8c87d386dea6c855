"""The article pipeline: an extracted article in; stored article, claims, matches and outbox rows out."""
