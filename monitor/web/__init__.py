"""The web app: FastAPI, server-rendered pages and the JSON API."""
