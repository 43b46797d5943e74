"""Provider portability: capability profiles as dated data, detection from a connection, and the
selection matrix that ranks providers for a tenant's requirements (docs/providers.md)."""
