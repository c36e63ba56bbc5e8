"""The ``reportedly spark`` job for ``spark-submit``, which picks the cluster, resources and Python.

    spark-submit --master yarn --deploy-mode cluster \\
        --archives reportedly-env.tar.gz#env --conf spark.pyspark.python=./env/bin/python \\
        "$(python -c 'import reportedly.scaleout.spark_submit as m; print(m.__file__)')" \\
        hdfs:///corpus/2024/ hdfs:///corpus/reportedly --partitions 2000

Arguments are those of ``reportedly spark`` without ``--master``; docs/spark.md has the set-up.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark_submit.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", metavar="INPUT... OUTPUT", help="files, folders or URIs, then the output folder")
    parser.add_argument("--partitions", type=int, default=None, help="analysis partitions")
    parser.add_argument("--encoding", default=None, help="encoding of non-UTF-8 text files")
    parser.add_argument("--no-reports", action="store_true", help="do not keep the full Reports (spark-import needs them)")
    args = parser.parse_args(argv)
    if len(args.paths) < 2:
        parser.error("give at least one input and the output folder")
    if args.partitions is not None and args.partitions < 1:
        parser.error("--partitions must be at least 1")
    from reportedly.scaleout.spark import run, session, summary

    *inputs, output = args.paths
    spark = session(None)
    try:
        stats = run(spark, inputs, output, partitions=args.partitions, encoding=args.encoding, reports=not args.no_reports)
    finally:
        spark.stop()
    print(summary(stats, output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
