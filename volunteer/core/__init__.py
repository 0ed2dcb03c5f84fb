"""What every domain shares: model mixins, errors, permissions, audit log, pagination."""
