"""Times Feast's materialize into its Redis online store in-process (import and
FeatureStore start-up reported apart), with the CPU Redis used meanwhile; copied from
bench/peers/serve_peers/materialize_timed.py.

    python materialize_timed.py REPO_DIR START END FEATURES.parquet [REDIS_PID]

Prints one RESULT line.
"""
import os
import sys
import time
from datetime import datetime, timezone

import pyarrow.parquet as pq

from proc_cpu import cpu_s  # noqa: E402



repo, start, end, features = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
redis_pid = int(sys.argv[5]) if len(sys.argv) > 5 else 0
t0 = time.time()
from feast import FeatureStore  # noqa: E402

store = FeatureStore(repo_path=repo)
t1, c1 = time.time(), cpu_s(redis_pid)
store.materialize(start_date=datetime.fromisoformat(start).replace(tzinfo=timezone.utc),
                  end_date=datetime.fromisoformat(end).replace(tzinfo=timezone.utc))
t2, c2 = time.time(), cpu_s(redis_pid)
n = pq.read_metadata(features).num_rows
print(f"RESULT feast_materialize entities={n} import_init_s={t1 - t0:.2f} materialize_s={t2 - t1:.2f} "
      f"entities_per_s={n / (t2 - t1):.0f} redis_cpu_s={c2 - c1:.2f}")
