"""Outbound HTTP: where Claim Monitor may connect, a transport that holds to it, fetching one document."""
