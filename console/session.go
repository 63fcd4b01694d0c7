package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	wimshttp "github.com/wims/wims/http"
)

// sessionCookie names the cookie that holds a session id.
const sessionCookie = "wims_console"

// maxSessions bounds the sessions kept, so that clients that never log in
// (each gets a session for its login form's CSRF token) cannot exhaust
// memory: beyond it, expired sessions and then the oldest are dropped.
const maxSessions = 10_000

// preLoginTTL is how long a session without a login lasts: enough to fill
// in the login form.
const preLoginTTL = 30 * time.Minute

// session is what the server knows about a cookie: who logged in (role ""
// before login) and the token every form of the session must carry.
type session struct {
	id          string
	role        wimshttp.Role
	fingerprint string // the key's fingerprint, for logs and the header; "" without keys
	csrf        string
	created     time.Time
	expires     time.Time
}

// loggedIn reports whether the session may see the console.
func (s *session) loggedIn() bool { return s.role != "" }

// canAct reports whether the session may change things (admin only).
func (s *session) canAct() bool { return s.role == wimshttp.RoleAdmin }

// seesCustomers reports whether the session may see customer identifiers;
// read may not, as in the API.
func (s *session) seesCustomers() bool { return s.role != wimshttp.RoleRead }

// seesLogs reports whether the session may read the event log and the
// dead letters: orders (the shop front end's key) may not, as in the API.
func (s *session) seesLogs() bool { return s.role != wimshttp.RoleOrders }

// validCSRF compares a submitted token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// sessions is the server-side session table: cookie id → session.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, now: time.Now, byID: map[string]*session{}}
}

// randomToken returns 32 random bytes, base64url: unguessable ids and tokens.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// get returns r's live session, or nil.
func (ss *sessions) get(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return ss.getByID(c.Value)
}

// start creates a session for role (or "" before login), sets its cookie
// on w and returns it. A login always starts a new session, so an id
// planted before login (session fixation) is worth nothing after it.
func (ss *sessions) start(w http.ResponseWriter, r *http.Request, role wimshttp.Role, fingerprint string) *session {
	now := ss.now()
	ttl := ss.ttl
	if role == "" {
		ttl = min(ttl, preLoginTTL)
	}
	s := &session{id: randomToken(), role: role, fingerprint: fingerprint, csrf: randomToken(), created: now, expires: now.Add(ttl)}
	ss.mu.Lock()
	if len(ss.byID) >= maxSessions {
		ss.evictLocked(now)
	}
	ss.byID[s.id] = s
	ss.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.id, Path: "/", Expires: s.expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	cp := *s
	return &cp
}

// forget drops r's session, if any, from the table.
func (ss *sessions) forget(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		ss.mu.Lock()
		delete(ss.byID, c.Value)
		ss.mu.Unlock()
	}
}

// end forgets r's session and clears its cookie.
func (ss *sessions) end(w http.ResponseWriter, r *http.Request) {
	ss.forget(r)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// evictLocked drops the expired sessions and, if none had expired, the
// oldest one.
func (ss *sessions) evictLocked(now time.Time) {
	var oldest *session
	for id, s := range ss.byID {
		if !now.Before(s.expires) {
			delete(ss.byID, id)
			continue
		}
		if oldest == nil || s.created.Before(oldest.created) {
			oldest = s
		}
	}
	if len(ss.byID) >= maxSessions && oldest != nil {
		delete(ss.byID, oldest.id)
	}
}

// getByID returns the live session with id, or nil.
func (ss *sessions) getByID(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	if s == nil || !ss.now().Before(s.expires) {
		return nil
	}
	cp := *s
	return &cp
}
