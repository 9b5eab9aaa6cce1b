"""The soak test: several `alur` processes on one PostgreSQL database under load and faults."""
