/*
 * Configuration of alert delivery (issue #6): mqtt now; webhooks, exec
 * hooks and the alert policy as that issue lands.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/config_int.h"

static void
parse_mqtt(struct parse *p, yaml_node_t *map)
{
	yaml_node_pair_t	*pair;
	yaml_node_t		*k, *v;
	const char		*key;
	long			 port;

	if (map->type != YAML_MAPPING_NODE) {
		err_at(p, map, "mqtt", "expected a mapping (host, port, "
		    "topic_prefix)");
		return;
	}
	MAP_FOREACH(p->doc, map, pair) {
		k = yaml_document_get_node(p->doc, pair->key);
		v = yaml_document_get_node(p->doc, pair->value);
		key = scalar(k);
		if (key == NULL)
			err_at(p, k, "mqtt", "keys must be plain words");
		else if (strcmp(key, "host") == 0)
			set_str(p, &p->cfg->mqtt_host, v, "mqtt.host");
		else if (strcmp(key, "port") == 0) {
			if ((port = get_int(p, v, "mqtt.port", 1, 65535)) > 0)
				p->cfg->mqtt_port = (int)port;
		} else if (strcmp(key, "topic_prefix") == 0)
			set_str(p, &p->cfg->mqtt_topic_prefix, v,
			    "mqtt.topic_prefix");
		else
			err_at(p, k, "mqtt", "unknown key '%s' (known: host, "
			    "port, topic_prefix)", key);
	}
}

bool
config_parse_alerts_key(struct parse *p, const char *key, yaml_node_t *k,
    yaml_node_t *v)
{
	(void)k;
	if (strcmp(key, "mqtt") == 0) {
		parse_mqtt(p, v);
		return true;
	}
	return false;
}

void
config_defaults_alerts(struct config *c)
{
	c->mqtt_port = 1883;
	c->mqtt_topic_prefix = strdup("dnssecmon");
}

void
config_free_alerts(struct config *c)
{
	free(c->mqtt_host);
	free(c->mqtt_topic_prefix);
}
