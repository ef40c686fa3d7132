# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the extra vars of the tests: replication_backend (or the name in argv[3]) for the simulator whose
ready line is in argv[1], over REST or ZAPI (argv[2]: use_rest)."""

import json
import sys
from urllib.parse import urlsplit

ready = json.load(open(sys.argv[1]))


def cluster(name):
    url = urlsplit(ready["clusters"][name])
    return {"hostname": url.hostname, "username": "admin", "password": "netapp1!", "port": url.port, "https": False,
            "use_rest": sys.argv[2]}


print(json.dumps({
    "sim_control": ready["control"],
    sys.argv[3] if len(sys.argv) > 3 else "replication_backend": {
        "name": "be",
        "source": {"cluster": cluster("src"), "svm": "svm_be", "volumes": ["be*"]},
        "targets": [
            {"name": "dr1", "cluster": cluster("dr1"), "svm": "svm_dr1", "aggregate": "aggr1", "schedule": "hourly"},
            {"name": "dr2", "cluster": cluster("dr2"), "svm": "svm_dr2", "aggregate_map": {"aggr_src": "aggr2"}},
        ],
    },
    "replication_source_timeout": 5,
}))
