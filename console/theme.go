package console

import "net/http"

// themeCookie holds the theme chosen with the header's toggle. console.js
// writes it (with localStorage) on a click; the server reads it so that the
// page's first paint is already in that theme, without an inline script.
const themeCookie = "wims_theme"

// themeOf returns r's chosen theme, "light" or "dark", or "" (follow the
// system). Any other value is ignored: it is written into the page.
func themeOf(r *http.Request) string {
	c, err := r.Cookie(themeCookie)
	if err != nil {
		return ""
	}
	switch c.Value {
	case "light", "dark":
		return c.Value
	}
	return ""
}
