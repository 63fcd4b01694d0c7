package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wims/wims"
)

func init() {
	pageNames = append(pageNames, "archives", "replay")
}

// archivesPerPage is the length of a page of archives and of replays.
const archivesPerPage = 50

var (
	archiveFields = map[string]string{
		"ArchiveName": "name", "EventSourceArn": "bus", "Description": "description", "EventPattern": "pattern", "RetentionDays": "retention",
	}
	replayFields = map[string]string{
		"ReplayName": "name", "Description": "description", "EventSourceArn": "archive", "EventStartTime": "start", "EventEndTime": "end",
		"Destination.Arn": "archive", "Destination.FilterArns": "rules",
	}
)

// timeLayouts are what the replay form's time fields accept: what a
// datetime-local control sends (read as UTC), and RFC 3339.
var timeLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", time.RFC3339Nano}

// formTimeLayout writes a time for a datetime-local control (UTC).
const formTimeLayout = "2006-01-02T15:04:05"

func parseFormTime(s, field string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, wims.FieldError(field, "is required")
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, wims.FieldError(field, "must be a time such as 2026-12-03T09:30:00 (UTC)")
}

// replayForm is the start-replay form's values, as typed.
type replayForm struct {
	Name, Description, Archive, Start, End string
	Rules                                  []string // rule ARNs; none: every rule of the bus
}

// archivesView is the archives page: archives and replays, a page each,
// and the forms that create an archive and start a replay.
type archivesView struct {
	Archives []wims.Archive
	Replays  []wims.Replay
	// AllArchives are the replay form's choices, Rules its rule choices
	// (every bus's), Buses the archive form's.
	AllArchives      []wims.Archive
	Rules            []wims.Rule
	Buses            []wims.EventBus
	ArchPages        pageLinks
	ReplayPages      pageLinks
	Archive          wims.Archive
	Retention        string
	ArchiveErrors    formErrors
	Replay           replayForm
	ReplayErrors     formErrors
	Done             string
	CanAct           bool
	SelectedRuleARNs map[string]bool
}

// handleArchives shows the archives and replays with their forms.
func (h *Handler) handleArchives(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	now := time.Now().UTC()
	v := archivesView{Archive: wims.Archive{EventBus: wims.DefaultBus}, Retention: "0", Done: r.URL.Query().Get("done"),
		Replay: replayForm{Start: now.Add(-24 * time.Hour).Format(formTimeLayout), End: now.Add(time.Minute).Format(formTimeLayout)}}
	if len(v.Done) > maxPlatformName {
		v.Done = ""
	}
	h.showArchives(w, r, s, http.StatusOK, v)
}

func (h *Handler) showArchives(w http.ResponseWriter, r *http.Request, s *session, status int, v archivesView) {
	ctx := r.Context()
	q := r.URL.Query()
	archives, err := h.platform.ListArchives(ctx, wims.ArchiveFilter{})
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	replays, err := h.platform.ListReplays(ctx, wims.ReplayFilter{})
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if v.Buses, err = h.platform.ListEventBuses(ctx, ""); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	for _, b := range v.Buses {
		rules, err := h.platform.ListRules(ctx, b.Name, "")
		if err != nil {
			h.storeError(w, r, s, err)
			return
		}
		v.Rules = append(v.Rules, rules...)
	}
	// The newest replays first: the one just started is the one to watch.
	slices.SortStableFunc(replays, func(a, b wims.Replay) int { return b.ReplayStartTime.Compare(a.ReplayStartTime) })
	ap, _ := strconv.Atoi(q.Get("apage"))
	rp, _ := strconv.Atoi(q.Get("rpage"))
	link := func(key string, other int, otherKey string) func(int) string {
		return func(p int) string {
			return "/ui/archives?" + url.Values{key: {strconv.Itoa(p)}, otherKey: {strconv.Itoa(other)}}.Encode()
		}
	}
	from, to, links := pageOf(len(archives), max(ap, 0), archivesPerPage, link("apage", rp, "rpage"))
	v.AllArchives, v.Archives, v.ArchPages = archives, archives[from:to], links
	from, to, links = pageOf(len(replays), max(rp, 0), archivesPerPage, link("rpage", ap, "apage"))
	v.Replays, v.ReplayPages = replays[from:to], links
	v.SelectedRuleARNs = map[string]bool{}
	for _, arn := range v.Replay.Rules {
		v.SelectedRuleARNs[arn] = true
	}
	v.CanAct = s.canAct()
	h.renderView(w, r, status, "archives", view{Title: "Archives and replays", Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v})
}

// handleArchiveCreate creates an archive through CreateArchive.
func (h *Handler) handleArchiveCreate(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "create archives") {
		return
	}
	f := r.PostForm
	a := wims.Archive{Name: strings.TrimSpace(f.Get("name")), EventBus: f.Get("bus"), Description: f.Get("description"), EventPattern: strings.TrimSpace(f.Get("pattern"))}
	retention := strings.TrimSpace(f.Get("retention"))
	var err error
	if retention != "" {
		if a.RetentionDays, err = strconv.Atoi(retention); err != nil {
			err = wims.FieldError("RetentionDays", "must be a whole number of days (0: forever)")
		}
	}
	if err == nil {
		_, err = h.platform.CreateArchive(r.Context(), a)
	}
	if isClientError(err) {
		v := archivesView{Archive: a, Retention: retention, ArchiveErrors: newFormErrors(err, archiveFields)}
		if wims.ErrorCode(err) == wims.ECONFLICT {
			v.ArchiveErrors = formErrors{Fields: map[string]string{"name": wims.ErrorMessage(err)}}
		}
		h.showArchives(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: archive created", "archive", a.Name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/archives?"+url.Values{"done": {"created archive " + a.Name}}.Encode(), http.StatusSeeOther)
}

// handleArchiveDelete deletes an archive and its events after a
// confirmation.
func (h *Handler) handleArchiveDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "delete archives") {
		return
	}
	name := r.PostForm.Get("name")
	ctx := r.Context()
	a, err := h.platform.DescribeArchive(ctx, name)
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	if r.PostForm.Get("confirm") != "1" {
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Delete archive " + name + "?",
			Detail:   "Its " + group(a.EventCount) + " archived events are deleted with it and can no longer be replayed.",
			Action:   "/ui/archives/delete", Button: "Delete archive " + name, Back: "/ui/archives",
			Fields: []headerRow{{"name", name}},
		})
		return
	}
	if err := h.platform.DeleteArchive(ctx, name); err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: archive deleted", "archive", name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/archives?"+url.Values{"done": {"deleted archive " + name}}.Encode(), http.StatusSeeOther)
}

// handleReplayStart starts a replay through StartReplay, to the archive's
// own bus (the only destination EventBridge allows), optionally only to
// the chosen rules.
func (h *Handler) handleReplayStart(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "start replays") {
		return
	}
	f := r.PostForm
	form := replayForm{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), Archive: f.Get("archive"),
		Start: f.Get("start"), End: f.Get("end"), Rules: f["rules"]}
	ctx := r.Context()
	rp := wims.Replay{Name: form.Name, Description: form.Description, Archive: form.Archive, Destination: wims.ReplayDestination{FilterArns: form.Rules}}
	var err error
	if rp.EventStartTime, err = parseFormTime(form.Start, "EventStartTime"); err == nil {
		rp.EventEndTime, err = parseFormTime(form.End, "EventEndTime")
	}
	if err == nil {
		var a wims.Archive
		if a, err = h.platform.DescribeArchive(ctx, form.Archive); err == nil {
			rp.Destination.Arn = wims.BusARN(a.EventBus)
			_, err = h.platform.StartReplay(ctx, rp)
		} else if wims.ErrorCode(err) == wims.ENOTFOUND {
			err = wims.FieldError("EventSourceArn", "%s", wims.ErrorMessage(err))
		}
	}
	if isClientError(err) {
		v := archivesView{Archive: wims.Archive{EventBus: wims.DefaultBus}, Retention: "0", Replay: form, ReplayErrors: newFormErrors(err, replayFields)}
		if wims.ErrorCode(err) == wims.ECONFLICT {
			v.ReplayErrors = formErrors{Fields: map[string]string{"name": wims.ErrorMessage(err)}}
		}
		h.showArchives(w, r, s, http.StatusBadRequest, v)
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(ctx, "console: replay started", "replay", rp.Name, "archive", rp.Archive, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/replays/"+url.PathEscape(rp.Name), http.StatusSeeOther)
}

// replayProgress is a replay's progress as the replay page shows it and
// its stream sends it (written into the page as text).
type replayProgress struct {
	State        string `json:"state"`
	Reason       string `json:"reason"`
	Replayed     string `json:"replayed"`
	Checkpoint   uint64 `json:"checkpoint"`
	EndSeq       uint64 `json:"endSeq"`
	LastReplayed string `json:"lastReplayed"`
	Ended        string `json:"ended"`
	Done         bool   `json:"done"`
}

func newReplayProgress(rp wims.Replay) replayProgress {
	return replayProgress{State: rp.State, Reason: rp.StateReason, Replayed: group(rp.Replayed), Checkpoint: min(rp.Checkpoint, rp.EndSeq), EndSeq: rp.EndSeq,
		LastReplayed: formatTime(rp.EventLastReplayedTime), Ended: formatTime(rp.ReplayEndTime), Done: rp.Done()}
}

// replayView is the replay page.
type replayView struct {
	Replay   wims.Replay
	Progress replayProgress
	CanAct   bool
	Stream   string
}

// handleReplay shows one replay, kept live by its stream until it ends.
func (h *Handler) handleReplay(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		h.renderError(w, r, s, http.StatusServiceUnavailable, "The event platform is not available in this configuration.")
		return
	}
	rp, err := h.platform.DescribeReplay(r.Context(), r.PathValue("name"))
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	v := replayView{Replay: rp, Progress: newReplayProgress(rp), CanAct: s.canAct() && !rp.Done()}
	if !rp.Done() {
		v.Stream = "/ui/replays/" + url.PathEscape(rp.Name) + "/stream"
	}
	h.renderView(w, r, http.StatusOK, "replay", view{Title: "Replay " + rp.Name, Nav: "buses", Session: s, LoginNeeded: h.keys.enabled(), Data: v})
}

// handleReplayStream sends the replay's progress every interval as
// server-sent events ("progress"), until it ends, the client goes, the
// session ends or the server shuts down.
func (h *Handler) handleReplayStream(w http.ResponseWriter, r *http.Request, s *session) {
	if h.platform == nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	name := r.PathValue("name")
	select {
	case <-h.closing:
		w.WriteHeader(http.StatusNoContent) // an EventSource stops reconnecting
		return
	default:
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	ctx := r.Context()
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		rp, err := h.platform.DescribeReplay(ctx, name)
		if err != nil {
			if ctx.Err() == nil && wims.ErrorCode(err) != wims.ENOTFOUND {
				h.log.WarnContext(ctx, "console: replay stream", "replay", name, "err", err)
			}
			return
		}
		p := newReplayProgress(rp)
		data, err := json.Marshal(p)
		if err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10*h.interval + 5*time.Second))
		if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", data); err != nil {
			return
		}
		if err := rc.Flush(); err != nil || p.Done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.closing:
			return
		case <-tick.C:
		}
		if h.sessions.getByID(s.id) == nil {
			return
		}
	}
}

// handleReplayCancel cancels a running replay after a confirmation.
func (h *Handler) handleReplayCancel(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.mayAct(w, r, s, "cancel replays") {
		return
	}
	name := r.PathValue("name")
	if r.PostForm.Get("confirm") != "1" {
		h.confirm(w, r, s, "buses", confirmView{
			Question: "Cancel replay " + name + "?",
			Detail:   "The events replayed so far stay delivered; the rest are not sent.",
			Action:   "/ui/replays/" + url.PathEscape(name) + "/cancel", Button: "Cancel replay " + name, Back: "/ui/replays/" + url.PathEscape(name),
		})
		return
	}
	_, err := h.platform.CancelReplay(r.Context(), name)
	if wims.ErrorCode(err) == wims.ECONFLICT {
		h.renderError(w, r, s, http.StatusConflict, wims.ErrorMessage(err))
		return
	}
	if err != nil {
		h.storeError(w, r, s, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: replay cancelled", "replay", name, "key", s.fingerprint, "role", s.role)
	http.Redirect(w, r, "/ui/replays/"+url.PathEscape(name), http.StatusSeeOther)
}
