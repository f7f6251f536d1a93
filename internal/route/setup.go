package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Check says whether a CRM destination's mapping can work with what the
// CRM has: nil, or what to create. Webhooks and Slack have nothing to
// check.
func Check(ctx context.Context, sp Spec, deps Deps) error {
	s, err := crmSender(sp, deps)
	if err != nil || s == nil {
		return err
	}
	switch c := s.(type) {
	case *hubspot:
		props, err := hubspotProperties(ctx, c.call, sp.Object)
		if err != nil {
			return err
		}
		return checkHubSpot(sp, props)
	case *salesforce:
		schema, err := c.describe(ctx)
		if err != nil {
			return err
		}
		return schema.problem
	}
	return nil
}

// Setup makes in the CRM what a destination's mapping needs, and says,
// line by line, what it made and what was there. HubSpot: the "beacon"
// property group, and each mapped property the portal lacks (numbers for
// score and users, text otherwise), the id property unique. A Salesforce
// org's fields are made by its admin (docs/routing.md): Setup says which.
func Setup(ctx context.Context, sp Spec, deps Deps) ([]string, error) {
	s, err := crmSender(sp, deps)
	if err != nil {
		return nil, err
	}
	h, ok := s.(*hubspot)
	if !ok {
		if err := Check(ctx, sp, deps); err != nil {
			return nil, fmt.Errorf("%s: make these in Salesforce Setup (docs/routing.md): %w", sp.Name, err)
		}
		return []string{sp.Name + ": nothing to make"}, nil
	}
	props, err := hubspotProperties(ctx, h.call, sp.Object)
	if err != nil {
		return nil, err
	}
	var out []string
	made, err := h.create(ctx, "/groups", map[string]any{"name": "beacon", "label": "Beacon", "displayOrder": -1})
	if err != nil {
		return out, err
	}
	out = append(out, fmt.Sprintf("property group beacon: %s", made))
	names := slices.Sorted(maps.Keys(sp.Properties))
	names = append([]string{sp.IDProperty}, slices.DeleteFunc(names, func(n string) bool { return n == sp.IDProperty })...)
	for _, name := range names {
		if p, ok := props[name]; ok {
			note := "there already"
			if name == sp.IDProperty && !p.HasUniqueValue && !nativeID(sp) {
				note = "there already, but not unique: delete it in HubSpot and run setup again"
			}
			out = append(out, fmt.Sprintf("property %s: %s", name, note))
			continue
		}
		typ, field := "string", "text"
		if f := sp.Properties[name]; f == "score" || f == "users" {
			typ, field = "number", "number"
		}
		made, err := h.create(ctx, "", map[string]any{"name": name, "label": label(name), "type": typ, "fieldType": field,
			"groupName": "beacon", "hasUniqueValue": name == sp.IDProperty})
		if err != nil {
			return out, err
		}
		out = append(out, fmt.Sprintf("property %s (%s%s): %s", name, typ, map[bool]string{true: ", unique"}[name == sp.IDProperty], made))
	}
	return out, nil
}

// create posts a property (or, under /groups, a property group) to the
// object's properties API; one there already (409) is no error.
func (h *hubspot) create(ctx context.Context, under string, body map[string]any) (string, error) {
	b, _ := json.Marshal(body)
	err := h.call(ctx, http.MethodPost, "/crm/v3/properties/"+url.PathEscape(h.spec.Object)+under, b, nil)
	var se *SendError
	switch {
	case err == nil:
		return "made", nil
	case errors.As(err, &se) && se.Status == http.StatusConflict:
		return "there already", nil
	}
	return "", fmt.Errorf("making %v in HubSpot: %w", body["name"], err)
}

// label names a property for people: beacon_score → Beacon score.
func label(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// crmSender builds a CRM destination's sender; nil for others.
func crmSender(sp Spec, deps Deps) (Sender, error) {
	if sp.Type != HubSpot && sp.Type != Salesforce {
		return nil, nil
	}
	return newSender(sp, deps.withDefaults(), newPacer(sp.RateLimit))
}
