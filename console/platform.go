package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/wims/wims"
)

// Bounds of the platform page: a page of each list.
const (
	maxRulesShown   = 100 // per bus
	maxListShown    = 100 // archives, replays, schemas
	maxPlatformName = 512
)

// busView is one bus with its rules.
type busView struct {
	Bus   wims.EventBus
	Rules []ruleView
	More  bool // more rules than shown
}

// ruleView is one rule with its targets.
type ruleView struct {
	Rule    wims.Rule
	Targets []wims.Target
}

// platformView is the buses page's data.
type platformView struct {
	Buses    []busView
	Archives []wims.Archive
	Replays  []wims.Replay
	Schemas  []wims.Schema
	// HasSchemas says whether the console has a schema registry.
	HasSchemas bool
	More       map[string]bool // "archives", "replays", "schemas": more than shown
	CanAct     bool
	Changed    string // the rule whose state just changed
	Deleted    string // the rule just deleted
	// Bus is the new-bus form's values, BusErrors a refused one's errors,
	// BusDone what the last bus action did (e.g. "created bus x").
	Bus       wims.EventBus
	BusErrors formErrors
	BusDone   string
}

// handleBuses shows the event platform: buses, rules and targets,
// archives, replays and the discovered schemas.
func (h *Handler) handleBuses(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	v := platformView{CanAct: s.canAct(), Changed: r.URL.Query().Get("changed"), More: map[string]bool{}, HasSchemas: h.schemas != nil}
	if len(v.Changed) > maxPlatformName {
		v.Changed = ""
	}
	if v.Deleted = r.URL.Query().Get("deleted"); len(v.Deleted) > maxPlatformName {
		v.Deleted = ""
	}
	if v.BusDone = r.URL.Query().Get("bus-done"); len(v.BusDone) > maxPlatformName+20 {
		v.BusDone = ""
	}
	h.showBuses(w, r, s, http.StatusOK, v)
}

// showBuses renders the platform page with status, on top of v (the
// notices, or a refused new-bus form).
func (h *Handler) showBuses(w http.ResponseWriter, r *http.Request, s *session, status int, v platformView) {
	ctx := r.Context()
	v.CanAct, v.HasSchemas = s.canAct(), h.schemas != nil
	if v.More == nil {
		v.More = map[string]bool{}
	}
	buses, err := h.platform.ListEventBuses(ctx, "")
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	for _, b := range buses {
		rules, err := h.platform.ListRules(ctx, b.Name, "")
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		bv := busView{Bus: b}
		if len(rules) > maxRulesShown {
			rules, bv.More = rules[:maxRulesShown], true
		}
		for _, rule := range rules {
			targets, err := h.platform.ListTargetsByRule(ctx, b.Name, rule.Name)
			if err != nil {
				h.storeError(w, r, s, err)
				return
			}
			bv.Rules = append(bv.Rules, ruleView{Rule: rule, Targets: targets})
		}
		v.Buses = append(v.Buses, bv)
	}
	if v.Archives, err = h.platform.ListArchives(ctx, wims.ArchiveFilter{}); err == nil {
		v.Replays, err = h.platform.ListReplays(ctx, wims.ReplayFilter{})
	}
	if err == nil && h.schemas != nil {
		v.Schemas, err = h.schemas.ListSchemas(ctx, wims.SchemaFilter{Registry: wims.DiscoveredRegistry})
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if len(v.Archives) > maxListShown {
		v.Archives, v.More["archives"] = v.Archives[:maxListShown], true
	}
	if len(v.Replays) > maxListShown {
		v.Replays, v.More["replays"] = v.Replays[:maxListShown], true
	}
	if len(v.Schemas) > maxListShown {
		v.Schemas, v.More["schemas"] = v.Schemas[:maxListShown], true
	}
	h.renderView(w, r, status, "buses", view{
		Title: "Platform", Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}

// handleRuleState enables or disables a rule (admin only, CSRF-checked by
// viewer).
func (h *Handler) handleRuleState(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.canAct() {
		h.renderError(w, r, s, http.StatusForbidden, "Your role ("+string(s.role)+") may look but not change rules; log in with an admin key.")
		return
	}
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	bus, rule, state := r.PostForm.Get("bus"), r.PostForm.Get("rule"), r.PostForm.Get("state")
	if state != wims.RuleEnabled && state != wims.RuleDisabled {
		h.renderError(w, r, s, http.StatusBadRequest, "state must be ENABLED or DISABLED.")
		return
	}
	if bus == "" || rule == "" || len(bus) > maxPlatformName || len(rule) > maxPlatformName {
		h.renderError(w, r, s, http.StatusNotFound, "No such rule.")
		return
	}
	if err := h.platform.SetRuleState(r.Context(), bus, rule, state); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: rule state set", "bus", bus, "rule", rule, "state", state, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/buses?"+url.Values{"changed": {rule}}.Encode(), http.StatusSeeOther)
}

// schemaView is the schema page's data.
type schemaView struct {
	Schema  wims.Schema
	Content string // pretty-printed
}

// handleSchema shows a discovered schema's latest version.
func (h *Handler) handleSchema(w http.ResponseWriter, r *http.Request, s *session) {
	if h.schemas == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The schema registry is not available in this configuration.")
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > maxPlatformName {
		h.renderError(w, r, s, http.StatusNotFound, "No such schema.")
		return
	}
	sc, err := h.schemas.DescribeSchema(r.Context(), wims.DiscoveredRegistry, name, "")
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := schemaView{Schema: sc, Content: sc.Content}
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(sc.Content), "", "  ") == nil {
		v.Content = pretty.String()
	}
	h.renderView(w, r, http.StatusOK, "schema", view{
		Title: "Schema " + sc.Name, Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v,
	})
}
