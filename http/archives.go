package http

import (
	"errors"
	"net/http"
	"time"

	"github.com/wims/wims"
)

// Archives and replays (DESIGN §8): the same wims.ArchivePlatform the
// EventBridge wire API drives, in this API's JSON.

type archiveView struct {
	wims.Archive
	ARN string `json:"arn"`
}

func viewArchive(a wims.Archive) archiveView { return archiveView{a, a.ARN()} }

type replayView struct {
	wims.Replay
	ARN string `json:"arn"`
}

func viewReplay(r wims.Replay) replayView { return replayView{r, r.ARN()} }

// archiveRequest is the body of POST /archives and PUT /archives/{name}
// (which takes neither name nor eventBus).
type archiveRequest struct {
	Name          string   `json:"name"`
	EventBus      string   `json:"eventBus"`
	Description   string   `json:"description"`
	EventPattern  jsonText `json:"eventPattern"`
	RetentionDays int      `json:"retentionDays"`
}

func (s *Server) handleListArchives(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	archives, err := s.platform.ListArchives(r.Context(), wims.ArchiveFilter{NamePrefix: prefix, EventBus: r.URL.Query().Get("bus")})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Archives []archiveView `json:"archives"`
	}{viewAll(archives, viewArchive)})
}

func (s *Server) handleCreateArchive(w http.ResponseWriter, r *http.Request) error {
	var req archiveRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	a, err := s.platform.CreateArchive(r.Context(), wims.Archive{Name: req.Name, EventBus: req.EventBus,
		Description: req.Description, EventPattern: string(req.EventPattern), RetentionDays: req.RetentionDays})
	if err != nil {
		return archiveFields(err)
	}
	w.Header().Set("Location", location("archives", a.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewArchive(a))
}

// archiveFields names the members this API calls otherwise than AWS does.
func archiveFields(err error) error {
	switch wims.ErrorField(err) {
	case "ArchiveName":
		return renamed(err, "name")
	case "EventSourceArn":
		return renamed(err, "eventBus")
	}
	return err
}

func renamed(err error, field string) error {
	var we *wims.Error
	if !errors.As(err, &we) {
		return err
	}
	e := *we
	e.Field = field
	return namedError{&e}
}

func (s *Server) handleGetArchive(w http.ResponseWriter, r *http.Request) error {
	a, err := s.platform.DescribeArchive(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewArchive(a))
}

func (s *Server) handleUpdateArchive(w http.ResponseWriter, r *http.Request) error {
	var req archiveRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	for field, v := range map[string]string{"name": req.Name, "eventBus": req.EventBus} {
		if v != "" {
			return namedError{wims.FieldError(field, "cannot be changed (the path names the archive; delete and re-create it to move it)")}
		}
	}
	a, err := s.platform.UpdateArchive(r.Context(), wims.Archive{Name: r.PathValue("name"), Description: req.Description,
		EventPattern: string(req.EventPattern), RetentionDays: req.RetentionDays})
	if err != nil {
		return archiveFields(err)
	}
	return s.writeJSON(w, r, http.StatusOK, viewArchive(a))
}

func (s *Server) handleDeleteArchive(w http.ResponseWriter, r *http.Request) error {
	if err := s.platform.DeleteArchive(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// replayRequest is the body of POST /replays. The destination is the
// archive's bus; rules, if given, limit the replay to those rules (by name).
type replayRequest struct {
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	Archive        string    `json:"archive"`
	EventStartTime time.Time `json:"eventStartTime"`
	EventEndTime   time.Time `json:"eventEndTime"`
	Rules          []string  `json:"rules"`
}

func (s *Server) handleStartReplay(w http.ResponseWriter, r *http.Request) error {
	var req replayRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.Archive == "" {
		return namedError{wims.FieldError("archive", "is required")}
	}
	a, err := s.platform.DescribeArchive(r.Context(), req.Archive)
	if err != nil {
		return err
	}
	dest := wims.ReplayDestination{Arn: wims.BusARN(a.EventBus)}
	for _, name := range req.Rules {
		if !wims.ValidName(name) {
			return namedError{wims.FieldError("rules", "%q is not a rule name", name)}
		}
		dest.FilterArns = append(dest.FilterArns, wims.RuleARN(a.EventBus, name))
	}
	rp, err := s.platform.StartReplay(r.Context(), wims.Replay{Name: req.Name, Description: req.Description, Archive: a.Name,
		EventStartTime: req.EventStartTime, EventEndTime: req.EventEndTime, Destination: dest})
	if err != nil {
		switch wims.ErrorField(err) {
		case "ReplayName":
			return renamed(err, "name")
		case "Destination.FilterArns":
			return renamed(err, "rules")
		}
		return err
	}
	w.Header().Set("Location", location("replays", rp.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewReplay(rp))
}

func (s *Server) handleListReplays(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	replays, err := s.platform.ListReplays(r.Context(), wims.ReplayFilter{NamePrefix: prefix, Archive: q.Get("archive"), State: q.Get("state")})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Replays []replayView `json:"replays"`
	}{viewAll(replays, viewReplay)})
}

func (s *Server) handleGetReplay(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.platform.DescribeReplay(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewReplay(rp))
}

func (s *Server) handleCancelReplay(w http.ResponseWriter, r *http.Request) error {
	rp, err := s.platform.CancelReplay(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewReplay(rp))
}
