package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wims/wims"
)

func init() {
	pageNames = append(pageNames, "rule-form")
}

// ruleFields maps the domain's field names (wims.Rule.Validate, the pattern
// compiler) to the rule form's fields.
var ruleFields = map[string]string{
	"Name": "name", "EventBusName": "bus", "EventPattern": "pattern", "State": "state", "Description": "description",
}

// targetFields maps the domain's target field names to the target form's.
var targetFields = map[string]string{
	"Id": "id", "Arn": "arn", "Input": "input", "InputPath": "input-path",
	"RetryPolicy.MaximumRetryAttempts": "max-retries", "RetryPolicy.MaximumEventAgeInSeconds": "max-age",
	"DeadLetterConfig.Arn": "dlq-arn",
}

// targetForm is the target form's values, as text.
type targetForm struct {
	ID, Arn, Input, InputPath, MaxRetries, MaxAge, DLQArn string
}

func newTargetForm(t wims.Target) targetForm {
	f := targetForm{ID: t.ID, Arn: t.Arn, Input: t.Input, InputPath: t.InputPath}
	if p := t.RetryPolicy; p != nil {
		if p.MaximumRetryAttempts != nil {
			f.MaxRetries = strconv.Itoa(*p.MaximumRetryAttempts)
		}
		if p.MaximumEventAgeInSeconds != nil {
			f.MaxAge = strconv.Itoa(*p.MaximumEventAgeInSeconds)
		}
	}
	if t.DeadLetterConfig != nil {
		f.DLQArn = t.DeadLetterConfig.Arn
	}
	return f
}

// target turns the form into a target; a number that is not one is a field
// error of the number's field.
func (f targetForm) target(bus, rule string) (wims.Target, error) {
	t := wims.Target{Rule: rule, EventBusName: bus, ID: f.ID, Arn: f.Arn, Input: f.Input, InputPath: f.InputPath}
	num := func(s, field string) (*int, error) {
		if s == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, wims.FieldError(field, "must be a whole number")
		}
		return &n, nil
	}
	a, err := num(f.MaxRetries, "RetryPolicy.MaximumRetryAttempts")
	if err != nil {
		return t, err
	}
	age, err := num(f.MaxAge, "RetryPolicy.MaximumEventAgeInSeconds")
	if err != nil {
		return t, err
	}
	if a != nil || age != nil {
		t.RetryPolicy = &wims.RetryPolicy{MaximumRetryAttempts: a, MaximumEventAgeInSeconds: age}
	}
	if f.DLQArn != "" {
		t.DeadLetterConfig = &wims.DeadLetterConfig{Arn: f.DLQArn}
	}
	return t, nil
}

// ruleFormView is the rule page: the rule's form and, for an existing
// rule, its targets with the target form.
type ruleFormView struct {
	New   bool // creating, else editing
	Rule  wims.Rule
	Buses []wims.EventBus
	// Errors are the rule form's, TargetErrors the target form's.
	Errors       formErrors
	Targets      []wims.Target
	Target       targetForm
	TargetErrors formErrors
	EditTarget   bool // the target form edits an existing target
	Saved        string
	CanAct       bool
	MaxTargets   int
}

// handleRuleForm shows the form of a new rule (no rule parameter) or of
// an existing one with its targets.
func (h *Handler) handleRuleForm(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	q := r.URL.Query()
	v := ruleFormView{New: q.Get("rule") == "", Rule: wims.Rule{EventBusName: q.Get("bus"), State: wims.RuleEnabled}, Saved: q.Get("saved")}
	if v.Rule.EventBusName == "" {
		v.Rule.EventBusName = wims.DefaultBus
	}
	if !v.New {
		rule, err := h.platform.DescribeRule(r.Context(), v.Rule.EventBusName, q.Get("rule"))
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		v.Rule = rule
	}
	if id := q.Get("target"); id != "" && !v.New {
		v.EditTarget = true
		v.Target.ID = id
	}
	h.showRuleForm(w, r, s, http.StatusOK, v)
}

// showRuleForm renders v, with the buses and (for an existing rule) the
// targets read fresh.
func (h *Handler) showRuleForm(w http.ResponseWriter, r *http.Request, s *session, status int, v ruleFormView) {
	ctx := r.Context()
	var err error
	if v.Buses, err = h.platform.ListEventBuses(ctx, ""); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if !v.New {
		if v.Targets, err = h.platform.ListTargetsByRule(ctx, v.Rule.EventBusName, v.Rule.Name); err != nil && wims.ErrorCode(err) != wims.ENOTFOUND {
			h.storeError(w, r, s, err)
			return
		}
		if v.EditTarget && !v.TargetErrors.Any() {
			for _, t := range v.Targets {
				if t.ID == v.Target.ID {
					v.Target = newTargetForm(t)
				}
			}
		}
	}
	v.CanAct, v.MaxTargets = s.canAct(), wims.MaxTargetsPerRule
	title := "New rule"
	if !v.New {
		title = "Rule " + v.Rule.Name
	}
	h.renderView(w, r, status, "rule-form", view{Title: title, Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v})
}

// ruleURL is the page of a rule.
func ruleURL(bus, rule string, extra ...string) string {
	q := url.Values{"bus": {bus}, "rule": {rule}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/ui/rules/edit?" + q.Encode()
}

// handleRuleSave creates (mode=create) or replaces a rule through PutRule,
// so the pattern compiler's error shows at the pattern field and nothing
// is written. A create never replaces an existing rule of that name.
func (h *Handler) handleRuleSave(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "change rules") {
		return
	}
	f := r.PostForm
	v := ruleFormView{New: f.Get("mode") == "create", Rule: wims.Rule{
		Name: strings.TrimSpace(f.Get("name")), EventBusName: f.Get("bus"), EventPattern: f.Get("pattern"),
		State: f.Get("state"), Description: f.Get("description"),
	}}
	ctx := r.Context()
	old, err := h.platform.DescribeRule(ctx, v.Rule.EventBusName, v.Rule.Name)
	switch {
	case err == nil && v.New:
		v.Errors = formErrors{Fields: map[string]string{"name": "already exists on this bus: edit that rule instead"}}
		h.showRuleForm(w, r, s, http.StatusConflict, v)
		return
	case err == nil:
		v.Rule.ManagedBy = old.ManagedBy // the form does not change who manages the rule
	case wims.ErrorCode(err) == wims.ENOTFOUND && !v.New:
		h.storeError(w, r, s, err)
		return
	case wims.ErrorCode(err) != wims.ENOTFOUND && !isClientError(err):
		h.storeError(w, r, s, err)
		return
	}
	saved, err := h.platform.PutRule(ctx, v.Rule)
	if isClientError(err) {
		v.Errors = newFormErrors(err, ruleFields)
		h.showRuleForm(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: rule saved", "bus", saved.EventBusName, "rule", saved.Name, "new", v.New, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, ruleURL(saved.EventBusName, saved.Name, "saved", "saved the rule"), http.StatusSeeOther)
}

// handleRuleDelete deletes a rule and its targets after a confirmation.
// Rules wims manages are refused: the next start would recreate them.
func (h *Handler) handleRuleDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "delete rules") {
		return
	}
	bus, name := r.PostForm.Get("bus"), r.PostForm.Get("rule")
	ctx := r.Context()
	rule, err := h.platform.DescribeRule(ctx, bus, name)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if rule.ManagedBy != "" {
		h.renderError(w, r, s, http.StatusConflict, "Rule "+name+" is managed by "+rule.ManagedBy+" (built in or from --config): disable it instead, or change the configuration.")
		return
	}
	if r.PostForm.Get("confirm") != "1" {
		targets, err := h.platform.ListTargetsByRule(ctx, bus, name)
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Delete rule " + name + "?",
			Detail:   "Deleting rule " + name + " of bus " + bus + " also removes its " + strconv.Itoa(len(targets)) + " target(s); events stop going to them.",
			Action:   "/ui/rules/delete", Button: "Delete rule " + name, Back: ruleURL(bus, name),
			Fields: []headerRow{{"bus", bus}, {"rule", name}},
		})
		return
	}
	if err := h.platform.DeleteRule(ctx, bus, name, true); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: rule deleted", "bus", bus, "rule", name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/buses?"+url.Values{"deleted": {name}}.Encode(), http.StatusSeeOther)
}

// handleTargetSave adds or replaces a target of a rule through PutTargets.
func (h *Handler) handleTargetSave(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "change targets") {
		return
	}
	f := r.PostForm
	bus, name := f.Get("bus"), f.Get("rule")
	ctx := r.Context()
	rule, err := h.platform.DescribeRule(ctx, bus, name)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := ruleFormView{Rule: rule, EditTarget: f.Get("edit") == "1", Target: targetForm{
		ID: strings.TrimSpace(f.Get("id")), Arn: strings.TrimSpace(f.Get("arn")), Input: f.Get("input"), InputPath: f.Get("input-path"),
		MaxRetries: strings.TrimSpace(f.Get("max-retries")), MaxAge: strings.TrimSpace(f.Get("max-age")), DLQArn: strings.TrimSpace(f.Get("dlq-arn")),
	}}
	t, err := v.Target.target(rule.EventBusName, rule.Name)
	if err == nil {
		// PutTargets checks the same, but reports a failure without its
		// field; the domain's own check first puts the error at the field.
		err = t.Validate()
	}
	var failures []wims.TargetFailure
	if err == nil {
		failures, err = h.platform.PutTargets(ctx, rule.EventBusName, rule.Name, []wims.Target{t})
	}
	if err == nil && len(failures) > 0 {
		err = wims.Errorf(wims.EINVALID, "%s", failures[0].ErrorMessage)
	}
	if isClientError(err) {
		v.TargetErrors = newFormErrors(err, targetFields)
		h.showRuleForm(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: target saved", "bus", rule.EventBusName, "rule", rule.Name, "target", t.ID, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, ruleURL(rule.EventBusName, rule.Name, "saved", "saved target "+t.ID), http.StatusSeeOther)
}

// handleTargetRemove removes a target of a rule after a confirmation.
func (h *Handler) handleTargetRemove(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "change targets") {
		return
	}
	f := r.PostForm
	bus, name, id := f.Get("bus"), f.Get("rule"), f.Get("id")
	ctx := r.Context()
	if _, err := h.platform.DescribeRule(ctx, bus, name); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if f.Get("confirm") != "1" {
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Remove target " + id + "?",
			Detail:   "Rule " + name + " stops sending events to target " + id + ".",
			Action:   "/ui/rules/targets/remove", Button: "Remove target " + id, Back: ruleURL(bus, name),
			Fields: []headerRow{{"bus", bus}, {"rule", name}, {"id", id}},
		})
		return
	}
	failures, err := h.platform.RemoveTargets(ctx, bus, name, []string{id})
	if err == nil && len(failures) > 0 {
		err = wims.Errorf(wims.ENOTFOUND, "%s", failures[0].ErrorMessage)
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: target removed", "bus", bus, "rule", name, "target", id, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, ruleURL(bus, name, "saved", "removed target "+id), http.StatusSeeOther)
}
