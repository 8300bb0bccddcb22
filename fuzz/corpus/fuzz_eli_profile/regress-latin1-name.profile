name = café
cpu_ghz = 2.93
