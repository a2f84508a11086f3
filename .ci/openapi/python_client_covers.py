"""Check that openapi-python-client generated a function for every JSON operation of the API
document: an operation whose request body (if any) is JSON and whose success answer is JSON or
empty. Operations that only take or give files (CSV imports, the QR image, proofs) are not JSON
operations; the generator skips them by design.

    python_client_covers.py openapi.json GENERATED_DIR
"""
import json
import pathlib
import re
import sys

METHODS = ("get", "put", "post", "delete", "patch")


def snake(name: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.strip("_").lower()


def is_json_operation(op: dict) -> bool:
    body = op.get("requestBody")
    if body and "application/json" not in body.get("content", {}):
        return False
    for status, response in op.get("responses", {}).items():
        if status.startswith("2"):
            content = response.get("content")
            if content is None or "application/json" in content:
                return True
    return False


def main() -> int:
    doc = json.loads(pathlib.Path(sys.argv[1]).read_text())
    generated = {p.stem for p in pathlib.Path(sys.argv[2]).rglob("api/**/*.py") if p.stem != "__init__"}
    wanted = {}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op and is_json_operation(op):
                wanted[snake(op["operationId"])] = f"{method.upper()} {path}"
    missing = sorted(f"{route} ({name})" for name, route in wanted.items() if name not in generated)
    print(f"openapi-python-client: {len(wanted) - len(missing)} of {len(wanted)} JSON operations generated")
    for m in missing:
        print(f"  missing: {m}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
