"""A stand-in AutoGen app: loads its models the way AutoGen does and prints
what it got, keys as fingerprints only.

config_list_from_json and filter_config below follow AutoGen's (AG2's
autogen/oai/openai_utils.py) behaviour, since the autogen package is not
installed here: a non-empty variable holds a path or the JSON itself; an
unset one means a file of that name.

    python3 app.py [--tag TAG ...]
"""

import hashlib
import json
import os
import sys
from pathlib import Path

REFERENCE_PREFIXES = ("vault://", "awssm://", "file://", "cred://", "env://", "arn:aws:secretsmanager:")


def config_list_from_json(env_or_file, file_location="", filter_dict=None):
    """Read a config list as autogen.config_list_from_json does."""
    env_str = os.environ.get(str(env_or_file))
    if env_str:
        if os.path.exists(env_str):
            json_str = Path(env_str).read_text()
        else:
            json_str = env_str
        config_list = json.loads(json_str)
    else:
        path = Path(file_location) / env_or_file if file_location else Path(env_or_file)
        with open(path) as f:
            config_list = json.load(f)
    return filter_config(config_list, filter_dict)


def filter_config(config_list, filter_dict, exclude=False):
    """Keep the entries matching every key of filter_dict (AutoGen's rule)."""
    if filter_dict:
        return [
            item
            for item in config_list
            if all(_satisfies_criteria(item.get(key), values) != exclude for key, values in filter_dict.items())
        ]
    return config_list


def _satisfies_criteria(config_value, criteria_values):
    if config_value is None:
        return False
    if isinstance(config_value, list):
        if isinstance(criteria_values, list):
            return bool(set(config_value) & set(criteria_values))
        return criteria_values in config_value
    if isinstance(criteria_values, list):
        return config_value in criteria_values
    return bool(config_value == criteria_values)


def fingerprint(value):
    """keyexec's fingerprint: sha256 prefix, and the last 4 characters of long values."""
    if not value:
        return "(empty)"
    fp = "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:8]
    if len(value) >= 20:
        fp += "\u2026" + value[-4:]
    return fp


def main(argv):
    tags = [a for i, a in enumerate(argv) if i > 0 and argv[i - 1] == "--tag"]
    config_list = config_list_from_json("OAI_CONFIG_LIST", filter_dict={"tags": tags} if tags else None)
    if not config_list:
        print("no model configured", file=sys.stderr)
        return 1
    unresolved = 0
    for i, entry in enumerate(config_list):
        key = entry.get("api_key") or ""
        if any(str(v).startswith(REFERENCE_PREFIXES) for v in entry.values() if isinstance(v, str)):
            unresolved += 1
        print(
            f"{i}: model={entry.get('model')} api_type={entry.get('api_type', 'openai')} "
            f"base_url={entry.get('base_url', '(SDK default)')} key={fingerprint(key)}"
        )
    if unresolved:
        print(f"{unresolved} entries still hold references: start the app with keyexec", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
