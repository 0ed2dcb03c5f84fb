"""The yardstick: a bare Flask app with one trivial JSON POST endpoint, served and loaded like the exchange desk."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/ping")
def ping():
    body = request.get_json(silent=True)
    value = body.get("value") if isinstance(body, dict) else None
    return jsonify(reason="ok", value=value)
