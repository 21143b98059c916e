"""The reference page for the HTTP benchmark: a minimal Flask app rendering a
20-item Jinja page, served by gunicorn exactly like the site."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><ul>
{% for item in items %}<li><a href="/item/{{ item.id }}">{{ item.name }}</a> · {{ item.city }} · {{ '%.2f'|format(item.score) }}</li>
{% endfor %}</ul></main></body></html>"""

ITEMS = [
    {"id": i, "name": f"Clinic number {i}", "city": "London", "score": 3.5 + i / 40}
    for i in range(20)
]


# Compiled once, as Flask caches a file template (render_template_string would
# recompile on every request and flatter the site's ratios).
TEMPLATE = app.jinja_env.from_string(PAGE)


@app.get("/")
def index():
    return TEMPLATE.render(title="Twenty items", items=ITEMS)
