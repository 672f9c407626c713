package homeassistant

import "slidestream/play"

// Home Assistant's device-based MQTT discovery: one retained message at
// DISCOVERY_PREFIX/device/NODE_ID/config names the device, the software
// that publishes it ("o", origin), options shared by every entity (here
// the availability topic) and the entities ("cmps"), each with its
// platform ("p") and a unique_id.

// discovery is the device's discovery payload.
func (b *Bridge) discovery() map[string]any {
	cmps := map[string]any{}
	b.mu.Lock()
	chans, gone := b.chans, b.gone
	options := append([]string{AllPhotos}, b.albums...)
	b.mu.Unlock()
	// A channel no longer shown: its entities, each named with its
	// platform alone, which Home Assistant takes as their removal.
	platforms := map[string]string{"next": "button", "prev": "button", "paused": "switch", "asleep": "switch", "showing": "sensor", "image": "image",
		"album": "select", "interval": "number"}
	for _, id := range gone {
		for e, p := range platforms {
			cmps[b.o.NodeID+"_"+id+"_"+e] = map[string]any{"p": p}
		}
	}
	for _, c := range chans {
		state := b.topic(c.ID, "state")
		name := func(s string) string {
			if c.Name == "" {
				return s
			}
			return c.Name + " " + s
		}
		id := b.o.NodeID + "_" + c.ID
		cmps[id+"_next"] = map[string]any{
			"p": "button", "unique_id": id + "_next", "name": name("next"), "icon": "mdi:skip-next",
			"command_topic": b.topic(c.ID, "next", "set"), "payload_press": "PRESS",
		}
		cmps[id+"_prev"] = map[string]any{
			"p": "button", "unique_id": id + "_prev", "name": name("previous"), "icon": "mdi:skip-previous",
			"command_topic": b.topic(c.ID, "prev", "set"), "payload_press": "PRESS",
		}
		cmps[id+"_paused"] = map[string]any{
			"p": "switch", "unique_id": id + "_paused", "name": name("paused"), "icon": "mdi:pause",
			"command_topic": b.topic(c.ID, "paused", "set"), "state_topic": state,
			"value_template": "{{ 'ON' if value_json.paused else 'OFF' }}", "payload_on": "ON", "payload_off": "OFF",
		}
		cmps[id+"_asleep"] = map[string]any{
			"p": "switch", "unique_id": id + "_asleep", "name": name("asleep"), "icon": "mdi:sleep",
			"command_topic": b.topic(c.ID, "asleep", "set"), "state_topic": state,
			"value_template": "{{ 'ON' if value_json.asleep else 'OFF' }}", "payload_on": "ON", "payload_off": "OFF",
		}
		cmps[id+"_showing"] = map[string]any{
			"p": "sensor", "unique_id": id + "_showing", "name": name("showing"), "icon": "mdi:image",
			"state_topic": state, "value_template": "{{ value_json.showing }}",
			"json_attributes_topic": state,
			"json_attributes_template": "{{ {'album': value_json.album, 'taken': value_json.taken, 'index': value_json.index, " +
				"'count': value_json.count, 'seconds_to_next': value_json.seconds_to_next, 'reason': value_json.reason} | tojson }}",
		}
		cmps[id+"_album"] = map[string]any{
			"p": "select", "unique_id": id + "_album", "name": name("album"), "icon": "mdi:folder-image",
			"command_topic": b.topic(c.ID, "album", "set"), "state_topic": state,
			"value_template": "{{ value_json.playing }}", "options": options,
		}
		cmps[id+"_interval"] = map[string]any{
			"p": "number", "unique_id": id + "_interval", "name": name("interval"), "icon": "mdi:timer-outline",
			"command_topic": b.topic(c.ID, "interval", "set"), "state_topic": state,
			"value_template": "{{ value_json.interval }}", "min": play.MinInterval.Seconds(), "max": play.MaxInterval.Seconds(),
			"step": 1, "mode": "box", "unit_of_measurement": "s", "device_class": "duration",
		}
		cmps[id+"_image"] = map[string]any{
			"p": "image", "unique_id": id + "_image", "name": name("slide"),
			"url_topic": state, "url_template": "{{ value_json.image_url }}",
		}
	}
	return map[string]any{
		"dev": map[string]any{
			"ids": []string{"slidestream_" + b.o.NodeID}, "name": b.o.Name, "mf": "slidestream", "mdl": "slidestream",
			"sw": b.o.Version, "cu": b.o.BaseURL + "/control",
		},
		"o":                     map[string]any{"name": "slidestream", "sw": b.o.Version},
		"availability_topic":    b.topic("availability"),
		"payload_available":     "online",
		"payload_not_available": "offline",
		"qos":                   1,
		"cmps":                  cmps,
	}
}
