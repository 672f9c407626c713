package stream

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// DNS rebinding: a page on evil.example whose name the attacker points at
// this machine's address becomes same-origin with it, and a browser on the
// home network sends its commands with Origin and Host both evil.example.
// Cross-origin checks cannot see that; the Host header can. Commands are
// obeyed only for the names a screen or a phone really uses: an address,
// localhost, a .local name (mDNS), the machine's host name, and those an
// operator lists (--allowed-hosts).

// hostAllowed reports whether the Host of a request (with or without a
// port) is one that commands may be sent to. An entry of allowed matches
// the name exactly, or every name under it when it starts with "*." (or
// ".").
func hostAllowed(host string, allowed []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") {
		return true
	}
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if sub, ok := strings.CutPrefix(a, "*"); ok || strings.HasPrefix(a, ".") {
			if !ok {
				sub = a
			}
			if strings.HasSuffix(host, sub) && len(host) > len(sub) {
				return true
			}
			continue
		}
		if host == a {
			return true
		}
	}
	return false
}

// checkHost refuses requests whose Host names this machine by a name no
// one here gave it (403, with the reason).
func checkHost(next http.Handler, allowed []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, allowed) {
			http.Error(w, "commands are not taken for the host name "+quoteName(r.Host)+
				": use the address, localhost, a .local name or the machine's name, or add it to --allowed-hosts", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// quoteName quotes a name from a request for a message, control
// characters escaped and at most 100 bytes of it.
func quoteName(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}
