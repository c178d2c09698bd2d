"""Configuration files shipped with the static release, so that the host that serves it (or the
w3id.org redirect service in front of it) answers each IRI in the format the client asks for.

- `.htaccess`: Apache 2.4 (mod_rewrite, mod_headers, mod_mime), in the release's root.
- `nginx.conf`: a snippet for an nginx `server` block (`map` goes in the `http` block).
- `_redirects`, `_headers`: Netlify and Cloudflare Pages. These hosts cannot choose a file by the
  `Accept` header; they serve every resource's HTML at its path, and its RDF at `…/index.ttl` etc.
- `w3id.htaccess`: the rules to register at https://github.com/perma-id/w3id.org under the base's
  folder (see docs/publishing.md): 303 See Other to the host, by `Accept`.
- `robots.txt` and `sitemap.xml`.

Accept matching is by substring, as in the W3C's recipes for publishing RDF vocabularies: a
request that accepts `text/html` gets HTML; otherwise the first RDF type it names, in the order
Turtle, N-Triples, JSON-LD, RDF/XML.
"""

from __future__ import annotations

import html
import urllib.parse

from kg.outputs.pages import VARIANTS

# The RDF variants in the order the rules try them: (extension, media type).
NEGOTIATED: list[tuple[str, str]] = [(ext, v[1]) for ext, v in VARIANTS.items()]
# Media types of the release's files that hosts do not all know.
FILE_TYPES: dict[str, str] = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "trig": "application/trig",
    "nq": "application/n-quads",
}
# Paths ending so are files: passed through by the redirect rules, never negotiated.
FILE_SUFFIXES = "html|ttl|nt|jsonld|rdf|trig|nq|gz|xml|txt|svg|png|md|csv|json"


def _path(site: str) -> str:
    """The URL path the release is served under (`/` or `/kg/`)."""
    path = urllib.parse.urlsplit(site).path or "/"
    return path if path.endswith("/") else path + "/"


def htaccess(site: str) -> str:
    charset = " ".join(f".{e}" for e in ("ttl", "nt", "jsonld", "html", "trig", "nq"))
    lines = [
        "# Apache 2.4: serve every resource of the GenAI openness graph at its IRI's path,",
        "# as HTML or RDF by the Accept header (needs AllowOverride FileInfo Options and",
        "# mod_rewrite; mod_headers for Vary and CORS).",
        *(f"AddType {media} .{ext}" for ext, media in FILE_TYPES.items()),
        f"AddCharset utf-8 {charset}",
        "Options -MultiViews -Indexes",
        "DirectoryIndex index.html",
        "RewriteEngine On",
        f"RewriteBase {_path(site)}",
        "# old links to the flat variants (model/llama-2.ttl) go to the resource's folder",
        "RewriteCond %{REQUEST_FILENAME} !-f",
        r"RewriteRule ^(.+)\.(ttl|nt|jsonld|rdf)$ $1/index.$2 [R=301,L]",
    ]
    for ext, media in NEGOTIATED:
        lines += [
            f"# {media} when asked for (and HTML not)",
            "RewriteCond %{HTTP_ACCEPT} !text/html",
            f"RewriteCond %{{HTTP_ACCEPT}} {media.replace('+', '[+]')}",
            f"RewriteCond %{{REQUEST_FILENAME}}/index.{ext} -f",
            f"RewriteRule ^(.*?)/?$ $1/index.{ext} [L]",
        ]
    lines += [
        "<IfModule mod_headers.c>",
        '  Header always merge Vary "Accept"',
        '  Header always set Access-Control-Allow-Origin "*"',
        "</IfModule>",
    ]
    return "\n".join(lines) + "\n"


def nginx(site: str) -> str:
    path = _path(site)
    rules = "\n".join(f'    "~*{media.replace("+", "[+]")}" .{ext};' for ext, media in NEGOTIATED)
    types = "\n".join(f"        {media} {ext};" for ext, media in FILE_TYPES.items())
    return f"""# nginx: serve every resource of the GenAI openness graph at its IRI's path, as HTML
# or RDF by the Accept header. The map goes in the http block; the rest in the server block
# whose root is the folder that holds the release ({path} below it is the release's root).
map $http_accept $kg_variant {{
    default "";
    "~*text/html" "";
{rules}
}}

# --- in the server block ---
location {path} {{
    types {{
        text/html html;
        application/gzip gz;
        image/svg+xml svg;
        application/xml xml;
        text/plain txt;
{types}
    }}
    charset utf-8;
    charset_types text/turtle application/n-triples application/ld+json text/html;
    add_header Vary Accept always;
    add_header Access-Control-Allow-Origin * always;
    # the negotiated variant of a resource folder, else the file, else the folder (HTML)
    try_files $uri/index$kg_variant $uri $uri/ =404;
}}
# old links to the flat variants (model/llama-2.ttl) go to the resource's folder
location ~ ^(?<kg_stem>{path}.+)\\.(?<kg_ext>ttl|nt|jsonld|rdf)$ {{
    types {{
{types}
    }}
    add_header Access-Control-Allow-Origin * always;
    try_files $uri @kg_flat;
}}
location @kg_flat {{
    return 301 $kg_stem/index.$kg_ext;
}}
"""


def redirects(site: str, sparql: str | None) -> str:
    path = _path(site)
    lines = [
        "# Netlify / Cloudflare Pages. These hosts serve a resource's HTML at its path",
        "# (model/llama-2/ holds index.html) but cannot choose by Accept: RDF clients use the",
        "# variants (model/llama-2/index.ttl) or the w3id.org IRIs, which negotiate.",
        f"{path}.well-known/void {path}void.ttl 200",
    ]
    if sparql:
        lines.append(f"{path}sparql {sparql} 307")
    return "\n".join(lines) + "\n"


def headers(site: str) -> str:
    path = _path(site)
    return (
        f"{path}*\n  Access-Control-Allow-Origin: *\n"
        f'  Link: <{path}void.ttl>; rel="describedby"; type="text/turtle"\n'
        f"{path}void.ttl\n  Content-Type: text/turtle; charset=utf-8\n"
        f"{path}context.jsonld\n  Content-Type: application/ld+json\n"
        f"{path}dumps/*\n  Access-Control-Allow-Origin: *\n"
    )


def w3id_htaccess(base: str, site: str) -> str:
    """The redirect rules for w3id.org: `base` is the w3id folder (https://w3id.org/NAME/),
    `site` the public URL of the static release."""
    site = site if site.endswith("/") else site + "/"
    name = _path(base).strip("/")
    lines = [
        f"# w3id.org/{name}: permanent identifiers of the GenAI openness knowledge graph.",
        f"# Resources are published at {site} (kg publish; see docs/publishing.md).",
        "Options +FollowSymLinks",
        "RewriteEngine on",
        "# files (the dumps, the VoID, a variant asked for by name) pass through",
        rf"RewriteRule ^(.*\.(?:{FILE_SUFFIXES}))$ {site}$1 [R=302,L]",
    ]
    for ext, media in NEGOTIATED:
        lines += [
            "RewriteCond %{HTTP_ACCEPT} !text/html",
            f"RewriteCond %{{HTTP_ACCEPT}} {media.replace('+', '[+]')}",
            f"RewriteRule ^(.+?)/?$ {site}$1/index.{ext} [R=303,L]",
        ]
    lines += [
        "# everything else: the HTML page",
        f"RewriteRule ^$ {site} [R=302,L]",
        f"RewriteRule ^(.+?)/?$ {site}$1/ [R=303,L]",
    ]
    return "\n".join(lines) + "\n"


def robots(site: str) -> str:
    site = site if site.endswith("/") else site + "/"
    return f"User-agent: *\nAllow: /\nSitemap: {site}sitemap.xml\n"


def sitemap(site: str, paths: list[str], lastmod: str) -> str:
    """`paths`: the pages below the site's root, `model/llama-2/` and so on."""
    site = site if site.endswith("/") else site + "/"
    urls = "".join(
        f"<url><loc>{html.escape(site + urllib.parse.quote(p))}</loc>"
        f"<lastmod>{lastmod}</lastmod></url>\n"
        for p in ["", *paths]
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    )
