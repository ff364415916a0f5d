"""The benchmark of issue 11 (``make bench``): synthetic data, pages, throughput, letters, exports."""
