"""Users, login, and roles held per community."""
