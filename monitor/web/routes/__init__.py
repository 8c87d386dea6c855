"""The app's routers: one module per page family, the JSON API, the feed and the API docs."""
