"""Running reportedly's corpus mode on more than one machine (Apache Spark: scaleout/spark.py)."""
