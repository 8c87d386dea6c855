"""The crawler's spiders: one `NewsSpider` handles feeds, sitemaps and section pages in one run."""
