"""Running the exhibit unattended: config checks (doctor), systemd watchdog, logging, statistics, soak tests."""
