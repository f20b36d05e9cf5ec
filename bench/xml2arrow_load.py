"""The benchmark's peer (bench/run.sh, case e): one XML file to one zstd Parquet file per table
with xml2arrow, as its documentation shows for large files: parse_batches() streams each table's
record batches (bounded memory, parsing on a background thread) into a pyarrow ParquetWriter per
table. zstd level 1, as xml2bq writes. `--whole` uses parse() instead (every table in memory, then
pyarrow.parquet.write_table). Prints `rows=N` (all tables) on the last line.

usage: python xml2arrow_load.py CONFIG.yaml INPUT.xml OUT_DIR [--whole]
"""

import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from xml2arrow import XmlToArrowParser


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    config, source, out = args
    os.makedirs(out, exist_ok=True)
    parser = XmlToArrowParser(config)
    rows = 0
    if "--whole" in sys.argv:
        for name, batch in parser.parse(source).items():
            pq.write_table(pa.Table.from_batches([batch]), os.path.join(out, f"{name}.parquet"),
                           compression="zstd", compression_level=1)
            rows += batch.num_rows
    else:
        writers = {}
        try:
            for name, batch in parser.parse_batches(source):
                w = writers.get(name)
                if w is None:
                    w = writers[name] = pq.ParquetWriter(os.path.join(out, f"{name}.parquet"), parser.schema(name),
                                                         compression="zstd", compression_level=1)
                w.write_batch(batch)
                rows += batch.num_rows
        finally:
            for w in writers.values():
                w.close()
    print(f"rows={rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
