/*
 * Configuration of the HTTP listener (issue #7): http now; the DNS host
 * webhook secrets (hooks:) as that issue lands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config_int.h"
#include "probe/roots.h"

static void
parse_http(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "http", "expected a mapping (listen: ADDR:PORT)");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key != NULL && strcmp(key, "listen") == 0) {
			const char *s = want_scalar(p, v, "http.listen");
			struct sockaddr_storage ss;
			socklen_t len;
			char why[200];

			if (s == NULL)
				continue;
			if (roots_parse_address(s, 9470, &ss, &len, why,
			    sizeof(why)) == -1 && strchr(s, ':') != NULL) {
				/* ADDR:PORT is the usual spelling here. */
				char tmp[128];
				const char *c = strrchr(s, ':');

				snprintf(tmp, sizeof(tmp), "%.*s@%s",
				    (int)(c - s), s, c + 1);
				if (roots_parse_address(tmp, 9470, &ss, &len,
				    why, sizeof(why)) == -1) {
					err_at(p, v, "http.listen", "'%s' is not "
					    "ADDR:PORT", s);
					continue;
				}
			}
			set_str(p, &p->cfg->http_listen, v, "http.listen");
		} else
			err_at(p, k, "http", "unknown key '%s' (known: listen)",
			    key ? key : "?");
	}
}

bool
config_parse_http_key(struct parse *p, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	(void)k;
	if (strcmp(key, "http") == 0) {
		parse_http(p, v);
		return true;
	}
	return false;
}

void
config_defaults_http(struct config *c)
{
	(void)c;
}

void
config_free_http(struct config *c)
{
	free(c->http_listen);
}
