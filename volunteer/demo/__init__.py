"""The demo district built by `flask seed-demo`."""
