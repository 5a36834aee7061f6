"""Prepares the OpenAPI-driven fuzz run (scripts/fuzz-api.sh) against a running server.

Reads the server's own document (/openapi.json), seeds a few valid documents of the
shipped models into two tenants, and writes a copy of the document in which the tenant,
model and document-id path parameters are narrowed to what exists (their other
constraints stay). Generated positive cases then reach the models and documents instead
of stopping at 404; negative cases still send everything the original rules refuse.

Usage: fuzz_api_setup.py BASE_URL OUT_SPEC
"""

import json
import sys
import urllib.request

TENANTS = ["fuzz", "fuzz-b"]

# Valid documents of the shipped models (models/*.json); other models get no seed.
SEEDS = {
    "User": [
        {"email": "Ada@Example.com ", "username": "ada", "firstName": "Ada",
         "lastName": "Lovelace", "role": "admin", "metadata": {"team": "math"}},
        {"email": "alan@example.com", "username": "alan", "firstName": "Alan",
         "lastName": "Turing", "isActive": False},
    ],
    "Product": [
        {"sku": "sku-1", "name": "Red running shoes", "description": "Light",
         "category": "shoes", "price": {"amount": 59.9}, "inventory": {"quantity": 3},
         "tags": ["Red", "Sport"], "attributes": [{"name": "size", "value": 42}]},
        {"sku": "sku-2", "name": "Blue hat", "description": "Warm", "category": "hats",
         "price": {"amount": 12, "currency": "eur"}, "inventory": {"quantity": 0},
         "status": "active"},
    ],
    "Order": [
        {"customerId": "65f1c0ffee0123456789abcd",
         "items": [{"productId": "65f1c0ffee0123456789abce", "sku": "SKU-1",
                    "quantity": 2, "price": 59.9}],
         "payment": {"method": "paypal"}, "totals": {"subtotal": 119.8, "total": 119.8}},
    ],
}


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def narrow(spec, name, values):
    """Sets the schema of every path parameter called `name` to an enum of `values`."""
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == name:
                    parameter["schema"] = {"type": "string", "enum": values}
                    parameter.pop("example", None)


def main(base, out):
    spec = call(base, "GET", "/openapi.json")
    models = call(base, "GET", "/api/models/schemas")["schemas"]
    ids = []
    examples = {}
    for tenant in TENANTS:
        for model in models:
            for seed in SEEDS.get(model, []):
                # A second tenant gets the same documents: unique values are per tenant.
                ids.append(call(base, "POST", f"/api/models/{tenant}/{model}/documents", seed)["_id"])
                examples[f"{model}-{len(examples)}"] = {"value": seed}
    narrow(spec, "tenant_id", TENANTS)
    narrow(spec, "model_name", models)
    if ids:
        narrow(spec, "id", ids)
    create = spec["paths"]["/api/models/{tenant_id}/{model_name}/documents"]["post"]
    create["requestBody"]["content"]["application/json"]["examples"] = examples
    json.dump(spec, open(out, "w"), indent=1)
    print(f"fuzz-api: {len(models)} models, {len(ids)} seeded documents in {TENANTS}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
